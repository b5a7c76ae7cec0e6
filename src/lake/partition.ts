// Atomic partition commits, the same on a local folder and on S3: data files are written under names
// unique to the commit, then one object, the `_SUCCESS` marker, is written holding the manifest (the
// list of files). Readers go through the manifest, so they see the old partition or the new one and
// never a half; files of a crashed write are listed by no manifest and are removed by a later commit.
// The previous commit's files are kept one generation so that a reader still on it can finish. Two
// commits of one partition may run at once (a backfill's date and the daily job's, or a retry while
// the first attempt still runs): the last marker written wins, and neither deletes the other's files,
// because files listed by no manifest are removed only once their commit is older than a grace period.
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { keySegments } from './contain.js';
import { joinKey, type Lake, LakeNotFoundError } from './lake.js';

export const COMMIT_MARKER = '_SUCCESS';

export interface ManifestFile {
  name: string;
  size: number;
}

export interface PartitionManifest {
  commitId: string;
  committedAt: string;
  files: ManifestFile[];
  /** Whatever the writer records with the commit (row count, schema version, run id, hash...). */
  meta: Record<string, unknown>;
}

export interface StagedFile {
  localPath: string;
}

/** Files of a commit younger than this are never removed by another commit: it may still be writing. */
export const STRAY_FILE_GRACE_MS = 60 * 60 * 1000;

export function newCommitId(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/** When the commit that wrote a data file started, from its name (`part-<i>-<commitId><ext>`); null for other names. */
function commitTimeOf(name: string): number | null {
  const m = /^part-\d+-([0-9a-z]+)[0-9a-f]{8}\.[^/]+$/.exec(name);
  return m ? parseInt(m[1]!, 36) : null;
}

/** A marker that does not parse or does not hold a manifest; the message names it and says what is wrong. */
export class CorruptManifestError extends Error {
  override name = 'CorruptManifestError';
  readonly nonRetryable = true;
  constructor(
    readonly key: string,
    lakeUri: string,
    detail: string,
  ) {
    super(`corrupt commit marker ${key} in lake ${lakeUri}: ${detail}`);
  }
}

/**
 * A manifest's file names are keys relative to the marker's folder (a partition's own files, or a
 * date marker's `event_type=<t>/<file>`), none of which may leave it.
 */
const manifestSchema = z.object({
  commitId: z.string().min(1),
  committedAt: z.string(),
  files: z.array(
    z.object({
      name: z.string().superRefine((v, ctx) => {
        try {
          keySegments(v, 'file name');
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: (e as Error).message });
        }
      }),
      size: z.number().int().nonnegative(),
    }),
  ),
  meta: z.record(z.string(), z.unknown()).default({}),
});

/** The first problem zod found, as `path: message`. */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}

/**
 * The manifest of the marker at `prefix`, checked (CorruptManifestError naming the marker); null when
 * there is no marker. An empty marker (an upstream writer's) lists every data file in the folder.
 */
export async function readManifest(lake: Lake, prefix: string): Promise<PartitionManifest | null> {
  let raw: Buffer;
  try {
    raw = await lake.read(joinKey(prefix, COMMIT_MARKER));
  } catch (e) {
    if (e instanceof LakeNotFoundError) return null;
    throw e;
  }
  const text = raw.toString('utf8').trim();
  if (text === '') {
    // An upstream writer's empty marker (Spark/Hive style): the partition is every data file in it.
    const files = (await lake.list(prefix))
      .filter((e) => !e.key.slice(prefix.length + 1).includes('/') && e.key.endsWith('.parquet'))
      .map((e) => ({ name: basename(e.key), size: e.size }));
    return { commitId: 'external', committedAt: '', files, meta: {} };
  }
  const key = joinKey(prefix, COMMIT_MARKER);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CorruptManifestError(key, lake.uri, `not JSON (${(e as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) throw new CorruptManifestError(key, lake.uri, firstIssue(parsed.error));
  return parsed.data;
}

/** Keys of the committed data files of a partition, or null when it is not committed. */
export async function committedFiles(lake: Lake, prefix: string): Promise<string[] | null> {
  const m = await readManifest(lake, prefix);
  return m ? m.files.map((f) => joinKey(prefix, f.name)) : null;
}

export interface CommitOptions {
  /** Data file extension (default `.parquet`). */
  extension?: string;
  /** Age below which another commit's unlisted files are left alone (default STRAY_FILE_GRACE_MS). */
  strayGraceMs?: number;
}

export async function commitPartition(
  lake: Lake,
  prefix: string,
  files: StagedFile[],
  meta: Record<string, unknown> = {},
  opts: CommitOptions = {},
): Promise<PartitionManifest> {
  const extension = opts.extension ?? '.parquet';
  const grace = opts.strayGraceMs ?? STRAY_FILE_GRACE_MS;
  // A corrupt marker is replaced by this commit; any other failure to read it (I/O) fails the commit,
  // rather than deleting the previous generation under readers that may still be on it.
  const previous = await readManifest(lake, prefix).catch((e: unknown) => {
    if (e instanceof CorruptManifestError) return null;
    throw e;
  });
  const commitId = newCommitId();
  const written: ManifestFile[] = [];
  for (const [i, f] of files.entries()) {
    const name = `part-${i}-${commitId}${extension}`;
    await lake.upload(f.localPath, joinKey(prefix, name));
    written.push({ name, size: (await stat(f.localPath)).size });
  }
  const manifest: PartitionManifest = { commitId, committedAt: new Date().toISOString(), files: written, meta };
  await lake.write(joinKey(prefix, COMMIT_MARKER), JSON.stringify(manifest, null, 1));
  const keep = new Set([...written, ...(previous?.files ?? [])].map((f) => f.name));
  keep.add(COMMIT_MARKER);
  const cutoff = Date.now() - grace;
  for (const e of await lake.list(prefix)) {
    const name = e.key.slice(prefix.length + 1);
    if (name.includes('/') || keep.has(name)) continue;
    const started = commitTimeOf(name);
    if (started === null || started < cutoff) await lake.delete(e.key);
  }
  return manifest;
}

/** Removes a partition: the marker first, so that readers stop seeing it at once. */
export async function deletePartition(lake: Lake, prefix: string): Promise<void> {
  await lake.delete(joinKey(prefix, COMMIT_MARKER));
  await lake.deletePrefix(prefix);
}
