// Atomic partition commits, the same on a local folder and on S3: data files are written under names
// unique to the commit, then one object, the `_SUCCESS` marker, is written holding the manifest (the
// list of files). Readers go through the manifest, so they see the old partition or the new one and
// never a half; files of a crashed write are listed by no manifest and are removed by the next commit.
// The previous commit's files are kept one generation so that a reader still on it can finish.
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { stat } from 'node:fs/promises';
import { LakeNotFoundError, joinKey, type Lake } from './lake.js';

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

export function newCommitId(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

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
  try {
    return JSON.parse(text) as PartitionManifest;
  } catch {
    throw new Error(`corrupt commit marker ${joinKey(prefix, COMMIT_MARKER)} in lake ${lake.uri}`);
  }
}

/** Keys of the committed data files of a partition, or null when it is not committed. */
export async function committedFiles(lake: Lake, prefix: string): Promise<string[] | null> {
  const m = await readManifest(lake, prefix);
  return m ? m.files.map((f) => joinKey(prefix, f.name)) : null;
}

export async function commitPartition(
  lake: Lake,
  prefix: string,
  files: StagedFile[],
  meta: Record<string, unknown> = {},
  extension = '.parquet',
): Promise<PartitionManifest> {
  const previous = await readManifest(lake, prefix).catch(() => null);
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
  for (const e of await lake.list(prefix)) {
    const name = e.key.slice(prefix.length + 1);
    if (!name.includes('/') && !keep.has(name)) await lake.delete(e.key);
  }
  return manifest;
}

/** Removes a partition: the marker first, so that readers stop seeing it at once. */
export async function deletePartition(lake: Lake, prefix: string): Promise<void> {
  await lake.delete(joinKey(prefix, COMMIT_MARKER));
  await lake.deletePrefix(prefix);
}
