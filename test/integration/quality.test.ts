// The validation gate on crafted partitions: each check catches what it should and lets healthy data
// through, severities can be overridden, rows can be quarantined; on a local lake and on S3.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlStr, withEngine } from '../../src/engine/duckdb.js';
import type { FamilyDecl, FeatureDecl } from '../../src/features/types.js';
import { commitPartition, committedFiles, type Lake, openLake, paths } from '../../src/lake/index.js';
import { type CheckResult, committedGoldDates, type QualityConfig, type ValidationReport, validateFamily } from '../../src/quality/index.js';
import { s3LakeUri, tempDir } from '../support/env.js';
import { commitReference, ENGINE, type Gen, genSql, testFamily, writeParquet } from './quality-fixture.js';

const DATE = '2024-03-01';
const dir = tempDir('gold-quality-');
let lake: Lake;
let refDates: string[];
let fileNo = 0;

beforeAll(async () => {
  lake = openLake(join(dir, 'lake'), { s3CacheDir: join(dir, 'cache'), s3CacheMaxBytes: 1e9 });
  refDates = await commitReference(lake, dir, DATE);
});

afterAll(async () => {
  await lake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function partition(g: Partial<Gen> = {}, sql?: string): Promise<string> {
  return writeParquet(sql ?? genSql({ seed: 1, ...g }), join(dir, `cur-${fileNo++}.parquet`));
}

async function validate(
  file: string,
  o: { family?: FamilyDecl; config?: QualityConfig; noReference?: boolean; runId?: string; quarantineRows?: boolean } = {},
): Promise<ValidationReport> {
  return validateFamily(lake, ENGINE, {
    family: o.family ?? testFamily,
    date: DATE,
    files: [file],
    config: o.config,
    runId: o.runId,
    quarantineRows: o.quarantineRows,
    ...(o.noReference ? { reference: { files: [], dates: [] } } : {}),
  });
}

const r6 = (x: number): number => Number(x.toPrecision(6));
const fired = (r: ValidationReport): CheckResult[] => [...r.failed, ...r.warned];
const find = (r: ValidationReport, check: string, feature?: string): CheckResult | undefined =>
  fired(r).find((c) => c.check === check && (feature === undefined || c.feature === feature || c.rule === feature));
const feature = (r: ValidationReport, name: string) => r.features.find((x) => x.name === name)!;

/** `t` with some rows altered: `when` picks them (by row number i), `set` lists replacements. */
const alter = (when: string, set: Record<string, string>) =>
  `SELECT * REPLACE (${Object.entries(set)
    .map(([c, v]) => `CASE WHEN ${when} THEN ${v} ELSE ${c} END AS ${c}`)
    .join(', ')}) FROM t`;

describe('validation gate', () => {
  it('lets a healthy partition through with no warning, a high score and a small report', async () => {
    const r = await validate(await partition());
    expect(r.failed).toEqual([]);
    expect(r.warned).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.rows).toBe(2000);
    expect(r.reference.dates).toEqual(refDates);
    expect(r.reference.rowsPerDate).toBe(2000);
    expect(r.score).toBeGreaterThan(0.95);
    expect(r.score).toBeLessThanOrEqual(1);
    expect(r.checksRun).toBeGreaterThan(20);
    for (const x of r.features) {
      expect(x.score).toBeGreaterThan(0.9);
      expect(x.histogram?.reference?.length).toBe(x.histogram?.current.length);
      expect(x.psi).toBeLessThan(0.05);
    }
    expect(feature(r, 'amount').ks).toBeLessThan(0.05);
    expect(feature(r, 'category').js).toBeLessThan(0.05);
    expect(feature(r, 'ratio').nullShare).toBeCloseTo(0.1, 1);
    expect(JSON.stringify(r).length).toBeLessThan(20_000);
  });

  it('PSI and KS flag a shift of one standard deviation, not one of a twentieth; drift informs, it does not fail', async () => {
    const shifted = await validate(await partition({ amountMean: 115 }));
    expect(find(shifted, 'psi', 'amount')).toMatchObject({ severity: 'warn' });
    expect(feature(shifted, 'amount').psi).toBeGreaterThan(0.5);
    expect(find(shifted, 'ks', 'amount')).toMatchObject({ severity: 'warn' });
    expect(feature(shifted, 'amount').ks).toBeGreaterThan(0.3);
    expect(find(shifted, 'psi', 'visits')).toBeUndefined();
    expect(shifted.passed).toBe(true);
    expect(feature(shifted, 'amount').components.drift).toBe(0);
    expect(shifted.score).toBeLessThan((await validate(await partition())).score);

    const nudged = await validate(await partition({ amountMean: 100.75 }));
    expect(feature(nudged, 'amount').psi).toBeLessThan(0.05);
    expect(feature(nudged, 'amount').ks).toBeLessThan(0.1);
    expect(fired(nudged)).toEqual([]);
  });

  it('PSI warns between 0.1 and 0.2, and the mean change fires past its threshold', async () => {
    const r = await validate(await partition({ amountMean: 106 }));
    const p = feature(r, 'amount').psi!;
    expect(p).toBeGreaterThan(0.1);
    expect(p).toBeLessThan(0.2);
    // The threshold is raised by the sampling noise of 2,000 rows against 14,000: 9 bins x (1/2000 + 1/14000).
    expect(find(r, 'psi', 'amount')).toMatchObject({ severity: 'warn', threshold: 0.105143 });
    expect(r.passed).toBe(true);
    const doubled = await validate(await partition({ amountMean: 200, amountSd: 30 }));
    expect(find(doubled, 'mean_change', 'amount')).toMatchObject({ severity: 'warn' });
    expect(feature(doubled, 'amount').meanChange).toBeCloseTo(1, 1);
  });

  it('Jensen-Shannon and PSI flag changed category shares; the same shares pass', async () => {
    const r = await validate(await partition({ categoryCuts: [0.1, 0.3, 0.6] }));
    expect(find(r, 'js', 'category')).toMatchObject({ severity: 'warn' });
    expect(feature(r, 'category').js).toBeGreaterThan(0.3);
    expect(find(r, 'psi', 'category')).toMatchObject({ severity: 'warn' });
    const h = feature(r, 'category').histogram!;
    if (h.kind !== 'categorical') throw new Error('expected a categorical histogram');
    expect([...h.categories].sort()).toEqual(['a', 'b', 'c', 'd']);
    const d = h.categories.indexOf('d');
    expect(h.current[d]).toBeCloseTo(0.4, 1);
    expect(h.reference![d]).toBeCloseTo(0.1, 1);
    const same = await validate(await partition({ seed: 2 }));
    expect(find(same, 'js')).toBeUndefined();
    expect(find(same, 'psi')).toBeUndefined();
  });

  it('pools categories beyond the top ones as "(other)"', async () => {
    const many = await partition({}, genSql({ seed: 1, transform: `SELECT * REPLACE ('k' || (i % 50) AS category) FROM t` }));
    const r = await validate(many, { noReference: true, config: { topCategories: 5, severity: { allowed: 'off' } } });
    const h = feature(r, 'category').histogram!;
    expect(h.kind === 'categorical' && h.categories).toEqual(['k0', 'k1', 'k10', 'k11', 'k12', '(other)']);
    expect(h.current[5]).toBeCloseTo(0.9, 5);
    expect(feature(r, 'category').distinct).toBe(50);
  });

  it('counts IQR outliers and warns past the share threshold', async () => {
    const r = await validate(await partition({ transform: alter('i % 100 < 15', { amount: '10000.0' }) }), { noReference: true });
    const c = find(r, 'outliers', 'amount')!;
    expect(c).toMatchObject({ severity: 'warn', threshold: 0.1 });
    expect(c.rows).toBeGreaterThanOrEqual(300); // the 300 planted, plus the normal's own few
    expect(c.rows).toBeLessThan(310);
    expect(feature(r, 'amount').outlierShare).toBeCloseTo(c.rows! / 2000, 6);
    expect(feature(r, 'amount').components.outliers).toBeCloseTo(1 - c.rows! / 2000, 6);
    expect(r.notes.join(' ')).toMatch(/no reference/);
    const healthy = await validate(await partition(), { noReference: true });
    expect(feature(healthy, 'amount').outlierShare).toBeLessThan(0.02);
    expect(find(healthy, 'outliers')).toBeUndefined();
  });

  it('flags a constant category and a zero-variance number', async () => {
    const r = await validate(await partition({ transform: `SELECT * REPLACE ('a' AS category, 7::BIGINT AS visits) FROM t` }), { noReference: true });
    expect(find(r, 'constant', 'category')).toMatchObject({ severity: 'warn' });
    expect(find(r, 'zero_variance', 'visits')).toMatchObject({ severity: 'warn' });
    expect(feature(r, 'visits').components.distribution).toBe(0);
    expect(feature(r, 'category').components.distribution).toBe(0);
    expect(r.passed).toBe(true);
  });

  it('flags extreme skew, and not a symmetric distribution', async () => {
    const r = await validate(await partition({ transform: alter('i % 500 = 0', { amount: '1e7' }) }), { noReference: true });
    expect(Math.abs(feature(r, 'amount').skewness!)).toBeGreaterThan(10);
    expect(find(r, 'skew', 'amount')).toMatchObject({ severity: 'warn', threshold: 10 });
    expect(feature(r, 'amount').components.distribution).toBeLessThan(1);
    const healthy = await validate(await partition(), { noReference: true });
    expect(find(healthy, 'skew')).toBeUndefined();
  });

  it('fails on duplicate keys and on null keys, with samples', async () => {
    const dup = await validate(await partition({ transform: `SELECT * FROM t UNION ALL SELECT * FROM t WHERE i < 3 UNION ALL SELECT * FROM t WHERE i = 0` }));
    expect(find(dup, 'keys_unique')).toMatchObject({ severity: 'error', rows: 4 });
    expect(find(dup, 'keys_unique')!.sample).toEqual([
      { user_id: 'u000000', row_count: 3 },
      { user_id: 'u000001', row_count: 2 },
      { user_id: 'u000002', row_count: 2 },
    ]);
    expect(dup.passed).toBe(false);
    expect(dup.badRowShare).toBeCloseTo(4 / 2004, 6);

    const nulls = await validate(await partition({ transform: alter('i IN (5, 9)', { user_id: 'NULL' }) }));
    expect(find(nulls, 'keys_not_null')).toMatchObject({ severity: 'error', rows: 2 });
    expect(find(nulls, 'keys_not_null')!.sample!.map((s) => s.user_id)).toEqual([null, null]);
    expect(find(nulls, 'keys_unique')).toBeUndefined();
  });

  it('fails on a schema mismatch and still checks what it can', async () => {
    const sql = genSql({ seed: 1, transform: `SELECT * EXCLUDE (visits) REPLACE (amount::VARCHAR AS amount), 1 AS extra FROM t` });
    const r = await validate(await partition({}, sql));
    const schema = find(r, 'schema')!;
    expect(schema.severity).toBe('error');
    expect(schema.message).toContain('feature amount is VARCHAR, declared DOUBLE');
    expect(schema.message).toContain('feature visits is missing');
    expect(schema.message).toContain('undeclared column(s): extra INTEGER');
    expect(feature(r, 'amount')).toMatchObject({ missing: true, score: 0 });
    expect(feature(r, 'visits')).toMatchObject({ missing: true, score: 0 });
    expect(feature(r, 'ratio').missing).toBeUndefined();
    expect(find(r, 'rule', 'amount_covers_visits')).toMatchObject({ severity: 'error' });
    expect(find(r, 'rule', 'amount_covers_visits')!.message).toMatch(/cannot be evaluated/);
    expect(r.score).toBeLessThan(0.6);
  });

  it('counts row-level breaks of every kind with at most 5 sample rows each', async () => {
    const sql = genSql({
      seed: 1,
      transform: `SELECT * REPLACE (
        CASE WHEN i < 7 THEN -1 ELSE visits END AS visits,
        CASE WHEN i BETWEEN 10 AND 11 THEN NULL WHEN i = 12 THEN 'nan'::DOUBLE WHEN i BETWEEN 20 AND 23 THEN 1.0 ELSE amount END AS amount,
        CASE WHEN i BETWEEN 30 AND 32 THEN 'zzz' ELSE category END AS category,
        CASE WHEN i BETWEEN 40 AND 41 THEN 1.5 ELSE ratio END AS ratio) FROM t`,
    });
    const r = await validate(await partition({}, sql));
    expect(r.passed).toBe(false);
    expect(find(r, 'range', 'visits')).toMatchObject({ severity: 'error', rows: 7 });
    expect(find(r, 'range', 'visits')!.sample).toHaveLength(5);
    expect(find(r, 'range', 'visits')!.sample![0]).toEqual({ user_id: 'u000000', visits: -1 });
    expect(find(r, 'range', 'ratio')).toMatchObject({ rows: 2 });
    expect(find(r, 'not_null', 'amount')).toMatchObject({ rows: 2 });
    expect(find(r, 'finite', 'amount')).toMatchObject({ rows: 1, sample: [{ user_id: 'u000012', amount: 'nan' }] });
    expect(find(r, 'allowed', 'category')).toMatchObject({
      rows: 3,
      sample: [
        { user_id: 'u000030', category: 'zzz' },
        { user_id: 'u000031', category: 'zzz' },
        { user_id: 'u000032', category: 'zzz' },
      ],
    });
    // amount 1.0 < visits on rows 20-23 (unless visits happens to be 0 or 1), and -1 visits never break it
    const rule = find(r, 'rule', 'amount_covers_visits')!;
    expect(rule.rows).toBeGreaterThanOrEqual(3);
    expect(rule.rows).toBeLessThanOrEqual(4);
    expect(Object.keys(rule.sample![0]!)).toEqual(['user_id', 'amount', 'visits', 'ratio', 'category']);
    expect(r.badRowShare).toBeGreaterThan(0.008);
    expect(find(r, 'range', 'amount')).toBeUndefined(); // NaN is the finite check's, not the range's
  });

  it('fails when a nullable feature has more nulls than allowed', async () => {
    const r = await validate(await partition({ ratioNullShare: 0.5 }));
    expect(find(r, 'null_share', 'ratio')).toMatchObject({ severity: 'error', threshold: 0.2 });
    expect(feature(r, 'ratio').nullShare).toBeCloseTo(0.5, 1);
    expect(feature(r, 'ratio').components.nulls).toBeCloseTo(1 - (0.5 - 0.2) / 0.8, 1);
  });

  it('warns when a feature allowed to be null is null everywhere, where the reference had values', async () => {
    const family = { ...testFamily, features: testFamily.features.map((x) => (x.name === 'ratio' ? { ...x, maxNullShare: 1 } : x)) };
    const r = await validate(await partition({ transform: alter('true', { ratio: 'NULL' }) }), { family });
    expect(find(r, 'null_share', 'ratio')).toMatchObject({
      severity: 'warn',
      message: expect.stringMatching(/every value is null, where the reference had values/),
    });
    expect(feature(r, 'ratio').components.nulls).toBe(0);
    expect(r.score).toBeLessThan(1);
  });

  it('checks vectors whole: a NaN, infinite or null element, or an unusual length (empty among longer ones)', async () => {
    const family: FamilyDecl = { ...testFamily, features: [{ name: 'vector', type: 'FLOAT[]', description: 'an embedding' }], rules: [] };
    const sql = `SELECT 'u' || i AS user_id, CASE i
        WHEN 1 THEN []::FLOAT[] WHEN 2 THEN [1, 'nan'::FLOAT, 3]::FLOAT[] WHEN 3 THEN [1, 'inf'::FLOAT, 3]::FLOAT[]
        WHEN 4 THEN [1, NULL, 3]::FLOAT[] WHEN 5 THEN [1, 2]::FLOAT[] ELSE [1, 2, 3]::FLOAT[] END AS vector,
      TIMESTAMP '${DATE} 00:00:00' + INTERVAL 1 DAY AS feature_timestamp, TIMESTAMP '${DATE} 03:00:00' AS created_timestamp
      FROM range(100) t(i)`;
    const r = await validate(await partition({}, sql), { family, noReference: true });
    expect(find(r, 'finite', 'vector')).toMatchObject({ severity: 'error', rows: 5 });
  });

  it('says so when the reference dates have no rows, instead of comparing row counts silently not', async () => {
    const empty = await partition({}, `SELECT * FROM (${genSql({ seed: 1 })}) LIMIT 0`);
    const r = await validateFamily(lake, ENGINE, {
      family: testFamily,
      date: DATE,
      files: [await partition()],
      reference: { files: [empty], dates: ['2024-02-29'] },
    });
    expect(r.notes.join(' ')).toMatch(/reference dates \(2024-02-29\) have no rows: row count not compared/);
  });

  it('reports a rule whose SQL cannot be evaluated', async () => {
    const family = { ...testFamily, rules: [{ name: 'broken', description: '', sql: 'no_such_column > 0' }] };
    const r = await validate(await partition(), { family });
    expect(find(r, 'rule', 'broken')).toMatchObject({ severity: 'error' });
    expect(find(r, 'rule', 'broken')!.message).toMatch(/broken cannot be evaluated: .*no_such_column/);
  });

  it('warns on a row count far from the reference', async () => {
    const r = await validate(await partition({ rows: 600 }));
    expect(find(r, 'row_count_change')).toMatchObject({ severity: 'warn', threshold: 0.5 });
    expect(r.reference.rowCountChange).toBeCloseTo(-0.7, 6);
  });

  it('fails on an empty partition', async () => {
    const r = await validate(await partition({ rows: 0 }));
    expect(find(r, 'not_empty')).toMatchObject({ severity: 'error' });
    expect(r.score).toBe(0);
    expect(r.passed).toBe(false);
  });
});

describe('severity overrides', () => {
  const breaks = () => partition({ amountMean: 115, transform: alter('i < 4', { visits: '-1' }) });

  it('a feature declaration turns an error into a warning', async () => {
    const features = testFamily.features.map(
      (x): FeatureDecl => (x.name === 'visits' ? { ...x, severity: { range: 'warn' } } : x.name === 'amount' ? { ...x, severity: { psi: 'warn' } } : x),
    );
    const r = await validate(await breaks(), { family: { ...testFamily, features } });
    expect(find(r, 'range', 'visits')!.severity).toBe('warn');
    expect(find(r, 'psi', 'amount')!.severity).toBe('warn');
    expect(r.passed).toBe(true);
  });

  it('the run config wins over the declaration, and can switch checks off', async () => {
    const features = testFamily.features.map((x): FeatureDecl => (x.name === 'visits' ? { ...x, severity: { range: 'warn' } } : x));
    const config: QualityConfig = { features: { visits: { range: 'error' } }, severity: { psi: 'off', ks: 'off' } };
    const r = await validate(await breaks(), { family: { ...testFamily, features }, config });
    expect(find(r, 'range', 'visits')!.severity).toBe('error');
    expect(find(r, 'psi')).toBeUndefined();
    expect(find(r, 'ks')).toBeUndefined();
    expect(feature(r, 'amount').psi).toBeGreaterThan(0.5); // still measured
    expect(feature(r, 'amount').components.drift).toBeUndefined(); // and not scored
  });

  it('thresholds are configurable', async () => {
    const r = await validate(await partition({ amountMean: 106 }), { config: { thresholds: { psi: { warn: 0.0001 } } } });
    expect(find(r, 'psi', 'amount')).toMatchObject({ severity: 'warn', threshold: r6(0.0001 + 9 * (1 / 2000 + 1 / 14000)) });
  });

  it('drift blocks a family that declares it so, unless the run is drift-warn-only; hard checks block either way', async () => {
    const gated: FamilyDecl = { ...testFamily, severity: { psi: 'error' } };
    const shifted = await partition({ amountMean: 115 });
    const r = await validate(shifted, { family: gated });
    expect(find(r, 'psi', 'amount')).toMatchObject({ severity: 'error' });
    expect(find(r, 'ks', 'amount')).toMatchObject({ severity: 'warn' });
    expect(r.passed).toBe(false);
    const warnOnly = await validate(shifted, { family: gated, config: { driftWarnOnly: true } });
    expect(find(warnOnly, 'psi', 'amount')).toMatchObject({ severity: 'warn' });
    expect(warnOnly.passed).toBe(true);
    const broken = await validate(await breaks(), { family: gated, config: { driftWarnOnly: true } });
    expect(find(broken, 'range', 'visits')).toMatchObject({ severity: 'error' });
    expect(broken.passed).toBe(false);
  });

  it('the quarantine of broken rows can come from the run config', async () => {
    const r = await validate(await breaks(), { runId: 'run-config-q', config: { quarantineRows: true } });
    expect(r.quarantine?.rows).toBe(4);
    expect(r.passed).toBe(true);
  });
});

describe('row quarantine', () => {
  it('moves rows breaking row rules to the quarantine and validates the rest', async () => {
    const file = await partition({ transform: `${alter('i < 6', { visits: '-1' })} UNION ALL SELECT * REPLACE ('zzz' AS category) FROM t WHERE i = 1` });
    const r = await validate(file, { runId: 'run-q1', quarantineRows: true });
    expect(r.passed).toBe(true);
    expect(r.rows).toBe(2000 - 6);
    expect(r.quarantine).toEqual({
      rows: 7,
      path: 'quarantine/features/test_features/feature_date=2024-03-01/run=run-q1',
      stagingPath: 'staging/test_features/feature_date=2024-03-01/run=run-q1-filtered',
    });
    expect(find(r, 'range', 'visits')).toMatchObject({ severity: 'warn', quarantined: true, rows: 6 });
    expect(find(r, 'allowed', 'category')).toMatchObject({ severity: 'warn', quarantined: true, rows: 1 });
    // the duplicate key u000001 left with its broken copies
    expect(find(r, 'keys_unique')).toBeUndefined();

    const kept = (await committedFiles(lake, r.quarantine!.stagingPath))!;
    const moved = (await committedFiles(lake, r.quarantine!.path))!;
    const [k, q] = await withEngine(ENGINE, async (db) => [
      await db.one<{ n: number; bad: number }>(
        `SELECT count(*)::BIGINT n, count(*) FILTER (WHERE visits < 0 OR category = 'zzz')::BIGINT bad FROM read_parquet(${sqlStr(await lake.localFile(kept[0]!))})`,
      ),
      await db.all<{ user_id: string; quarantine_reasons: string[] }>(
        `SELECT user_id, quarantine_reasons FROM read_parquet(${sqlStr(await lake.localFile(moved[0]!))}) ORDER BY user_id, len(quarantine_reasons)`,
      ),
    ]);
    expect(k).toEqual({ n: 1994, bad: 0 });
    expect(q).toHaveLength(7);
    expect(q[0]).toEqual({ user_id: 'u000000', quarantine_reasons: ['range:visits'] });
    expect(q.find((x) => x.quarantine_reasons.includes('allowed:category'))!.user_id).toBe('u000001');
    expect(existsSync(file)).toBe(true); // the original is untouched
  });

  it('does not quarantine warn-level breaks or key problems', async () => {
    const features = testFamily.features.map((x): FeatureDecl => (x.name === 'visits' ? { ...x, severity: { range: 'warn' } } : x));
    const r = await validate(await partition({ transform: alter('i < 3', { visits: '-1', user_id: `'u000009'` }) }), {
      family: { ...testFamily, features },
      runId: 'run-q2',
      quarantineRows: true,
    });
    expect(r.quarantine).toBeUndefined();
    expect(find(r, 'range', 'visits')).toMatchObject({ severity: 'warn', rows: 3 });
    expect(find(r, 'keys_unique')).toMatchObject({ severity: 'error', rows: 3 });
    expect(r.passed).toBe(false);
  });
});

describe('bad input', () => {
  it('refuses no files, missing files, quarantine without a run id, a bad date or config', async () => {
    const file = await partition();
    await expect(validateFamily(lake, ENGINE, { family: testFamily, date: DATE, files: [] })).rejects.toThrow(/has no files/);
    await expect(validateFamily(lake, ENGINE, { family: testFamily, date: DATE, files: [join(dir, 'nope.parquet')] })).rejects.toThrow(
      /not found: .*nope\.parquet/,
    );
    await expect(validateFamily(lake, ENGINE, { family: testFamily, date: DATE, files: [file], quarantineRows: true })).rejects.toThrow(/needs the run id/);
    await expect(validateFamily(lake, ENGINE, { family: testFamily, date: '2024-02-30', files: [file] })).rejects.toThrow(/invalid date/);
    await expect(validateFamily(lake, ENGINE, { family: testFamily, date: DATE, files: [file], config: { histogramBins: 0 } })).rejects.toThrow(
      /histogramBins/,
    );
  });
});

describe('reference', () => {
  it('takes the latest committed gold dates before the date, skipping uncommitted ones', async () => {
    const l = openLake(join(dir, 'lake-ref'), { s3CacheDir: join(dir, 'cache-ref'), s3CacheMaxBytes: 1e9 });
    const file = await partition({ rows: 10 });
    for (const d of ['2024-02-20', '2024-02-21', '2024-02-22', '2024-02-24', '2024-03-01', '2024-03-02'])
      await commitPartition(l, paths.gold('f', d), [{ localPath: file }]);
    await l.write(`${paths.gold('f', '2024-02-23')}/part-0-x.parquet`, 'crashed write, no marker');
    const r = await committedGoldDates(l, 'f', '2024-03-01', '2024-02-21');
    expect([...r.keys()]).toEqual(['2024-02-24', '2024-02-22', '2024-02-21']);
    for (const keys of r.values()) {
      expect(keys).toHaveLength(1);
      expect(existsSync(await l.localFile(keys[0]!))).toBe(true);
    }
    expect([...(await committedGoldDates(l, 'f', '2024-03-01')).keys()]).toEqual(['2024-02-24', '2024-02-22', '2024-02-21', '2024-02-20']);
    expect((await committedGoldDates(l, 'nothing', '2024-03-01')).size).toBe(0);
  });

  it('samples a large reference by key, the same way every time', async () => {
    const file = await partition({ amountMean: 115 });
    const config = { maxReferenceRows: 3000 };
    const a = await validate(file, { config });
    const b = await validate(file, { config });
    expect(a.notes.join(' ')).toMatch(/reference sampled by key to about 3000 of its 14000 rows/);
    expect(a.reference.rows).toBe(14000);
    expect(a.reference.rowsPerDate).toBe(2000);
    expect(feature(a, 'amount').psi).toBe(feature(b, 'amount').psi);
    expect(feature(a, 'amount').ks).toBe(feature(b, 'amount').ks);
    expect(find(a, 'psi', 'amount')).toMatchObject({ severity: 'warn' });
    const full = await validate(file);
    expect(Math.abs(feature(a, 'amount').ks! - feature(full, 'amount').ks!)).toBeLessThan(0.05);
  });

  it('a wide family keeps its report under 100 KB', async () => {
    const n = 60;
    const features: FeatureDecl[] = [
      ...Array.from({ length: n }, (_, j): FeatureDecl => ({ name: `x${j}`, type: 'DOUBLE', description: '' })),
      ...Array.from({ length: 10 }, (_, j): FeatureDecl => ({ name: `c${j}`, type: 'VARCHAR', description: '' })),
    ];
    const cols = [
      ...features.map((x, j) => (x.type === 'DOUBLE' ? `(hash(i, ${j}) % 100000) / 7.0 AS x${j}` : `'cat' || (hash(i, ${j}) % 1000) AS ${x.name}`)),
    ];
    const sql = `SELECT 'u' || i AS user_id, ${cols.join(', ')}, TIMESTAMP '2024-03-02' AS feature_timestamp, TIMESTAMP '2024-03-02' AS created_timestamp FROM range(3000) r(i)`;
    const file = await partition({}, sql);
    const family: FamilyDecl = { ...testFamily, name: 'wide_features', features, rules: [] };
    const r = await validate(file, { family, noReference: true });
    expect(r.passed).toBe(true);
    expect(r.features.every((x) => x.histogram)).toBe(true);
    expect(JSON.stringify(r).length).toBeLessThan(100_000);
  });
});

describe('on S3', () => {
  it('finds the reference in the lake and quarantines rows to it', async () => {
    const s3 = openLake(s3LakeUri(), { s3CacheDir: join(dir, 'cache-s3'), s3CacheMaxBytes: 1e9 });
    try {
      await commitReference(s3, dir, DATE, 3);
      const file = await partition({ amountMean: 115, transform: alter('i < 2', { visits: '-1' }) });
      const r = await validateFamily(s3, ENGINE, { family: testFamily, date: DATE, files: [file], runId: 'run-s3', quarantineRows: true });
      expect(r.reference.dates).toHaveLength(3);
      expect(find(r, 'psi', 'amount')).toMatchObject({ severity: 'warn' });
      expect(r.quarantine?.rows).toBe(2);
      expect(await committedFiles(s3, r.quarantine!.stagingPath)).toHaveLength(1);
      expect(await committedFiles(s3, r.quarantine!.path)).toHaveLength(1);
    } finally {
      await s3.close();
    }
  });
});
