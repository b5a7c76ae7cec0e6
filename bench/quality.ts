// Validation gate benchmark: one family partition of N rows (default 1,000,000; 14 numeric features,
// 2 categorical, a rule) validated against a 7-date reference of the same size per date, with and
// without the row quarantine. Run: npm run bench -- quality
// (GOLD_BENCH_QUALITY_ROWS sets N.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqlStr, withEngine } from '../src/engine/duckdb.js';
import type { FamilyDecl, FeatureDecl } from '../src/features/types.js';
import { commitPartition, openLake, paths } from '../src/lake/index.js';
import { validateFamily } from '../src/quality/index.js';
import { addDays } from '../src/shared/dates.js';
import { peakRss, report } from './util.js';

const rows = Number(process.env.GOLD_BENCH_QUALITY_ROWS ?? 1_000_000);
const DATE = '2026-02-01';
const root = mkdtempSync(join(tmpdir(), 'gold-bench-quality-'));
const lake = openLake(join(root, 'lake'), { s3CacheDir: join(root, 'cache'), s3CacheMaxBytes: 1e10 });
const engine = { threads: 2, memoryLimit: '8GB', tempDir: join(root, 'spill') };

const numeric: FeatureDecl[] = Array.from({ length: 14 }, (_, j) => ({ name: `x${j}`, type: 'DOUBLE', min: 0, description: 'lognormal' }));
const family: FamilyDecl = {
  name: 'bench_features',
  description: 'benchmark data',
  owner: 'bench',
  version: 1,
  entity: 'user',
  keys: [{ name: 'user_id', type: 'VARCHAR' }],
  ttlSeconds: 86_400,
  partials: {},
  dependsOn: [],
  features: [
    ...numeric,
    { name: 'visits', type: 'BIGINT', min: 0, description: 'counts' },
    { name: 'sessions', type: 'BIGINT', min: 0, description: 'counts' },
    { name: 'segment', type: 'VARCHAR', description: '12 segments' },
    { name: 'country', type: 'VARCHAR', description: 'many countries' },
  ],
  rules: [{ name: 'sessions_le_visits', description: 'sessions <= visits', sql: 'sessions <= visits' }],
  sql: () => 'SELECT 1',
};

/** Rows of one date; 0.05% of them break the range or the rule (for the quarantine run). */
function dataSql(seed: number): string {
  const u = (k: number) => `((hash(i, ${seed}, ${k}) % 1000003) + 1) / 1000004.0`;
  const xs = numeric.map((_, j) => `exp(${(j % 4) * 0.3} + sqrt(-2 * ln(${u(j + 1)})) * cos(2 * pi() * ${u(j + 40)})) AS x${j}`);
  return `SELECT 'u' || i AS user_id, ${xs.join(', ')},
      CASE WHEN i % 2000 = 7 THEN -1 ELSE floor(${u(80)} * 40)::BIGINT + 5 END AS visits,
      CASE WHEN i % 2000 = 9 THEN 99 ELSE floor(${u(81)} * 5)::BIGINT END AS sessions,
      'seg' || floor(${u(82)} * 12)::INT AS segment,
      'c' || floor(pow(${u(83)}, 3) * 180)::INT AS country,
      TIMESTAMP '2026-02-02' AS feature_timestamp, TIMESTAMP '2026-02-02 01:00:00' AS created_timestamp
    FROM range(${rows}) r(i)`;
}

try {
  let t = performance.now();
  await withEngine(engine, async (db) => {
    for (let k = 0; k <= 7; k++) await db.run(`COPY (${dataSql(k)}) TO ${sqlStr(join(root, `d${k}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`);
  });
  for (let k = 1; k <= 7; k++) await commitPartition(lake, paths.gold(family.name, addDays(DATE, -k)), [{ localPath: join(root, `d${k}.parquet`) }]);
  const generateSeconds = (performance.now() - t) / 1000;

  t = performance.now();
  const cpu0 = process.cpuUsage();
  const plain = await validateFamily(lake, engine, { family, date: DATE, files: [join(root, 'd0.parquet')], runId: 'bench' });
  const validateSeconds = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // CPU time as well: on a shared machine it says more than the wall clock.
  const validateCpuSeconds = (cpu.user + cpu.system) / 1e6;

  t = performance.now();
  const quarantined = await validateFamily(lake, engine, { family, date: DATE, files: [join(root, 'd0.parquet')], runId: 'bench-q', quarantineRows: true });
  const quarantineSeconds = (performance.now() - t) / 1000;

  report('quality', {
    rows_per_date: rows,
    features: family.features.length,
    reference_dates: plain.reference.dates.length,
    generate_seconds: generateSeconds,
    validate_seconds: validateSeconds,
    validate_cpu_seconds: validateCpuSeconds,
    validate_rows_per_second: Math.round(rows / validateSeconds),
    validate_with_quarantine_seconds: quarantineSeconds,
    rows_quarantined: quarantined.quarantine?.rows ?? 0,
    checks_run: plain.checksRun,
    failed_checks: plain.failed.length,
    warned_checks: plain.warned.length,
    passed_after_quarantine: String(quarantined.passed),
    score: plain.score,
    report_bytes: JSON.stringify(plain).length,
    peak_rss_mib: peakRss(),
  });
} finally {
  await lake.close();
  rmSync(root, { recursive: true, force: true });
}
