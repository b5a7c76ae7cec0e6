// Computing one family for one date: views over the family's window of daily partials (and its
// dependencies' staged outputs), its SQL, and the result staged in the lake as one atomic partition.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Engine, parquetScan, sqlIdent, sqlStr, withEngine } from '../engine/duckdb.js';
import { commitPartition, committedFiles, type Lake, paths, readManifest } from '../lake/index.js';
import { addDays, sqlAsOf, sqlDate } from '../shared/dates.js';
import { mapLimit } from '../shared/map-limit.js';
import { silverDates } from '../silver/status.js';
import { type FeatureContext, scratchFolder } from './context.js';
import { FAMILIES } from './families/index.js';
import { alsModelFiles, ensureAlsModel } from './models/als-model.js';
import { partitionLocalFiles } from './partials/build.js';
import type { PartialName } from './partials/definitions.js';
import { familyPartials, isState } from './partials/windows.js';
import type { FamilyDecl } from './types.js';

export interface FamilyResult {
  family: string;
  date: string;
  runId: string;
  /** Lake key prefix of the staged partition. */
  stagingPath: string;
  files: string[];
  rows: number;
  seconds: number;
}

export class MissingInputError extends Error {
  override name = 'MissingInputError';
  readonly nonRetryable = true;
  readonly type = 'MissingInput';
}

/** The SELECT list that puts a family's rows in declaration order with declared types. */
export function familyColumns(f: FamilyDecl): string {
  return [
    ...f.keys.map((k) => `${sqlIdent(k.name)}::${k.type} AS ${sqlIdent(k.name)}`),
    ...f.features.map((x) => `${sqlIdent(x.name)}::${x.type} AS ${sqlIdent(x.name)}`),
  ].join(', ');
}

/** The partial partitions a family reads for a date: its window of daily partials (from the first silver date on) and the date's states. */
async function partialInputs(lake: Lake, f: FamilyDecl, date: string, firstSilverDate?: string): Promise<{ name: PartialName; prefixes: string[] }[]> {
  const first = firstSilverDate ?? (await silverDates(lake))[0];
  return (Object.entries(familyPartials(f)) as [PartialName, number][]).map(([name, days]) => {
    const dates = isState(name) ? [date] : Array.from({ length: days }, (_, i) => addDays(date, -i)).filter((d) => first !== undefined && d >= first);
    return { name, prefixes: dates.map((d) => paths.partials(name, d)) };
  });
}

const inputsHash = (commitIds: string[]): string => createHash('sha256').update(commitIds.join('\n')).digest('hex').slice(0, 16);

/**
 * Identifies the partials a family's result for a date was computed from (their commits): gold records
 * it, so that a date whose partials changed since (late silver) is not taken for current.
 */
export async function familyInputsHash(
  lake: Lake,
  f: FamilyDecl,
  date: string,
  commitIdOf: (prefix: string) => Promise<string | null>,
  firstSilverDate?: string,
): Promise<string> {
  const prefixes = (await partialInputs(lake, f, date, firstSilverDate)).flatMap((p) => p.prefixes);
  return inputsHash(await Promise.all(prefixes.map(async (p) => `${p}@${(await commitIdOf(p)) ?? 'missing'}`)));
}

/** Creates the family's partial views; returns the hash of the partials read (familyInputsHash). */
async function createPartialViews(ctx: FeatureContext, db: Engine, f: FamilyDecl, date: string): Promise<string> {
  const read: string[] = [];
  for (const { name, prefixes } of await partialInputs(ctx.lake, f, date)) {
    // A window's partitions several at a time: one request each on S3.
    const partitions = await mapLimit(prefixes, 16, async (prefix) => {
      const m = await readManifest(ctx.lake, prefix);
      if (!m)
        throw new MissingInputError(
          `partial ${name} for ${prefix.slice(prefix.lastIndexOf('=') + 1)} is missing (needed by ${f.name} for ${date}); compute the partials first`,
        );
      return { tag: `${prefix}@${m.commitId}`, files: await partitionLocalFiles(ctx.lake, prefix) };
    });
    read.push(...partitions.map((p) => p.tag));
    await db.run(`CREATE OR REPLACE TEMP VIEW ${sqlIdent(name)} AS SELECT * FROM ${parquetScan(partitions.flatMap((p) => p.files))}`);
  }
  return inputsHash(read);
}

async function createModelViews(ctx: FeatureContext, db: Engine, f: FamilyDecl, date: string): Promise<void> {
  for (const model of f.models ?? []) {
    if (model === 'als') {
      await ensureAlsModel(ctx, date);
      const files = await alsModelFiles(ctx.lake, date);
      await db.run(`CREATE OR REPLACE TEMP VIEW als_users AS SELECT * FROM read_parquet(${sqlStr(files.users)})`);
      await db.run(`CREATE OR REPLACE TEMP VIEW als_videos AS SELECT * FROM read_parquet(${sqlStr(files.videos)})`);
    }
  }
}

async function createDependencyViews(ctx: FeatureContext, db: Engine, f: FamilyDecl, date: string, runId: string): Promise<void> {
  for (const dep of f.dependsOn) {
    const prefix = paths.staging(dep, date, runId);
    const keys = await committedFiles(ctx.lake, prefix);
    if (!keys) throw new MissingInputError(`${dep} for ${date} (run ${runId}) is not staged; ${f.name} depends on it`);
    const files = await Promise.all(keys.map((k) => ctx.lake.localFile(k)));
    await db.run(`CREATE OR REPLACE TEMP VIEW ${sqlIdent(dep)} AS SELECT * FROM ${parquetScan(files)}`);
  }
}

export interface ComputeFamilyOptions {
  /** created_timestamp of the rows; fixed by the caller so that a retry writes the same rows. */
  createdAt?: Date;
}

/** The family's rows for the date as a SELECT, over the views the caller created. */
export function familyQuery(f: FamilyDecl, date: string, createdAt: Date): string {
  const dependencies = f.dependsOn.map((n) => FAMILIES.find((x) => x.name === n)!);
  const body = f.sql({ date: sqlDate(date), asOf: sqlAsOf(date), dependencies });
  return `SELECT ${familyColumns(f)}, ${sqlAsOf(date)} AS feature_timestamp, ${sqlStr(createdAt.toISOString())}::TIMESTAMP AS created_timestamp
    FROM (${body}) ORDER BY ${f.keys.map((k) => sqlIdent(k.name)).join(', ')}`;
}

/**
 * Computes a family for a date and stages it at paths.staging(family, date, runId). Running it twice
 * gives the same result (the staged partition is replaced whole). Partials must exist (ensurePartials),
 * and the family's dependencies must be staged under the same run id.
 */
export async function computeFamily(ctx: FeatureContext, f: FamilyDecl, date: string, runId: string, opts: ComputeFamilyOptions = {}): Promise<FamilyResult> {
  const t0 = Date.now();
  const dir = await scratchFolder(ctx, 'family');
  try {
    return await withEngine(ctx.engine, async (db) => {
      const partialsRead = await createPartialViews(ctx, db, f, date);
      await createModelViews(ctx, db, f, date);
      await createDependencyViews(ctx, db, f, date, runId);
      const file = join(dir, `${f.name}.parquet`);
      await db.run(`COPY (${familyQuery(f, date, opts.createdAt ?? new Date())}) TO ${sqlStr(file)} (FORMAT parquet, COMPRESSION zstd)`);
      const { rows } = await db.one<{ rows: number }>(`SELECT count(*)::BIGINT AS rows FROM read_parquet(${sqlStr(file)})`);
      const stagingPath = paths.staging(f.name, date, runId);
      const m = await commitPartition(ctx.lake, stagingPath, [{ localPath: file }], {
        family: f.name,
        version: f.version,
        date,
        runId,
        rows,
        inputsHash: partialsRead,
      });
      return { family: f.name, date, runId, stagingPath, files: m.files.map((x) => `${stagingPath}/${x.name}`), rows, seconds: (Date.now() - t0) / 1000 };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
