// On-demand features through the real training-set path (point-in-time join in DuckDB, then the
// compiled SQL) against the JavaScript path on the same stored values and request data: random gold
// for a user view and a video view (vectors with null, NaN and infinite elements or of other lengths,
// null values, entities with no row at all), random entity rows with request columns (nulls
// included), unknown keys. Doubles within 1e-12 relative, nulls the same.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, sqlStr } from '../../src/engine/duckdb.js';
import { mulberry32 } from '../../src/features/embeddings/prng.js';
import type { Row as OnDemandRow } from '../../src/features/on-demand/compile-js.js';
import { checkOnDemandFeatures, type OnDemandFeatureDecl } from '../../src/features/on-demand/decl.js';
import type { Value } from '../../src/features/on-demand/types.js';
import type { FamilyDecl, FeatureDecl } from '../../src/features/types.js';
import { commitPartition, type Lake, openLake, paths } from '../../src/lake/index.js';
import { getHistoricalFeatures } from '../../src/offline/index.js';
import { registerFamily } from '../../src/registry/index.js';
import { tempDir } from '../support/env.js';

const DAY_US = 86_400_000_000;
const DATE = '2024-03-30';
const AS_OF_US = Date.UTC(2024, 2, 31) * 1000;

function family(name: string, key: string, features: FeatureDecl[]): FamilyDecl {
  return {
    name,
    description: name,
    owner: 'tests',
    version: 1,
    entity: key,
    keys: [{ name: key, type: 'VARCHAR' }],
    ttlSeconds: 30 * 86_400,
    partials: {},
    dependsOn: [],
    features,
    sql: () => 'SELECT 1',
  };
}

const USERS = family('od_users', 'user_id', [
  { name: 'vec', type: 'FLOAT[]', description: 'v', nullable: true },
  { name: 'cat', type: 'VARCHAR', description: 'c', nullable: true },
  { name: 'x', type: 'DOUBLE', description: 'x', nullable: true },
  { name: 'n', type: 'BIGINT', description: 'n', nullable: true },
]);
const VIDEOS = family('od_videos', 'video_id', [
  { name: 'vec', type: 'FLOAT[]', description: 'v', nullable: true },
  { name: 'cat', type: 'VARCHAR', description: 'c', nullable: true },
  { name: 'tags', type: 'VARCHAR[]', description: 't', nullable: true },
]);

const DECLS: OnDemandFeatureDecl[] = [
  { name: 'cos', description: '', type: 'DOUBLE', inputs: { u: 'od_users:vec', v: 'od_videos:vec' }, expr: 'COSINE(u, v)' },
  { name: 'dotw', description: '', type: 'DOUBLE', request: { w: 'DOUBLE' }, inputs: { u: 'od_users:vec', v: 'od_videos:vec' }, expr: 'DOT(u, v) * w' },
  { name: 'same_cat', description: '', type: 'BOOLEAN', inputs: { a: 'od_users:cat', b: 'od_videos:cat' }, expr: 'a = b' },
  { name: 'tagged', description: '', type: 'BOOLEAN', request: { tag: 'VARCHAR' }, inputs: { t: 'od_videos:tags' }, expr: 'CONTAINS(t, tag)' },
  {
    name: 'mixed',
    description: '',
    type: 'DOUBLE',
    request: { w: 'DOUBLE' },
    inputs: { x: 'od_users:x', n: 'od_users:n' },
    expr: 'CASE WHEN x > w THEN LN(x) WHEN n IS NULL THEN SQRT(w) ELSE COALESCE(x, w, 0) / n END',
  },
  { name: 'local_dow', description: '', type: 'BIGINT', request: { request_time: 'TIMESTAMP' }, expr: "DOW(request_time, 'America/New_York')" },
  {
    name: 'night_match',
    description: '',
    type: 'BOOLEAN',
    request: { request_time: 'TIMESTAMP', tag: 'VARCHAR' },
    inputs: { a: 'od_users:cat' },
    expr: "(HOUR(request_time, 'Asia/Tokyo') < 6 OR a = tag) AND NOT a IS NULL",
  },
];
const FEATURES = checkOnDemandFeatures(DECLS, [USERS, VIDEOS]);

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const CATS = ['music', 'news', "it's", ''];

function vector(r: () => number): (number | null)[] | null {
  const k = r();
  if (k < 0.1) return null;
  const n = k < 0.2 ? Math.floor(r() * 5) : 3;
  return Array.from({ length: n }, () => {
    const e = r();
    return e < 0.03 ? null : e < 0.05 ? pick(r, [Number.NaN, Infinity]) : Math.fround((r() * 2 - 1) * (e < 0.1 ? 1e20 : 3));
  });
}
function double(r: () => number): number | null {
  const k = r();
  return k < 0.1 ? null : k < 0.15 ? pick(r, [Number.NaN, 0, -1, Infinity]) : (r() * 2 - 1) * 10;
}

function lit(v: Value | undefined, type: string): string {
  if (v === null || v === undefined) return `NULL::${type}`;
  if (type === 'FLOAT[]') return `[${(v as (number | null)[]).map((x) => lit(x, 'FLOAT')).join(', ')}]::FLOAT[]`;
  if (type === 'VARCHAR[]') return `[${(v as (string | null)[]).map((x) => lit(x, 'VARCHAR')).join(', ')}]::VARCHAR[]`;
  if (type === 'VARCHAR') return sqlStr(v as string);
  if (type === 'BIGINT') return `${v}::BIGINT`;
  if (type === 'TIMESTAMP') return `make_timestamp(${v}::BIGINT)`;
  const x = v as number;
  return Number.isNaN(x) ? `'nan'::${type}` : x === Infinity ? `'inf'::${type}` : `'${x}'::${type}`;
}

async function writeGold(db: Engine, lake: Lake, fam: FamilyDecl, rows: Record<string, Value>[]): Promise<void> {
  const cols = [fam.keys[0]!.name, ...fam.features.map((f) => f.name)];
  const types = ['VARCHAR', ...fam.features.map((f) => f.type)];
  const file = join(tempDir(), `${fam.name}.parquet`);
  const values = rows.map((r) => `(${[...cols.map((c, i) => lit(r[c], types[i]!)), `make_timestamp(${AS_OF_US})`, `make_timestamp(${AS_OF_US})`].join(', ')})`);
  await db.run(
    `COPY (SELECT * FROM (VALUES ${values.join(', ')}) t(${[...cols, 'feature_timestamp', 'created_timestamp'].join(', ')})) TO ${sqlStr(file)} (FORMAT parquet)`,
  );
  await commitPartition(lake, paths.gold(fam.name, DATE), [{ localPath: file }], { family: fam.name, date: DATE, schemaVersion: 1, rows: rows.length });
}

describe('on-demand features in training sets and in JavaScript', () => {
  let db: Engine;
  beforeAll(async () => {
    db = await Engine.create({ threads: 1, memoryLimit: '512MB' });
  });
  afterAll(() => db.close());

  it.each([1, 2, 3])('agree row by row, missing entities included (seed %i)', async (seed) => {
    const r = mulberry32(seed);
    const lake = openLake(tempDir(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    await registerFamily(lake, USERS);
    await registerFamily(lake, VIDEOS);
    // Users and videos with a row (some ids have none: missing entities).
    const users = new Map<string, Record<string, Value>>();
    for (let i = 0; i < 40; i++)
      if (r() < 0.8)
        users.set(`u${i}`, {
          user_id: `u${i}`,
          vec: vector(r),
          cat: r() < 0.15 ? null : pick(r, CATS),
          x: double(r),
          n: r() < 0.2 ? null : Math.floor(r() * 7) - 3,
        });
    const videos = new Map<string, Record<string, Value>>();
    for (let i = 0; i < 60; i++)
      if (r() < 0.8)
        videos.set(`v${i}`, {
          video_id: `v${i}`,
          vec: vector(r),
          cat: r() < 0.15 ? null : pick(r, CATS),
          tags: r() < 0.1 ? null : Array.from({ length: Math.floor(r() * 3) }, () => (r() < 0.1 ? null : pick(r, CATS))),
        });
    await writeGold(db, lake, USERS, [...users.values()]);
    await writeGold(db, lake, VIDEOS, [...videos.values()]);

    const entities = Array.from({ length: 600 }, () => ({
      user_id: `u${Math.floor(r() * 45)}`,
      video_id: `v${Math.floor(r() * 65)}`,
      event_us: AS_OF_US + Math.floor(r() * 5 * DAY_US),
      request_time: r() < 0.1 ? null : Date.UTC(2024, 0, 1) * 1000 + Math.floor(r() * 365 * DAY_US),
      w: double(r),
      tag: r() < 0.1 ? null : pick(r, CATS),
    }));
    const sql = `SELECT * FROM (VALUES ${entities
      .map(
        (e) =>
          `(${sqlStr(e.user_id)}, ${sqlStr(e.video_id)}, make_timestamp(${e.event_us}::BIGINT), ${lit(e.request_time, 'TIMESTAMP')}, ${lit(e.w, 'DOUBLE')}, ${lit(e.tag, 'VARCHAR')})`,
      )
      .join(', ')}) t(user_id, video_id, event_timestamp, request_time, w, tag)`;
    const t = await getHistoricalFeatures(
      lake,
      { threads: 1, memoryLimit: '512MB' },
      { entities: { sql }, features: FEATURES.map((f) => `on_demand:${f.decl.name}`), onDemand: FEATURES },
    );
    await lake.close();
    const rows = t.data!;
    expect(rows).toHaveLength(entities.length);
    let nonNull = 0;
    entities.forEach((e, i) => {
      const u = users.get(e.user_id);
      const v = videos.get(e.video_id);
      for (const f of FEATURES) {
        const input: Record<string, Value> = { request_time: e.request_time, w: e.w, tag: e.tag };
        for (const x of f.inputs) input[x.name] = ((x.family === 'od_users' ? u : v)?.[x.feature] ?? null) as Value;
        const js = f.evaluate(input as OnDemandRow);
        const got = (rows[i]![f.decl.name] ?? null) as Value;
        const same =
          typeof js === 'number' && typeof got === 'number' ? js === got || Math.abs(js - got) <= 1e-12 * Math.max(Math.abs(js), Math.abs(got)) : js === got;
        if (!same) throw new Error(`${f.decl.name} row ${i} ${JSON.stringify({ e, u, v })}: JavaScript ${String(js)}, training set ${String(got)}`);
        if (js !== null) nonNull++;
      }
    });
    expect(nonNull).toBeGreaterThan(entities.length * FEATURES.length * 0.4);
  });
});
