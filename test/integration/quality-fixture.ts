// Crafted feature partitions for the quality tests: a small family, a generator of deterministic
// pseudo-random rows in DuckDB, and committed gold dates to serve as the drift reference.
import { join } from 'node:path';
import { sqlStr, withEngine } from '../../src/engine/duckdb.js';
import { DAY_SECONDS, type FamilyDecl } from '../../src/features/types.js';
import { commitPartition, type Lake, paths } from '../../src/lake/index.js';
import { writeValidationReport } from '../../src/monitoring/run-records.js';
import { validateFamily } from '../../src/quality/validate.js';
import { addDays } from '../../src/shared/dates.js';

export const ENGINE = { threads: 2, memoryLimit: '1GB' };

export const testFamily: FamilyDecl = {
  name: 'test_features',
  description: 'crafted data for the quality tests',
  owner: 'tests',
  version: 1,
  entity: 'user',
  keys: [{ name: 'user_id', type: 'VARCHAR' }],
  ttlSeconds: 2 * DAY_SECONDS,
  partials: {},
  dependsOn: [],
  features: [
    { name: 'amount', type: 'DOUBLE', min: 0, description: 'about normal(100, 15), at least 50' },
    { name: 'visits', type: 'BIGINT', min: 0, max: 1000, description: 'uniform 0..50' },
    { name: 'ratio', type: 'DOUBLE', min: 0, max: 1, nullable: true, maxNullShare: 0.2, description: 'uniform, 10% null' },
    { name: 'category', type: 'VARCHAR', allowed: ['a', 'b', 'c', 'd'], description: 'shares .4 .3 .2 .1' },
  ],
  rules: [{ name: 'amount_covers_visits', description: 'amount >= visits', sql: 'amount >= visits' }],
  sql: () => 'SELECT 1',
};

export interface Gen {
  seed: number;
  rows?: number;
  amountMean?: number;
  amountSd?: number;
  /** Cumulative thresholds of a, b, c (d takes the rest). */
  categoryCuts?: [number, number, number];
  ratioNullShare?: number;
  /** A SELECT over `t` (which has the row number `i`) that alters rows. */
  transform?: string;
}

/** Deterministic rows: uniforms from hash(i, seed), normals by Box-Muller. */
export function genSql(g: Gen): string {
  const u = (k: number) => `((hash(i, ${g.seed}, ${k}) % 1000003) + 1) / 1000004.0`;
  const [ca, cb, cc] = g.categoryCuts ?? [0.4, 0.7, 0.9];
  return `WITH b AS (SELECT i, ${u(1)} AS u1, ${u(2)} AS u2, ${u(3)} AS u3, ${u(4)} AS u4, ${u(5)} AS u5 FROM range(${g.rows ?? 2000}) r(i)),
    t AS (SELECT i, 'u' || lpad(i::VARCHAR, 6, '0') AS user_id,
      greatest(${g.amountMean ?? 100} + ${g.amountSd ?? 15} * sqrt(-2 * ln(u1)) * cos(2 * pi() * u2), 50) AS amount,
      floor(u3 * 51)::BIGINT AS visits,
      CASE WHEN u4 < ${g.ratioNullShare ?? 0.1} THEN NULL ELSE u5 END AS ratio,
      CASE WHEN u2 < ${ca} THEN 'a' WHEN u2 < ${cb} THEN 'b' WHEN u2 < ${cc} THEN 'c' ELSE 'd' END AS category,
      TIMESTAMP '2024-03-02 00:00:00' AS feature_timestamp, TIMESTAMP '2024-03-02 01:00:00' AS created_timestamp
    FROM b)
    SELECT * EXCLUDE (i) FROM (${g.transform ?? 'SELECT * FROM t'})`;
}

/** Writes a SELECT to a Parquet file. */
export async function writeParquet(sql: string, file: string): Promise<string> {
  await withEngine(ENGINE, (db) => db.run(`COPY (${sql}) TO ${sqlStr(file)} (FORMAT parquet)`));
  return file;
}

/** Commits `days` gold dates of the family before `date`, each a healthy partition with its own seed. */
export async function commitReference(
  lake: Lake,
  dir: string,
  date: string,
  days = 7,
  gen: Omit<Gen, 'seed'> = {},
  family = testFamily.name,
): Promise<string[]> {
  const dates: string[] = [];
  for (let k = 1; k <= days; k++) {
    const d = addDays(date, -k);
    const file = await writeParquet(genSql({ ...gen, seed: 100 + k }), join(dir, `ref-${family}-${d}.parquet`));
    await commitPartition(lake, paths.gold(family, d), [{ localPath: file }], { rows: gen.rows ?? 2000 });
    dates.push(d);
  }
  return dates;
}

/**
 * Validates and commits `days` healthy dates of the family ending the day before `date`, each against
 * the gold before it, storing each validation report as the daily run does.
 */
export async function validatedHistory(lake: Lake, dir: string, date: string, days: number, family: FamilyDecl = testFamily): Promise<string[]> {
  const dates: string[] = [];
  for (let k = days; k >= 1; k--) {
    const d = addDays(date, -k);
    const file = await writeParquet(genSql({ seed: 200 + k, rows: 1000 + ((k % 3) - 1) * 15 }), join(dir, `hist-${family.name}-${d}.parquet`));
    const report = await validateFamily(lake, ENGINE, { family, date: d, files: [file], runId: `run-${d}` });
    if (!report.passed) throw new Error(`history date ${d} did not pass: ${report.failed.map((c) => c.message).join('; ')}`);
    await writeValidationReport(lake, report);
    await commitPartition(lake, paths.gold(family.name, d), [{ localPath: file }], { rows: report.rows });
    dates.push(d);
  }
  return dates;
}
