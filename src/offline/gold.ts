// The gold writer: a family's staged rows for a date rewritten into gold/<family>/feature_date=D as
// one atomic partition commit (sorted by key, compressed, files sized for the data), with a manifest
// recording the rows, the registry schema version, the run and a content hash. Rewriting identical
// content is a no-op, so a retried or repeated commit costs one hash query.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Engine, type EngineOptions, sqlIdent, sqlList, sqlStr, withEngine } from '../engine/duckdb.js';
import type { FamilyDecl } from '../features/types.js';
import { commitPartition, committedFiles, deletePartition, type Lake, type PartitionManifest, partitionValue, paths, readManifest } from '../lake/index.js';
import { type FamilySchema, schemaFromDecl } from '../registry/schema.js';
import { getSchema } from '../registry/store.js';
import { assertDate, sqlAsOf } from '../shared/dates.js';
import { GoldInputError } from './errors.js';
import { localFiles } from './lake-files.js';

export type GoldCompression = 'zstd' | 'snappy';

/** What a gold partition's manifest records besides its files. */
export interface GoldManifestMeta {
  family: string;
  date: string;
  rows: number;
  schemaVersion: number;
  runId: string;
  contentHash: string;
  compression: GoldCompression;
}

export interface CommitGoldInput {
  family: FamilyDecl;
  date: string;
  /** Lake prefix of the staged partition (computeFamily's stagingPath). */
  stagingPath: string;
  runId: string;
  /** The registry version describing the rows (what registerFamily returned for this declaration). */
  schemaVersion: number;
  compression?: GoldCompression;
  /** Local folder for the files written before the upload. */
  scratchDir: string;
  /** A file is closed once it has reached about this size (default 256 MiB). */
  targetFileBytes?: number;
  /** Rows per Parquet row group (default DuckDB's 122,880). */
  rowGroupRows?: number;
  /** More to record in the manifest (the pipeline records the family's code version); a change is a rewrite. */
  extraMeta?: Record<string, unknown>;
}

export interface GoldCommit {
  goldPath: string;
  rows: number;
  /** Lake keys of the data files, in key order. */
  files: string[];
  bytes: number;
  contentHash: string;
  /** The partition already held the same content with the same schema version and compression. */
  skipped: boolean;
}

export interface GoldPartition {
  date: string;
  path: string;
  files: string[];
  bytes: number;
  committedAt: string;
  meta: Partial<GoldManifestMeta>;
}

const DEFAULT_FILE_BYTES = 256 * 1024 * 1024;
const DEFAULT_ROW_GROUP_ROWS = 122_880;
const UINT64 = '18446744073709551616';

/** Lake paths hold name=value folders: DuckDB must not add them as columns. */
function parquet(files: string[]): string {
  return `read_parquet(${sqlList(files)}, hive_partitioning = false)`;
}

/** Key and feature columns cast to their declared types, in declaration order. */
function dataColumns(s: FamilySchema): { name: string; type: string }[] {
  return [...s.keys, ...s.features].map((c) => ({ name: c.name, type: c.type }));
}

/** The declared columns that gold stores, as a SELECT list over the staged rows. */
function goldSelect(s: FamilySchema): string {
  return [...dataColumns(s), { name: 'feature_timestamp', type: 'TIMESTAMP' }, { name: 'created_timestamp', type: 'TIMESTAMP' }]
    .map((c) => `${sqlIdent(c.name)}::${c.type} AS ${sqlIdent(c.name)}`)
    .join(', ');
}

async function checkRegisteredVersion(lake: Lake, schema: FamilySchema, version: number): Promise<void> {
  const registered = await getSchema(lake, schema.family, version);
  const shape = (s: FamilySchema) => JSON.stringify(dataColumns(s));
  if (shape(registered.schema) !== shape(schema)) {
    throw new GoldInputError(
      `schema version ${version} of ${schema.family} does not describe the declaration's columns; register the declaration and commit with the version registerFamily returns`,
    );
  }
}

async function checkStagedColumns(db: Engine, files: string[], s: FamilySchema, stagingPath: string): Promise<void> {
  const present = new Set((await db.all<{ column_name: string }>(`DESCRIBE SELECT * FROM ${parquet(files)}`)).map((r) => r.column_name));
  const missing = [...dataColumns(s).map((c) => c.name), 'feature_timestamp', 'created_timestamp'].filter((c) => !present.has(c));
  if (missing.length > 0) throw new GoldInputError(`staged partition ${stagingPath} of ${s.family} lacks column(s) ${missing.join(', ')}`);
}

/**
 * The content hash: the sum (mod 2^64) of a hash of each row over the keys, the features and
 * feature_timestamp, so independent of row and file order; created_timestamp is left out, so that a
 * recomputation giving the same values is recognised as the same content. The column names and
 * types are hashed too: a schema change is a content change.
 */
async function stagedStats(
  db: Engine,
  files: string[],
  s: FamilySchema,
  date: string,
): Promise<{ rows: number; contentHash: string; offGrid: number; noCreated: number }> {
  const hashed = [...dataColumns(s).map((c) => `${sqlIdent(c.name)}::${c.type}`), 'feature_timestamp::TIMESTAMP'].join(', ');
  const r = await db.one<{ rows: number; hash_sum: string; off_grid: number; no_created: number }>(`
    SELECT count(*)::BIGINT AS rows,
      (coalesce(sum(hash(${hashed})::HUGEINT), 0) % ${UINT64})::VARCHAR AS hash_sum,
      count(*) FILTER (WHERE feature_timestamp IS DISTINCT FROM ${sqlAsOf(date)})::BIGINT AS off_grid,
      count(*) FILTER (WHERE created_timestamp IS NULL)::BIGINT AS no_created
    FROM ${parquet(files)}`);
  const contentHash = createHash('sha256')
    .update(JSON.stringify({ columns: dataColumns(s), rows: r.rows, sum: r.hash_sum }))
    .digest('hex')
    .slice(0, 32);
  return { rows: r.rows, contentHash, offGrid: r.off_grid, noCreated: r.no_created };
}

/**
 * The files of a split COPY in key order (DuckDB names them data_0, data_1, ...), without the empty
 * file it can leave last; one file is kept for an empty partition so that it still has a schema.
 */
async function writtenFiles(db: Engine, dir: string): Promise<string[]> {
  const index = (f: string) => Number(/_(\d+)\.parquet$/.exec(f)?.[1] ?? -1);
  const files = (await readdir(dir))
    .filter((f) => f.endsWith('.parquet'))
    .sort((a, b) => index(a) - index(b))
    .map((f) => join(dir, f));
  const rows = new Map(
    (await db.all<{ file_name: string; num_rows: number }>(`SELECT file_name, num_rows FROM parquet_file_metadata(${sqlList(files)})`)).map((r) => [
      r.file_name,
      r.num_rows,
    ]),
  );
  const nonEmpty = files.filter((f) => (rows.get(f) ?? 0) > 0);
  return nonEmpty.length > 0 ? nonEmpty : files.slice(0, 1);
}

function commitResult(goldPath: string, m: PartitionManifest, skipped: boolean): GoldCommit {
  const meta = m.meta as Partial<GoldManifestMeta>;
  return {
    goldPath,
    rows: meta.rows ?? 0,
    files: m.files.map((f) => paths.join(goldPath, f.name)),
    bytes: m.files.reduce((a, f) => a + f.size, 0),
    contentHash: meta.contentHash ?? '',
    skipped,
  };
}

/** Commits a family's staged partition for a date to gold (see the module comment). */
export async function commitGold(lake: Lake, engine: EngineOptions, input: CommitGoldInput): Promise<GoldCommit> {
  const { family, date, stagingPath, runId, schemaVersion } = input;
  assertDate(date);
  const compression = input.compression ?? 'zstd';
  if (compression !== 'zstd' && compression !== 'snappy') throw new GoldInputError(`unknown compression '${String(compression)}': expected zstd or snappy`);
  const schema = schemaFromDecl(family);
  await checkRegisteredVersion(lake, schema, schemaVersion);
  const stagedKeys = await committedFiles(lake, stagingPath);
  if (!stagedKeys) throw new GoldInputError(`staged partition ${stagingPath} is not committed in lake ${lake.uri}; compute ${family.name} for ${date} first`);
  if (stagedKeys.length === 0) throw new GoldInputError(`staged partition ${stagingPath} has no files`);
  const staged = await localFiles(lake, stagedKeys);
  const goldPath = paths.gold(family.name, date);
  const outDir = join(input.scratchDir, `gold-${family.name}-${date}-${randomBytes(4).toString('hex')}`);
  try {
    return await withEngine(engine, async (db) => {
      await checkStagedColumns(db, staged, schema, stagingPath);
      const stats = await stagedStats(db, staged, schema, date);
      if (stats.offGrid > 0)
        throw new GoldInputError(
          `${stats.offGrid} staged row(s) of ${family.name} for ${date} have a feature_timestamp other than as_of(${date}) = ${sqlAsOf(date)}`,
        );
      if (stats.noCreated > 0) throw new GoldInputError(`${stats.noCreated} staged row(s) of ${family.name} for ${date} have no created_timestamp`);
      const previous = await readManifest(lake, goldPath);
      const prev = previous?.meta as Partial<GoldManifestMeta> | undefined;
      const extra = input.extraMeta ?? {};
      const sameExtra = Object.entries(extra).every(
        ([k, v]) => JSON.stringify((previous?.meta as Record<string, unknown> | undefined)?.[k]) === JSON.stringify(v),
      );
      if (previous && prev?.contentHash === stats.contentHash && prev.schemaVersion === schemaVersion && prev.compression === compression && sameExtra) {
        return commitResult(goldPath, previous, true);
      }
      await mkdir(input.scratchDir, { recursive: true });
      // Order is kept through the COPY so that the files, in their numeric order, are sorted by key.
      await db.run('SET preserve_insertion_order = true');
      const keys = schema.keys.map((k) => sqlIdent(k.name)).join(', ');
      await db.run(
        `COPY (SELECT ${goldSelect(schema)} FROM ${parquet(staged)} ORDER BY ${keys}) TO ${sqlStr(outDir)}
         (FORMAT parquet, COMPRESSION ${compression}, FILE_SIZE_BYTES ${input.targetFileBytes ?? DEFAULT_FILE_BYTES}, ROW_GROUP_SIZE ${input.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS})`,
      );
      const meta: GoldManifestMeta = { family: family.name, date, rows: stats.rows, schemaVersion, runId, contentHash: stats.contentHash, compression };
      const files = await writtenFiles(db, outDir);
      const manifest = await commitPartition(
        lake,
        goldPath,
        files.map((localPath) => ({ localPath })),
        { ...extra, ...meta },
      );
      return commitResult(goldPath, manifest, false);
    });
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

function inRange(date: string, range: { from?: string; to?: string }): boolean {
  return (range.from === undefined || date >= range.from) && (range.to === undefined || date <= range.to);
}

/** Dates of a family's gold folders in the range (committed or not), ascending. */
async function goldDates(lake: Lake, family: string, range: { from?: string; to?: string }): Promise<string[]> {
  if (range.from !== undefined) assertDate(range.from);
  if (range.to !== undefined) assertDate(range.to);
  return (await lake.listDirs(paths.goldFamily(family)))
    .map((d) => partitionValue(d, 'feature_date'))
    .filter((d): d is string => d !== undefined && inRange(d, range))
    .sort();
}

/** A family's committed gold partitions in the range, with their manifests, by date. */
export async function listGold(lake: Lake, family: string, range: { from?: string; to?: string } = {}): Promise<GoldPartition[]> {
  const dates = await goldDates(lake, family, range);
  const manifests = await Promise.all(dates.map((d) => readManifest(lake, paths.gold(family, d))));
  return dates.flatMap((date, i) => {
    const m = manifests[i];
    if (!m) return []; // a crashed write: no marker, not a partition
    const path = paths.gold(family, date);
    return [
      {
        date,
        path,
        files: m.files.map((f) => paths.join(path, f.name)),
        bytes: m.files.reduce((a, f) => a + f.size, 0),
        committedAt: m.committedAt,
        meta: m.meta as Partial<GoldManifestMeta>,
      },
    ];
  });
}

/** Removes a family's gold partitions in the range (and the leftovers of crashed writes); returns their dates. */
export async function deleteGold(lake: Lake, family: string, range: { from: string; to: string }): Promise<string[]> {
  const dates = await goldDates(lake, family, range);
  for (const d of dates) await deletePartition(lake, paths.gold(family, d));
  return dates;
}
