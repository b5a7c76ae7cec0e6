// The statistical family's SQL on hand-made dependency tables: an empty family still gets a row per
// numeric feature, and a constant column has no shape (stddev 0, no skewness or kurtosis).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/duckdb.js';
import { statisticalFeatures } from '../../src/features/families/statistical-features.js';
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
});
