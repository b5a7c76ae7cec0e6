// Every on-demand expression computed by the JavaScript path (the feature server) equals the DuckDB
// path (training sets), on random expressions over random values: nulls, NaN and infinities, -0,
// huge and tiny magnitudes, vectors of different lengths or with null elements, time zones with
// daylight saving, strings with quotes. Doubles agree within 1e-12 relative (zero's sign aside), nulls
// exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/duckdb.js';
import { mulberry32 } from '../../src/features/embeddings/prng.js';
import { compileJs, type Row } from '../../src/features/on-demand/compile-js.js';
import { compileSql } from '../../src/features/on-demand/compile-sql.js';
import { check, parse } from '../../src/features/on-demand/expression.js';
import type { ExprType, ResultType, Value } from '../../src/features/on-demand/types.js';

const NAMES: Record<string, ExprType> = {
  d1: 'DOUBLE',
  d2: 'DOUBLE',
  i1: 'BIGINT',
  b1: 'BOOLEAN',
  s1: 'VARCHAR',
  s2: 'VARCHAR',
  t1: 'TIMESTAMP',
  t2: 'TIMESTAMP',
  v1: 'FLOAT[]',
  v2: 'FLOAT[]',
  w1: 'DOUBLE[]',
  l1: 'VARCHAR[]',
};
const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney', 'America/Sao_Paulo'];
const STRINGS = ['', 'a', 'b', "it's", 'music', 'gaming', 'é', '🎵'];
const SPECIAL = [0, -0, 1, -1, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308, Number.NaN, Infinity, -Infinity];

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function randomDouble(r: () => number): number | null {
  const k = r();
  if (k < 0.1) return null;
  if (k < 0.2) return pick(r, SPECIAL);
  if (k < 0.3) return Math.floor(r() * 7) - 3;
  const v = (r() * 2 - 1) * (k < 0.7 ? 100 : 10 ** Math.floor(r() * 600 - 300));
  return Number.isFinite(v) ? v : 0;
}

function randomVector(r: () => number, float: boolean): (number | null)[] | null {
  const k = r();
  if (k < 0.08) return null;
  const n = k < 0.15 ? Math.floor(r() * 5) : 3;
  return Array.from({ length: n }, () => {
    const e = r();
    const v = e < 0.03 ? null : e < 0.05 ? pick(r, [Number.NaN, Infinity, 0]) : e < 0.1 ? 0 : (r() * 2 - 1) * (e < 0.15 ? 1e30 : 2);
    return v === null ? null : float ? Math.fround(v) : v;
  });
}

function randomRow(r: () => number): Row {
  const ts = () => (r() < 0.08 ? null : Math.floor(Date.UTC(1995, 0, 1) * 1000 + r() * 50 * 365.25 * 86400e6));
  return {
    d1: randomDouble(r),
    d2: randomDouble(r),
    i1: r() < 0.1 ? null : r() < 0.1 ? pick(r, [2 ** 53 + 2, -(2 ** 60)]) : Math.floor(r() * 200) - 100,
    b1: r() < 0.15 ? null : r() < 0.5,
    s1: r() < 0.1 ? null : pick(r, STRINGS),
    s2: r() < 0.1 ? null : pick(r, STRINGS),
    t1: ts(),
    t2: ts(),
    v1: randomVector(r, true),
    v2: randomVector(r, true),
    w1: randomVector(r, false),
    l1: r() < 0.1 ? null : Array.from({ length: Math.floor(r() * 4) }, () => (r() < 0.1 ? null : pick(r, STRINGS))),
  };
}

function sqlDouble(v: number | null, t = 'DOUBLE'): string {
  if (v === null) return `NULL::${t}`;
  if (Number.isNaN(v)) return `'nan'::${t}`;
  if (v === Infinity) return `'inf'::${t}`;
  if (v === -Infinity) return `'-inf'::${t}`;
  if (Object.is(v, -0)) return `'-0.0'::${t}`;
  return `'${v}'::${t}`;
}
const sqlStr = (s: string | null) => (s === null ? 'NULL::VARCHAR' : `'${s.replace(/'/g, "''")}'`);

function sqlValue(v: Value | undefined, t: ExprType): string {
  if (v === null || v === undefined) return `NULL::${t}`;
  switch (t) {
    case 'DOUBLE':
      return sqlDouble(v as number);
    case 'BIGINT':
      return `${BigInt(v as number)}::BIGINT`;
    case 'BOOLEAN':
      return v ? 'TRUE' : 'FALSE';
    case 'VARCHAR':
      return sqlStr(v as string);
    case 'TIMESTAMP':
      return `make_timestamp(${v}::BIGINT)`;
    case 'FLOAT[]':
    case 'DOUBLE[]': {
      const el = t === 'FLOAT[]' ? 'FLOAT' : 'DOUBLE';
      return `[${(v as (number | null)[]).map((x) => sqlDouble(x, el)).join(', ')}]::${t}`;
    }
    case 'VARCHAR[]':
      return `[${(v as (string | null)[]).map(sqlStr).join(', ')}]::VARCHAR[]`;
  }
}

/** A random expression of a type, as text (so the parser is exercised too). */
function gen(r: () => number, t: ExprType, depth: number): string {
  const leaf = depth <= 0 || r() < 0.25;
  const sub = (u: ExprType) => gen(r, u, depth - 1);
  switch (t) {
    case 'DOUBLE': {
      if (leaf) return pick(r, ['d1', 'd2', 'i1', 'd1', 'd2', '2.5', '0', '1e-3', 'NULL', '3']);
      const k = Math.floor(r() * 12);
      if (k < 4) return `(${sub('DOUBLE')} ${pick(r, ['+', '-', '*', '/'])} ${sub('DOUBLE')})`;
      if (k === 4) return `-${sub('DOUBLE')}`;
      if (k === 5) return `${pick(r, ['LN', 'EXP', 'SQRT', 'ABS'])}(${sub('DOUBLE')})`;
      if (k === 6) return `${pick(r, ['DOT', 'COSINE'])}(${sub('FLOAT[]')}, ${sub('FLOAT[]')})`;
      if (k === 7) return `CASE WHEN ${sub('BOOLEAN')} THEN ${sub('DOUBLE')} ELSE ${sub('DOUBLE')} END`;
      if (k === 8) return `COALESCE(${sub('DOUBLE')}, ${sub('DOUBLE')})`;
      if (k === 9) return `CASE WHEN ${sub('BOOLEAN')} THEN ${sub('BIGINT')} WHEN ${sub('BOOLEAN')} THEN ${sub('DOUBLE')} END`;
      return `(${sub('DOUBLE')} / ${sub('DOUBLE')})`;
    }
    case 'BIGINT': {
      if (leaf) return pick(r, ['i1', '7', 'NULL']);
      const k = Math.floor(r() * 4);
      if (k < 2) return `${pick(r, ['HOUR', 'DOW'])}(${sub('TIMESTAMP')}, '${pick(r, ZONES)}')`;
      if (k === 2) return `COALESCE(${sub('BIGINT')}, ${sub('BIGINT')})`;
      return `CASE WHEN ${sub('BOOLEAN')} THEN ${sub('BIGINT')} ELSE ${sub('BIGINT')} END`;
    }
    case 'BOOLEAN': {
      if (leaf) return pick(r, ['b1', 'TRUE', 'FALSE', 'NULL', '(d1 > d2)', '(s1 = s2)']);
      const k = Math.floor(r() * 9);
      if (k < 2) return `(${sub('DOUBLE')} ${pick(r, ['=', '<>', '<', '<=', '>', '>='])} ${sub('DOUBLE')})`;
      if (k === 2) return `(${sub('VARCHAR')} ${pick(r, ['=', '<>', '!='])} ${sub('VARCHAR')})`;
      if (k === 3) return `(${sub('TIMESTAMP')} ${pick(r, ['<', '>=', '='])} ${sub('TIMESTAMP')})`;
      if (k === 4) return `CONTAINS(l1, ${sub('VARCHAR')})`;
      if (k === 5) return `(${sub('BOOLEAN')} ${pick(r, ['AND', 'OR'])} ${sub('BOOLEAN')})`;
      if (k === 6) return `(NOT ${sub('BOOLEAN')})`;
      if (k === 7) return `(${sub(pick(r, ['DOUBLE', 'VARCHAR', 'FLOAT[]'] as const))} IS ${r() < 0.5 ? 'NOT ' : ''}NULL)`;
      return `(${sub('BOOLEAN')} = ${sub('BOOLEAN')})`;
    }
    case 'VARCHAR': {
      if (leaf) return pick(r, ['s1', 's2', "'music'", "'it''s'", 'NULL']);
      return r() < 0.5 ? `COALESCE(${sub('VARCHAR')}, ${sub('VARCHAR')})` : `CASE WHEN ${sub('BOOLEAN')} THEN ${sub('VARCHAR')} ELSE ${sub('VARCHAR')} END`;
    }
    case 'TIMESTAMP':
      return leaf || r() < 0.7 ? pick(r, ['t1', 't2']) : `COALESCE(${sub('TIMESTAMP')}, ${sub('TIMESTAMP')})`;
    case 'FLOAT[]':
    case 'DOUBLE[]':
      return leaf || r() < 0.6 ? pick(r, ['v1', 'v2', 'w1']) : `COALESCE(${sub('FLOAT[]')}, ${sub('FLOAT[]')})`;
    case 'VARCHAR[]':
      return 'l1';
  }
}

function same(js: Value, sql: unknown, type: ResultType): boolean {
  if (js === null || sql === null) return js === sql;
  if (type === 'DOUBLE') {
    const a = js as number;
    const b = sql as number;
    if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
    return a === b || Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b));
  }
  return js === sql;
}

const COLUMNS = Object.entries(NAMES);

async function compare(db: Engine, exprs: { text: string; type: ResultType }[], rows: Row[]): Promise<number> {
  const values = rows.map((row, i) => `(${i}, ${COLUMNS.map(([n, t]) => sqlValue(row[n], t)).join(', ')})`);
  await db.run(`CREATE OR REPLACE TABLE inputs AS SELECT * FROM (VALUES ${values.join(', ')}) t(i, ${COLUMNS.map(([n]) => n).join(', ')})`);
  const compiled = exprs.map((x) => {
    const tree = parse(x.text);
    const t = check(tree, new Map(COLUMNS));
    expect(t === null || t === x.type || (t === 'BIGINT' && x.type === 'DOUBLE'), x.text).toBe(true);
    return { ...x, js: compileJs(tree), sql: compileSql(tree, (n) => n, x.type) };
  });
  const out = await db.all(`SELECT ${compiled.map((c, k) => `${c.sql} AS e${k}`).join(', ')} FROM inputs ORDER BY i`);
  let compared = 0;
  rows.forEach((row, i) => {
    compiled.forEach((c, k) => {
      let js = c.js(row);
      if (c.type === 'DOUBLE' && typeof js === 'number') js = Number.isFinite(js) ? js : null;
      const raw = out[i]![`e${k}`];
      const sql = typeof raw === 'bigint' ? Number(raw) : raw;
      if (!same(js, sql, c.type)) {
        const shown = Object.fromEntries(Object.entries(row).map(([n, v]) => [n, typeof v === 'number' ? String(v) : v]));
        throw new Error(`${c.text} on ${JSON.stringify(shown)}: JavaScript ${String(js)}, SQL ${String(sql)}`);
      }
      compared++;
    });
  });
  return compared;
}

describe('on-demand expressions in JavaScript and in DuckDB SQL', () => {
  let db: Engine;
  beforeAll(async () => {
    db = await Engine.create({ threads: 1, memoryLimit: '512MB' });
  });
  afterAll(() => db.close());

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('agree on random expressions and values (seed %i)', async (seed) => {
    const r = mulberry32(seed);
    const types: ResultType[] = ['DOUBLE', 'DOUBLE', 'BIGINT', 'BOOLEAN', 'VARCHAR'];
    const exprs = Array.from({ length: 100 }, () => {
      const type = pick(r, types);
      return { text: gen(r, type, 4), type };
    });
    const rows = Array.from({ length: 300 }, () => randomRow(r));
    expect(await compare(db, exprs, rows)).toBe(exprs.length * rows.length);
  });

  it('agree on every construct at its edges', async () => {
    const r = mulberry32(99);
    const exprs: { text: string; type: ResultType }[] = [
      { text: 'd1 / d2', type: 'DOUBLE' },
      { text: 'LN(d1)', type: 'DOUBLE' },
      { text: 'SQRT(d1)', type: 'DOUBLE' },
      { text: 'EXP(d1)', type: 'DOUBLE' },
      { text: 'COSINE(v1, v2)', type: 'DOUBLE' },
      { text: 'COSINE(v1, w1)', type: 'DOUBLE' },
      { text: 'DOT(v1, v2)', type: 'DOUBLE' },
      { text: "HOUR(t1, 'Europe/Paris')", type: 'BIGINT' },
      { text: "DOW(t1, 'America/New_York')", type: 'BIGINT' },
      { text: "HOUR(t1, 'Asia/Kolkata')", type: 'BIGINT' },
      { text: 'CONTAINS(l1, s1)', type: 'BOOLEAN' },
      { text: 'd1 > d2', type: 'BOOLEAN' },
      { text: 'd1 = d2', type: 'BOOLEAN' },
      { text: 'COALESCE(d1, d2, 0)', type: 'DOUBLE' },
      { text: 'i1', type: 'BIGINT' },
      { text: 'i1 + 1', type: 'DOUBLE' },
      { text: 'b1 AND d1 > 0 OR NOT b1', type: 'BOOLEAN' },
      { text: 'CASE WHEN s1 = s2 THEN 1 WHEN d1 IS NULL THEN 2 ELSE 3 END', type: 'BIGINT' },
      { text: 't1 < t2', type: 'BOOLEAN' },
    ];
    const rows = Array.from({ length: 2000 }, () => randomRow(r));
    expect(await compare(db, exprs, rows)).toBe(exprs.length * rows.length);
  });
});
