// The normalization formulas evaluated in DuckDB SQL (training sets) and in TypeScript (the feature
// server) give the same bits, on random values and parameters: constants (stddev 0, min = max, IQR 0),
// nulls, missing parameters, negatives, huge and tiny magnitudes, -0, NaN and infinities, DOUBLE and
// BIGINT values (BIGINT cast to DOUBLE; JSON parsing of the online record rounds the same way).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/duckdb.js';
import { mulberry32 } from '../../src/features/embeddings/prng.js';
import {
  hasParameters,
  hasParametersSql,
  NORMALIZE_METHODS,
  type NormalizationParameters,
  normalizeSql,
  normalizeValue,
  PARAMETER_COLUMNS,
} from '../../src/offline/normalize.js';

const SPECIAL = [0, -0, 1, -1, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308, Number.NaN, Infinity, -Infinity];

function randomDouble(r: () => number): number | null {
  const k = r();
  if (k < 0.08) return null;
  if (k < 0.16) return SPECIAL[Math.floor(r() * SPECIAL.length)]!;
  const magnitude = 10 ** Math.floor(r() * 640 - 320);
  const v = (r() * 2 - 1) * (k < 0.6 ? 1000 : magnitude);
  return Number.isFinite(v) ? v : 0;
}

function sqlDouble(v: number | null): string {
  if (v === null) return 'NULL::DOUBLE';
  if (Number.isNaN(v)) return "'nan'::DOUBLE";
  if (v === Infinity) return "'inf'::DOUBLE";
  if (v === -Infinity) return "'-inf'::DOUBLE";
  if (Object.is(v, -0)) return "'-0.0'::DOUBLE";
  return `'${v}'::DOUBLE`;
}

interface Case {
  x: number | null;
  /** A BIGINT value as text, when the case is about an integer feature. */
  bigint?: string;
  p: NormalizationParameters | undefined;
}

function randomCase(r: () => number): Case {
  const k = r();
  let x = randomDouble(r);
  let bigint: string | undefined;
  if (k < 0.15) {
    const big = BigInt(Math.floor(r() * 2 ** 31)) * BigInt(Math.floor(r() * 2 ** 31)) * (r() < 0.5 ? -1n : 1n);
    bigint = big.toString();
    x = Number(bigint);
  }
  if (k > 0.95) return { x, p: undefined };
  const p = Object.fromEntries(PARAMETER_COLUMNS.map((c) => [c, randomDouble(r)])) as NormalizationParameters;
  const shape = r();
  if (shape < 0.15) {
    // a constant feature: every statistic the value itself
    const c = x ?? randomDouble(r) ?? 3;
    Object.assign(p, { mean: c, stddev: 0, min: c, max: c, p50: c, iqr: 0 });
  } else if (shape < 0.3) {
    Object.assign(p, { iqr: 0, stddev: Math.abs(p.stddev ?? 1) });
  } else if (shape < 0.8 && p.min !== null && p.max !== null && p.min > p.max) {
    Object.assign(p, { min: p.max, max: p.min });
  }
  return { x, ...(bigint !== undefined ? { bigint } : {}), p };
}

describe('normalization in SQL and in TypeScript', () => {
  let db: Engine;
  beforeAll(async () => {
    db = await Engine.create({ threads: 1, memoryLimit: '512MB' });
  });
  afterAll(() => db.close());

  it.each([1, 2, 3])('gives the same bits for every method (seed %i)', async (seed) => {
    const r = mulberry32(seed);
    const cases = Array.from({ length: 1500 }, () => randomCase(r));
    const rows = cases.map(
      (c, i) =>
        `(${i}, ${sqlDouble(c.x)}, ${c.bigint !== undefined ? `${c.bigint}::BIGINT` : 'NULL::BIGINT'}, ${c.p === undefined} , ${PARAMETER_COLUMNS.map((k) => sqlDouble(c.p?.[k] ?? null)).join(', ')})`,
    );
    await db.run(`CREATE OR REPLACE TABLE cases AS SELECT * FROM (VALUES ${rows.join(', ')}) t(i, x, b, absent, ${PARAMETER_COLUMNS.join(', ')})`);
    const col = (k: string) => `CASE WHEN absent THEN NULL ELSE ${k} END`;
    const select = NORMALIZE_METHODS.flatMap((m) => [`${normalizeSql(m, 'coalesce(b::DOUBLE, x)', col)} AS ${m}`, `${hasParametersSql(m, col)} AS has_${m}`]);
    const out = await db.all<Record<string, number | boolean | null>>(
      `SELECT x AS x_back, ${PARAMETER_COLUMNS.map((k) => `${k} AS ${k}_back`).join(', ')}, ${select.join(', ')} FROM cases ORDER BY i`,
    );
    let compared = 0;
    cases.forEach((c, i) => {
      const o = out[i]!;
      // The inputs reached DuckDB exactly.
      if (c.bigint === undefined) expect(Object.is(o.x_back, c.x), `x of case ${i}`).toBe(true);
      for (const k of PARAMETER_COLUMNS) expect(Object.is(o[`${k}_back`], c.p?.[k] ?? null), `${k} of case ${i}`).toBe(true);
      for (const m of NORMALIZE_METHODS) {
        const ts = normalizeValue(m, c.x, c.p);
        const sql = o[m];
        if (!Object.is(ts, sql)) throw new Error(`${m} of case ${i} ${JSON.stringify({ ...c, x: String(c.x) })}: TypeScript ${ts}, SQL ${sql}`);
        expect(o[`has_${m}`]).toBe(hasParameters(m, c.p));
        compared++;
      }
    });
    expect(compared).toBe(cases.length * 3);
  });

  it('gives the documented results at the edges', () => {
    const p: NormalizationParameters = { mean: 10, stddev: 2, min: 4, max: 20, p50: 9, iqr: 4 };
    expect(normalizeValue('zscore', 14, p)).toBe(2);
    expect(normalizeValue('minmax', 8, p)).toBe(0.25);
    expect(normalizeValue('robust', 7, p)).toBe(-0.5);
    const constant: NormalizationParameters = { mean: 5, stddev: 0, min: 5, max: 5, p50: 5, iqr: 0 };
    for (const m of NORMALIZE_METHODS) {
      expect(normalizeValue(m, 5, constant)).toBe(0);
      expect(normalizeValue(m, null, p)).toBeNull();
      expect(normalizeValue(m, 5, undefined)).toBeNull();
    }
    // A single value has no stddev: no parameters for zscore, while minmax and robust see a constant.
    const single: NormalizationParameters = { mean: 5, stddev: null, min: 5, max: 5, p50: 5, iqr: 0 };
    expect(hasParameters('zscore', single)).toBe(false);
    expect(normalizeValue('zscore', 5, single)).toBeNull();
    expect(normalizeValue('minmax', 5, single)).toBe(0);
  });
});
