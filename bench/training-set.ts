// Training-set benchmark: 1 million entity rows (user, video, event time over 30 days) joined point
// in time to three views (user_features and temporal_features by user_id, item_features by video_id)
// over 30 dates of gold for 1 million users (80% of them in each date's partition) and 100,000
// videos. The gold is generated in DuckDB (random values of the declared types) and written through
// the gold writer, which is timed too. Then, in a fresh process (so that its peak RSS is the
// queries' own): the first N features of each view (the headline figure), the same as known at, and
// every feature of the three views (44).
// Run: npm run bench -- training-set
// (GOLD_BENCH_USERS default 1,000,000; GOLD_BENCH_ENTITY_ROWS default 1,000,000; GOLD_BENCH_DAYS default 30;
//  GOLD_BENCH_FEATURES_PER_VIEW default 8; GOLD_BENCH_MEMORY default 4GB; GOLD_BENCH_KEEP=1 keeps the lake and prints its folder;
//  GOLD_BENCH_LAKE_DIR=<that folder> times the queries again without generating.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EngineOptions, sqlIdent, sqlStr, withEngine } from '../src/engine/duckdb.js';
import { family } from '../src/features/families/index.js';
import type { FamilyDecl, FeatureDecl } from '../src/features/types.js';
import { commitPartition, type Lake, openLake, paths } from '../src/lake/index.js';
import { commitGold } from '../src/offline/gold.js';
import { getHistoricalFeatures } from '../src/offline/training-set.js';
import { registerFamily } from '../src/registry/store.js';
import { addDays, sqlAsOf } from '../src/shared/dates.js';
import { peakRss, report } from './util.js';

const USERS = Number(process.env.GOLD_BENCH_USERS ?? 1_000_000);
const VIDEOS = Math.max(1000, Math.round(USERS / 10));
const ENTITY_ROWS = Number(process.env.GOLD_BENCH_ENTITY_ROWS ?? 1_000_000);
const DAYS = Number(process.env.GOLD_BENCH_DAYS ?? 30);
const FEATURES_PER_VIEW = Number(process.env.GOLD_BENCH_FEATURES_PER_VIEW ?? 8);
/** Share of the entities with a row on a given date (active in the 30-day window). */
const PRESENT = 0.8;
const START = '2026-01-01';
const VIEWS: [FamilyDecl, string, number][] = [
  [family('user_features'), 'u', USERS],
  [family('temporal_features'), 'u', USERS],
  [family('item_features'), 'v', VIDEOS],
];
/** Set in the child process that times the queries. */
const QUERY_ROOT = process.env.GOLD_BENCH_QUERY_ROOT;

/** DuckDB's memory limit: the product default (GOLD_DUCKDB_MEMORY); beyond it DuckDB spills to disk. */
const MEMORY = process.env.GOLD_BENCH_MEMORY ?? '4GB';

function engineFor(root: string): EngineOptions {
  return { threads: 2, memoryLimit: MEMORY, tempDir: join(root, 'spill') };
}

function openBenchLake(root: string): Lake {
  return openLake(join(root, 'lake'), { s3CacheDir: join(root, 'cache'), s3CacheMaxBytes: 1e10 });
}

function randomValue(f: FeatureDecl, date: string): string {
  const v = (() => {
    switch (f.type) {
      case 'BIGINT':
        return `(random() * 100)::BIGINT`;
      case 'DOUBLE':
        return `round(random() * 1000, 3)`;
      case 'VARCHAR':
        return `'category_' || (random() * 20)::INT`;
      case 'TIMESTAMP':
        return `${sqlAsOf(date)} - to_seconds((random() * 86400)::BIGINT)`;
      case 'FLOAT[]':
        return `[random()::FLOAT, random()::FLOAT]`;
      case 'VARCHAR[]':
        return `['a', 'b']`;
    }
  })();
  return `${f.nullable ? `CASE WHEN random() < 0.1 THEN NULL ELSE ${v} END` : v}::${f.type} AS ${sqlIdent(f.name)}`;
}

/** Stages one date of a view (as computeFamily would) and commits it to gold; returns the gold writer's seconds. */
async function writeDate(lake: Lake, root: string, decl: FamilyDecl, prefix: string, n: number, date: string, schemaVersion: number): Promise<number> {
  const engine = engineFor(root);
  const staged = join(root, `staged-${decl.name}-${date}.parquet`);
  const key = decl.keys[0]!.name;
  await withEngine(engine, (db) =>
    db.run(`COPY (SELECT '${prefix}' || lpad(i::VARCHAR, 7, '0') AS ${sqlIdent(key)}, ${decl.features.map((f) => randomValue(f, date)).join(', ')},
        ${sqlAsOf(date)} AS feature_timestamp, ${sqlAsOf(date)} + INTERVAL 2 HOUR AS created_timestamp
      FROM range(${n}) t(i) WHERE random() < ${PRESENT}) TO ${sqlStr(staged)} (FORMAT parquet, COMPRESSION zstd)`),
  );
  const stagingPath = paths.staging(decl.name, date, 'bench');
  await commitPartition(lake, stagingPath, [{ localPath: staged }], {});
  rmSync(staged);
  const t = performance.now();
  await commitGold(lake, engine, { family: decl, date, stagingPath, runId: 'bench', schemaVersion, scratchDir: join(root, 'scratch') });
  return (performance.now() - t) / 1000;
}

async function generate(root: string): Promise<Record<string, number>> {
  const lake = openBenchLake(root);
  try {
    const t = performance.now();
    let goldSeconds = 0;
    let goldRows = 0;
    for (const [decl, prefix, n] of VIEWS) {
      const { version } = await registerFamily(lake, decl);
      for (let d = 0; d < DAYS; d++) goldSeconds += await writeDate(lake, root, decl, prefix, n, addDays(START, d), version);
      goldRows += Math.round(n * PRESENT * DAYS);
    }
    await withEngine(engineFor(root), (db) =>
      db.run(`COPY (SELECT 'u' || lpad((random() * ${USERS - 1})::BIGINT::VARCHAR, 7, '0') AS user_id,
          'v' || lpad((random() * ${VIDEOS - 1})::BIGINT::VARCHAR, 7, '0') AS video_id,
          TIMESTAMP '${START}' + to_microseconds((random() * ${DAYS + 1} * 86400e6)::BIGINT) AS event_timestamp,
          (random() < 0.3)::INT AS label
        FROM range(${ENTITY_ROWS})) TO ${sqlStr(join(root, 'entities.parquet'))} (FORMAT parquet)`),
    );
    return {
      gold_rows_all_views: goldRows,
      gold_write_seconds: goldSeconds,
      gold_write_rows_per_second: Math.round(goldRows / goldSeconds),
      generate_seconds: (performance.now() - t) / 1000,
    };
  } finally {
    await lake.close();
  }
}

/** The timed queries, in this process; prints their figures as one JSON line. */
async function query(root: string): Promise<void> {
  const lake = openBenchLake(root);
  const entities = join(root, 'entities.parquet');
  // CPU seconds too: this machine may be shared, and wall time then says little on its own.
  const run = async (features: string[], asKnownAt: boolean, out: string) => {
    const cpu = process.cpuUsage();
    const r = await getHistoricalFeatures(lake, engineFor(root), { entities, features, fullFeatureNames: true, asKnownAt, out: join(root, out) });
    const used = process.cpuUsage(cpu);
    return { ...r, cpuSeconds: (used.user + used.system) / 1e6 };
  };
  try {
    const headline = VIEWS.flatMap(([decl]) => decl.features.slice(0, FEATURES_PER_VIEW).map((f) => `${decl.name}:${f.name}`));
    const all = VIEWS.flatMap(([decl]) => decl.features.map((f) => `${decl.name}:${f.name}`));
    const r = await run(headline, false, 'training-set.parquet');
    const rss = peakRss();
    const filled = await withEngine(engineFor(root), (db) =>
      db.one<{ n: number }>(`SELECT count(user_features__watch_time_1d)::BIGINT AS n FROM read_parquet(${sqlStr(r.path!)})`),
    );
    const known = await run(headline, true, 'known.parquet');
    const wide = await run(all, false, 'all.parquet');
    const figures = {
      entity_rows: r.rows,
      features: headline.length,
      partitions_read: r.partitionsRead,
      training_set_seconds: r.seconds,
      training_set_cpu_seconds: r.cpuSeconds,
      training_set_rows_per_second: Math.round(r.rows / r.seconds),
      training_set_peak_rss_mib: rss,
      rows_with_user_features: filled.n,
      output_mib: Math.round(statSync(r.path!).size / 1024 ** 2),
      as_known_at_seconds: known.seconds,
      as_known_at_cpu_seconds: known.cpuSeconds,
      all_features: all.length,
      all_features_seconds: wide.seconds,
      all_features_cpu_seconds: wide.cpuSeconds,
      peak_rss_mib: peakRss(),
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await lake.close();
  }
}

if (QUERY_ROOT) {
  await query(QUERY_ROOT);
} else {
  const given = process.env.GOLD_BENCH_LAKE_DIR;
  const root = given ?? mkdtempSync(join(tmpdir(), 'gold-bench-training-set-'));
  try {
    const generated = given ? {} : await generate(root);
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, GOLD_BENCH_QUERY_ROOT: root },
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    const figures = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
    report('training-set', { users: USERS, videos: VIDEOS, gold_dates: DAYS, duckdb_memory: MEMORY, ...generated, ...figures });
  } finally {
    if (given || process.env.GOLD_BENCH_KEEP) process.stderr.write(`lake kept in ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  }
}
