// The statistical family's SQL on hand-made dependency tables: an empty family still gets a row per
// numeric feature, and a constant column has no shape (stddev 0, no skewness or kurtosis).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/duckdb.js';
import { describedColumns, statisticalFeatures, statisticsSql } from '../../src/features/families/statistical-features.js';
import { userFeatures } from '../../src/features/families/user-features.js';
import { STATISTICS } from '../../src/features/statistics/index.js';
import type { StatisticsDecl } from '../../src/features/types.js';
import { toyFamily } from '../support/toy-family.js';

const empty = toyFamily([{ name: 'x', type: 'DOUBLE', description: 'x' }], { name: 'empty_family' });
const constant = toyFamily(
  [
    { name: 'y', type: 'DOUBLE', description: 'y' },
    { name: 'k', type: 'BIGINT', description: 'k' },
  ],
  { name: 'constant_family' },
);

describe('statistical features', () => {
  let db: Engine;
  beforeAll(async () => {
    db = await Engine.create({ threads: 1, memoryLimit: '512MB' });
    await db.run('CREATE TABLE empty_family (user_id VARCHAR, x DOUBLE)');
    // 0.7 six times: its float mean is an ulp off 0.7, which naive moments turn into a skewness of 1.37.
    await db.run('CREATE TABLE constant_family AS SELECT range::VARCHAR AS user_id, 0.7::DOUBLE AS y, 3::BIGINT AS k FROM range(6)');
  });
  afterAll(() => db.close());

  it('gives every numeric feature a row, with count 0 for an empty family, and no shape for a constant', async () => {
    const sql = statisticalFeatures.sql({ date: "DATE '2026-01-01'", asOf: "TIMESTAMP '2026-01-02'", dependencies: [empty, constant] });
    const rows = await db.all(`SELECT * FROM (${sql}) ORDER BY family, feature`);
    expect(rows.map((r) => `${r.family}:${r.feature}`)).toEqual(['constant_family:k', 'constant_family:y', 'empty_family:x']);
    expect(rows[2]).toMatchObject({ count: 0, null_count: 0, mean: null, stddev: null, min: null, max: null, skewness: null, kurtosis: null });
    for (const r of rows.slice(0, 2)) {
      expect(r).toMatchObject({ count: 6, null_count: 0, stddev: 0, skewness: null, kurtosis: null, iqr: 0 });
      expect(r.min).toBe(r.max);
    }
    expect(rows[1]!.mean as number).toBeCloseTo(0.7, 12);
  });

  it('describes a declared column by the same SQL as a feature holding its values', async () => {
    await db.run('CREATE TABLE twice_family AS SELECT user_id, 2 * y AS y_twice FROM constant_family');
    await db.run('INSERT INTO constant_family VALUES (6, 2.5, 4), (7, NULL, 5)');
    await db.run("INSERT INTO twice_family VALUES ('6', 5.0), ('7', NULL)");
    try {
      const sql = statisticsSql([
        { family: 'constant_family', feature: 'y_twice', expr: '(2 * y)' },
        { family: 'twice_family', feature: 'y_twice', expr: 'y_twice' },
      ]);
      const [a, b] = await db.all(`SELECT * FROM (${sql}) ORDER BY family`);
      expect({ ...a, family: undefined }).toEqual({ ...b, family: undefined });
      expect(a).toMatchObject({ family: 'constant_family', feature: 'y_twice', count: 7, null_count: 1, min: 1.4, max: 5 });
    } finally {
      await db.run('DELETE FROM constant_family WHERE user_id IN (6, 7)');
    }
  });

  it('refuses a declared column named like a feature or twice, and a family it does not describe', () => {
    const decl = (family: string, ...names: string[]): StatisticsDecl => ({
      family,
      description: 'test',
      columns: names.map((name) => ({ name, sql: '1', description: name })),
    });
    expect(() => describedColumns([userFeatures], [decl('user_features', 'watch_time_30d')])).toThrow(/watch_time_30d of user_features/);
    expect(() => describedColumns([userFeatures], [decl('user_features', 'a', 'a')])).toThrow(/declared twice/);
    expect(() => describedColumns([userFeatures], [decl('user_embeddings', 'a')])).toThrow(/describes only user_features/);
  });

  it('includes the declared example: ln(1 + watch_time_30d) of user_features', () => {
    expect(STATISTICS.map((d) => d.family)).toContain('user_features');
    const rows = describedColumns([userFeatures]);
    expect(rows.map((r) => r.feature)).toEqual([...userFeatures.features.filter((f) => f.type !== 'VARCHAR').map((f) => f.name), 'log_watch_time_30d']);
    expect(rows.at(-1)).toEqual({ family: 'user_features', feature: 'log_watch_time_30d', expr: '(ln(1 + watch_time_30d))' });
    expect(statisticalFeatures.sql({ date: "DATE '2026-01-01'", asOf: "TIMESTAMP '2026-01-02'", dependencies: [userFeatures] })).toContain(
      "'log_watch_time_30d' AS feature",
    );
  });
});
