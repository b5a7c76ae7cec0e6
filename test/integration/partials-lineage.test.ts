// Daily partials and their inputs, on local and S3 lakes: huge watch_seconds do not overflow the sums, a
// silver file restated in place at the same size (an upstream writer with fixed names) is noticed,
// and a change of the silver rules recomputes the partials.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, parquetScan, sqlStr } from '../../src/engine/duckdb.js';
import type { FeatureContext } from '../../src/features/context.js';
import { ensurePartials, partitionLocalFiles } from '../../src/features/partials/build.js';
import { type Lake, openLake, paths } from '../../src/lake/index.js';
import { SilverFileError } from '../../src/silver/errors.js';
import { s3LakeUri, tempDir } from '../support/env.js';

const DATE = '2026-01-01';
const RUN_TIME = new Date('2026-02-01T00:00:00Z');
const KEY = `${paths.silverDate(DATE)}/event_type=heartbeat/part-00000.parquet`;

describe.each([
  ['local', () => tempDir()],
  ['s3', () => s3LakeUri()],
])('daily partials on a %s lake', (_kind, root) => {
  let db: Engine;
  const lakes: Lake[] = [];
  beforeAll(async () => {
    db = await Engine.create({ threads: 1, memoryLimit: '512MB' });
  });
  afterAll(async () => {
    db.close();
    for (const l of lakes) await l.close();
  });

  function context(): FeatureContext {
    const lake = openLake(root(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    lakes.push(lake);
    return { lake, engine: { threads: 1, memoryLimit: '512MB' }, scratchDir: join(tempDir(), 'scratch') };
  }

  /** One day of heartbeats with these watch_seconds, as an upstream writer leaves it: a fixed file name, an empty marker. */
  async function writeDay(ctx: FeatureContext, watch: number[]): Promise<number> {
    const file = join(tempDir(), 'part.parquet');
    const rows = watch.map(
      (w, i) => `SELECT 'e${i}' AS event_id, TIMESTAMP '${DATE} 10:00:00' + INTERVAL ${i} SECOND AS event_timestamp, 'u1' AS user_id, 's1' AS session_id,
      'v1' AS video_id, 'drama' AS category, ${w}::DOUBLE AS watch_seconds, 1.0::DOUBLE AS play_position_seconds, 100.0::DOUBLE AS video_duration_seconds, 'tv' AS device_type, 'US' AS country`,
    );
    await db.run(`COPY (${rows.join(' UNION ALL ')}) TO ${sqlStr(file)} (FORMAT parquet)`);
    await ctx.lake.upload(file, KEY);
    await ctx.lake.write(`${paths.silverDate(DATE)}/_SUCCESS`, '');
    return statSync(file).size;
  }

  async function userDayWatch(ctx: FeatureContext): Promise<string> {
    const files = await partitionLocalFiles(ctx.lake, paths.partials('user_day', DATE));
    return (await db.one<{ w: string }>(`SELECT watch_seconds::VARCHAR AS w FROM ${parquetScan(files)}`)).w;
  }

  it('sums watch_seconds far beyond any real video without overflowing', async () => {
    const ctx = context();
    await writeDay(ctx, [1e14, 1e12, 0.25]);
    await ensurePartials(ctx, DATE, { runTime: RUN_TIME });
    expect(await userDayWatch(ctx)).toBe('101000000000000.250000');
  });

  it('notices a file restated in place at the same size', async () => {
    const ctx = context();
    const before = await writeDay(ctx, [10]);
    await ensurePartials(ctx, DATE, { runTime: RUN_TIME });
    expect(await userDayWatch(ctx)).toBe('10.000000');
    // On a local lake the modification time tells the rewrite apart: let the clock move.
    await new Promise((r) => setTimeout(r, 20));
    expect(await writeDay(ctx, [20])).toBe(before);
    const recomputed = await ensurePartials(ctx, DATE, { runTime: RUN_TIME });
    expect(recomputed.map((r) => [r.date, r.dailyComputed])).toEqual([[DATE, true]]);
    expect(await userDayWatch(ctx)).toBe('20.000000');
  });

  it('names a silver file with a corrupt page that only the partials decode, as bad input', async () => {
    const ctx = context();
    const file = join(tempDir(), 'part.parquet');
    await db.run(`COPY (SELECT 'e' || i AS event_id, TIMESTAMP '${DATE} 10:00:00' + INTERVAL (i) SECOND AS event_timestamp, 'u' || (i * 7919 % 20000) AS user_id, 's1' AS session_id,
      'v1' AS video_id, 'drama' AS category, 1.0::DOUBLE AS watch_seconds, 1.0::DOUBLE AS play_position_seconds, 100.0::DOUBLE AS video_duration_seconds, 'tv' AS device_type, 'US' AS country
      FROM range(20000) t(i)) TO ${sqlStr(file)} (FORMAT parquet)`);
    // user_id's pages: the read checks the column by its statistics only, user_day decodes it.
    const { data } = await db.one<{ data: number }>(`SELECT data_page_offset AS data FROM parquet_metadata(${sqlStr(file)}) WHERE path_in_schema = 'user_id'`);
    const bytes = readFileSync(file);
    bytes.fill(0xff, data + 20, data + 220);
    writeFileSync(file, bytes);
    await ctx.lake.upload(file, KEY);
    await ctx.lake.write(`${paths.silverDate(DATE)}/_SUCCESS`, '');
    const e = await ensurePartials(ctx, DATE, { runTime: RUN_TIME }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SilverFileError);
    expect(e).toMatchObject({ file: KEY, nonRetryable: true, type: 'SilverFile' });
  });

  it('reads a date again while it had rows in the future of the run that read it', async () => {
    const ctx = context();
    await writeDay(ctx, [10, 5]);
    // The first run happened during the day: the 10:00:01 row was in its future.
    const first = await ensurePartials(ctx, DATE, { runTime: new Date(`${DATE}T10:00:00.500Z`) });
    expect(first[0]!.silver!.quarantinedByRule).toEqual({ timestamp_in_future: 1 });
    expect(await userDayWatch(ctx)).toBe('10.000000');
    const later = await ensurePartials(ctx, DATE, { runTime: RUN_TIME });
    expect(later.map((r) => r.dailyComputed)).toEqual([true]);
    expect(await userDayWatch(ctx)).toBe('15.000000');
    expect(await ensurePartials(ctx, DATE, { runTime: RUN_TIME })).toEqual([]);
  });
});
