// Silver benchmark: generate one day of synthetic silver (default 10 million events) into a local
// lake in a temp folder, then read and validate it whole (the daily job's read), then read an
// evening hour range (row groups outside it are skipped by their timestamp statistics). A second day
// with bad rows (1 % by default, every kind) shows the read when rows must be read again to be
// quarantined. Then the ceilings, DuckDB alone on the same files: scanning every column (no rules),
// which validation cannot beat, and storing the day as a table (no rules, no duplicate search), what
// a reader that copies the rows for its queries would pay; and the cost of one query of every column
// of the accepted rows through the reader's view. The generator writes Parquet V2; the same day
// rewritten as Parquet V1 (what many writers still write) is read too.
// Run: npm run bench -- silver   (GOLD_BENCH_SILVER_EVENTS, _USERS, _VIDEOS, _BAD_RATE, _THREADS, _MEMORY)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Engine, parquetScan, sqlIdent, sqlStr } from '../src/engine/duckdb.js';
import { COMMIT_MARKER, commitPartition, joinKey, openLake, paths } from '../src/lake/index.js';
import { SILVER_FILE_COLUMNS } from '../src/silver/contract.js';
import { generateSilver, SILVER_ROW_GROUP_SIZE } from '../src/silver/generator.js';
import { dropSilverView, readSilver } from '../src/silver/reader.js';
import { WEEKDAY_VOLUME } from '../src/silver/synthetic-model.js';
import { peakRss, report } from './util.js';

const env = (name: string, fallback: number): number => Number(process.env[`GOLD_BENCH_SILVER_${name}`] ?? fallback);
const events = env('EVENTS', 10_000_000);
const users = env('USERS', 1_000_000);
const videos = env('VIDEOS', 100_000);
const badRate = env('BAD_RATE', 0.01);
const threads = env('THREADS', 2);
const memoryLimit = process.env.GOLD_BENCH_SILVER_MEMORY ?? '8GB';
// A Tuesday (and the Wednesday with bad rows); its volume factor is undone so that the day holds `events` events.
const DATE = '2024-03-05';
const BAD_DATE = '2024-03-06';
const eventsPerDay = Math.round(events / WEEKDAY_VOLUME[1]!);

const root = mkdtempSync(join(tmpdir(), 'gold-bench-silver-'));
const engine = { threads, memoryLimit, tempDir: join(root, 'spill') };
const lake = openLake(join(root, 'lake'), { s3CacheDir: join(root, 'cache'), s3CacheMaxBytes: 1e9 });

/** Wall seconds and CPU seconds (all threads: a figure that holds when other processes compete for the cores). */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number; cpuSeconds: number }> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const value = await fn();
  const c = process.cpuUsage(cpu);
  return { value, seconds: (performance.now() - t) / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
}

try {
  const load = loadavg()[0]!;
  const gen = await timed(() => generateSilver(lake, engine, { from: DATE, to: DATE, users, videos, eventsPerDay, seed: 1 }));
  const rows = gen.value.rows;
  const rssAfterGenerate = peakRss();

  const db = await Engine.create(engine);
  const runTime = new Date('2025-01-01T00:00:00Z');
  const read = await timed(() => readSilver(db, lake, { from: DATE, to: DATE, runTime }));
  const files = await Promise.all((await lake.list(paths.silverDate(DATE))).filter((e) => e.key.endsWith('.parquet')).map((e) => lake.localFile(e.key)));
  const columns = SILVER_FILE_COLUMNS.map((c) => sqlIdent(c.name));
  const maxOfEvery = `count(*), ${columns.map((c) => `max(${c})`).join(', ')}`;
  const query = await timed(() => db.run(`SELECT ${maxOfEvery} FROM events`));
  const evening = await timed(() => readSilver(db, lake, { from: DATE, to: DATE, hours: [19, 21], runTime, table: 'evening' }));
  await dropSilverView(db, 'events');
  await dropSilverView(db, 'evening');
  const scan = await timed(() => db.run(`SELECT ${maxOfEvery} FROM ${parquetScan(files)}`));
  const store = await timed(() => db.run(`CREATE TEMP TABLE ceiling AS SELECT ${columns.join(', ')} FROM ${parquetScan(files)}`));
  await db.run('DROP TABLE ceiling');
  // The same day as Parquet V1, in a lake of its own, committed as the generator commits.
  const v1Lake = openLake(join(root, 'lake-v1'), { s3CacheDir: join(root, 'cache'), s3CacheMaxBytes: 1e9 });
  for (const f of files) {
    const type = /event_type=([^/]+)/.exec(f)![1]!;
    const v1File = join(root, `v1-${type}.parquet`);
    await db.run(
      `COPY (SELECT * FROM read_parquet(${sqlStr(f)}, hive_partitioning = false)) TO ${sqlStr(v1File)} (FORMAT parquet, ROW_GROUP_SIZE ${SILVER_ROW_GROUP_SIZE})`,
    );
    await commitPartition(v1Lake, paths.silverPartition(DATE, type), [{ localPath: v1File }]);
  }
  await v1Lake.write(joinKey(paths.silverDate(DATE), COMMIT_MARKER), '');
  const readV1 = await timed(() => readSilver(db, v1Lake, { from: DATE, to: DATE, runTime }));
  await dropSilverView(db, 'events');
  await v1Lake.close();
  const genBad = await generateSilver(lake, engine, { from: BAD_DATE, to: BAD_DATE, users, videos, eventsPerDay, seed: 2, badRowRate: badRate });
  const readBad = await timed(() => readSilver(db, lake, { from: BAD_DATE, to: BAD_DATE, runTime }));
  db.close();

  report('silver', {
    'load average at start (2 cores)': load,
    'events generated': rows,
    'generate seconds': gen.seconds,
    'generate cpu seconds': gen.cpuSeconds,
    'generate events/s': Math.round(rows / gen.seconds),
    'parquet MB': Math.round(gen.value.bytes / 1e6),
    'peak RSS MB after generate': rssAfterGenerate,
    'read+validate seconds': read.seconds,
    'read+validate cpu seconds': read.cpuSeconds,
    'read+validate events/s': Math.round(read.value.rowsRead / read.seconds),
    'rows accepted': read.value.rowsAccepted,
    'rows quarantined': read.value.rowsQuarantined,
    'read+validate, the day as Parquet V1, seconds': readV1.seconds,
    'read+validate, the day as Parquet V1, events/s': Math.round(readV1.value.rowsRead / readV1.seconds),
    'query every column of the accepted rows (the view), seconds': query.seconds,
    'ceiling: scan every column, seconds': scan.seconds,
    'ceiling: scan every column, events/s': Math.round(rows / scan.seconds),
    'store the day as a table (no rules), seconds': store.seconds,
    'store the day as a table (no rules), events/s': Math.round(rows / store.seconds),
    [`day with ${badRate * 100} % bad rows: events`]: genBad.rows,
    'day with bad rows: rows quarantined': readBad.value.rowsQuarantined,
    'day with bad rows: read+validate+quarantine seconds': readBad.seconds,
    'day with bad rows: events/s': Math.round(readBad.value.rowsRead / readBad.seconds),
    'read 19-21h seconds': evening.seconds,
    'read 19-21h rows': evening.value.rowsRead,
    'peak RSS MB': peakRss(),
  });
} finally {
  await lake.close();
  rmSync(root, { recursive: true, force: true });
}
