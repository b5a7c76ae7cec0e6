// Point-in-time training sets against a brute-force reference in plain JS, on random gold for three
// views (keyed by user, by item, by user and item; TTLs of 2 days, 25 hours and 10 days) with dates
// missing, same-timestamp recomputations with later created_timestamps, and entity rows that hit
// every edge: exactly at a feature_timestamp, exactly at the TTL, one microsecond past it, exactly at
// a created_timestamp, before any data, unknown and null keys, duplicates. One seed's data crosses
// 1970 (negative epoch microseconds).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, type Row, sqlStr } from '../../src/engine/duckdb.js';
import type { FamilyDecl, FeatureDecl } from '../../src/features/types.js';
import { commitPartition, type Lake, openLake, paths } from '../../src/lake/index.js';
import { getHistoricalFeatures } from '../../src/offline/index.js';
import { registerFamily } from '../../src/registry/index.js';
import { tempDir } from '../support/env.js';

const DAY_US = 86_400_000_000;
const HOUR_US = 3_600_000_000;
const DAYS = 12;

interface View {
  decl: FamilyDecl;
  keys: string[];
  features: FeatureDecl[];
  ttlUs: number;
}

function view(name: string, keys: string[], ttlUs: number, features: FeatureDecl[]): View {
  const decl: FamilyDecl = {
    name,
    description: name,
    owner: 'tests',
    version: 1,
    entity: keys.join('+'),
    keys: keys.map((k) => ({ name: k, type: 'VARCHAR' })),
    ttlSeconds: ttlUs / 1e6,
    partials: {},
    dependsOn: [],
    features,
    sql: () => 'SELECT 1',
  };
  return { decl, keys, features, ttlUs };
}

const VIEWS: View[] = [
  view('pt_users', ['user_id'], 2 * DAY_US, [
    { name: 'a', type: 'DOUBLE', description: 'a', nullable: true },
    { name: 'n', type: 'BIGINT', description: 'n' },
    { name: 's', type: 'VARCHAR', description: 's' },
  ]),
  view('pt_items', ['item_id'], DAY_US + HOUR_US, [{ name: 'score', type: 'DOUBLE', description: 'score' }]),
  view('pt_pairs', ['user_id', 'item_id'], 10 * DAY_US, [{ name: 'w', type: 'BIGINT', description: 'w' }]),
];

/** A gold row: keys and features by name, feature and created time in epoch microseconds. */
interface GoldRow {
  values: Record<string, string | number | null>;
  ft: number;
  ct: number;
}

interface EntityRow {
  id: number;
  user_id: string | null;
  item_id: string | null;
  t: number;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const USERS = Array.from({ length: 8 }, (_, i) => `u${i}`);
const ITEMS = Array.from({ length: 5 }, (_, i) => `0${i}`); // leading zeros: keys are text

function dateOf(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

function sqlValue(v: string | number | null, type: string): string {
  if (v === null) return `NULL::${type}`;
  return typeof v === 'string' ? sqlStr(v) : `${v}::${type}`;
}

/** Random gold for a view: per date present, per key present, a row; some (key, date) recomputed. */
function randomGold(v: View, rand: () => number, startDay: number): Map<number, GoldRow[][]> {
  const keySets: string[][] =
    v.keys.length === 2 ? USERS.flatMap((u) => ITEMS.filter(() => rand() < 0.4).map((i) => [u, i])) : (v.keys[0] === 'user_id' ? USERS : ITEMS).map((k) => [k]);
  const out = new Map<number, GoldRow[][]>();
  for (let d = 0; d < DAYS; d++) {
    if (rand() < 0.25) continue; // a missing date
    const ft = (startDay + d + 1) * DAY_US;
    const files: GoldRow[][] = [[], []];
    for (const key of keySets) {
      if (rand() < 0.3) continue;
      const versions = rand() < 0.25 ? 2 : 1;
      let ct = ft + (rand() < 0.2 ? 0 : Math.floor(rand() * 2 * DAY_US));
      for (let r = 0; r < versions; r++) {
        const values: GoldRow['values'] = Object.fromEntries(v.keys.map((k, i) => [k, key[i]!]));
        for (const f of v.features) {
          values[f.name] =
            f.nullable && rand() < 0.2
              ? null
              : f.type === 'VARCHAR'
                ? `s${Math.floor(rand() * 1000)}`
                : f.type === 'BIGINT'
                  ? Math.floor(rand() * 1e6)
                  : Math.round(rand() * 1e6) / 1e3;
        }
        // A recomputation of the date: same feature_timestamp, later created_timestamp, sometimes in the other file.
        files[rand() < 0.5 ? 0 : 1]!.push({ values, ft, ct });
        ct += 1 + Math.floor(rand() * DAY_US);
      }
    }
    out.set(startDay + d, files);
  }
  return out;
}

async function writeGold(db: Engine, lake: Lake, v: View, gold: Map<number, GoldRow[][]>): Promise<void> {
  const dir = tempDir();
  const cols = [...v.keys.map((k) => ({ name: k, type: 'VARCHAR' })), ...v.features.map((f) => ({ name: f.name, type: f.type }))];
  for (const [day, files] of gold) {
    const local = [];
    for (const [i, rows] of files.entries()) {
      if (rows.length === 0 && i > 0) continue;
      const file = join(dir, `${v.decl.name}-${day}-${i}.parquet`);
      const values = rows.map(
        (r) => `(${[...cols.map((c) => sqlValue(r.values[c.name]!, c.type)), `make_timestamp(${r.ft})`, `make_timestamp(${r.ct})`].join(', ')})`,
      );
      const select =
        values.length > 0
          ? `SELECT * FROM (VALUES ${values.join(', ')}) t(${[...cols.map((c) => c.name), 'feature_timestamp', 'created_timestamp'].join(', ')})`
          : `SELECT ${[...cols.map((c) => `NULL::${c.type} AS ${c.name}`), 'NULL::TIMESTAMP AS feature_timestamp', 'NULL::TIMESTAMP AS created_timestamp'].join(', ')} WHERE false`;
      await db.run(`COPY (${select}) TO ${sqlStr(file)} (FORMAT parquet)`);
      local.push({ localPath: file });
    }
    await commitPartition(lake, paths.gold(v.decl.name, dateOf(day)), local, {
      family: v.decl.name,
      date: dateOf(day),
      schemaVersion: 1,
      rows: files.flat().length,
    });
  }
}

/** Entity rows at random times and at every edge the rule has. */
function randomEntities(rand: () => number, gold: Map<number, GoldRow[][]>[], startDay: number): EntityRow[] {
  const all = gold.flatMap((g, vi) => [...g.values()].flat(2).map((r) => ({ r, v: VIEWS[vi]! })));
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const rows: EntityRow[] = [];
  for (let i = 0; i < 400; i++) {
    if (i > 10 && rand() < 0.08) {
      rows.push({ ...pick(rows), id: i }); // a duplicate
      continue;
    }
    const hit = pick(all);
    const edges = [
      hit.r.ft,
      hit.r.ft + hit.v.ttlUs,
      hit.r.ft + hit.v.ttlUs + 1,
      hit.r.ct,
      hit.r.ct - 1,
      (startDay - 3) * DAY_US + Math.floor(rand() * DAY_US),
      (startDay + Math.floor(rand() * (DAYS + 12))) * DAY_US + Math.floor(rand() * DAY_US),
    ];
    const t = rand() < 0.6 ? edges[Math.floor(rand() * 5)]! : pick(edges);
    const user = (hit.r.values.user_id as string | undefined) ?? pick(USERS);
    const item = (hit.r.values.item_id as string | undefined) ?? pick(ITEMS);
    rows.push({
      id: i,
      user_id: rand() < 0.03 ? null : rand() < 0.85 ? user : rand() < 0.5 ? 'u_unknown' : pick(USERS),
      item_id: rand() < 0.03 ? null : rand() < 0.85 ? item : rand() < 0.5 ? 'i_unknown' : pick(ITEMS),
      t,
    });
  }
  return rows;
}

/** The rule of features.md, by brute force: the row each entity row gets from a view, and its values. */
function reference(e: EntityRow, v: View, gold: Map<number, GoldRow[][]>, asKnownAt: boolean): { best?: GoldRow; values: Record<string, unknown> } {
  let best: GoldRow | undefined;
  for (const r of [...gold.values()].flat(2)) {
    if (!v.keys.every((k) => e[k as 'user_id' | 'item_id'] !== null && r.values[k] === e[k as 'user_id' | 'item_id'])) continue;
    if (r.ft > e.t || (asKnownAt && r.ct > e.t)) continue;
    if (!best || r.ft > best.ft || (r.ft === best.ft && r.ct > best.ct)) best = r;
  }
  const fresh = best !== undefined && e.t - best.ft <= v.ttlUs;
  return { best, values: Object.fromEntries(v.features.map((f) => [f.name, fresh ? best!.values[f.name] : null])) };
}

// The last data starts in 1969 and crosses the epoch: the same rules on negative epoch microseconds.
describe.each([
  [1, '2026-01-01'],
  [2, '2026-01-01'],
  [3, '2026-01-01'],
  [4, '2026-01-01'],
  [5, '1969-12-25'],
])('training sets equal the brute-force reference (seed %i, gold from %s)', (seed, start) => {
  const startDay = Date.parse(`${start}T00:00:00Z`) / 86_400_000;
  let db: Engine;
  let lake: Lake;
  let gold: Map<number, GoldRow[][]>[];
  let entities: EntityRow[];
  const dir = tempDir();
  const engine = { threads: 2, memoryLimit: '1GB' };
  const features = VIEWS.flatMap((v) => v.features.map((f) => `${v.decl.name}:${f.name}`));

  beforeAll(async () => {
    db = await Engine.create(engine);
    lake = openLake(join(dir, 'lake'), { s3CacheDir: join(dir, 'cache'), s3CacheMaxBytes: 1e9 });
    const rand = rng(seed);
    gold = VIEWS.map((v) => randomGold(v, rand, startDay));
    for (const [i, v] of VIEWS.entries()) {
      await registerFamily(lake, v.decl);
      await writeGold(db, lake, v, gold[i]!);
    }
    entities = randomEntities(rand, gold, startDay);
    const values = entities.map(
      (e) =>
        `(${e.id}, ${e.user_id === null ? 'NULL' : sqlStr(e.user_id)}, ${e.item_id === null ? 'NULL' : sqlStr(e.item_id)}, make_timestamp(${e.t}), ${e.t})`,
    );
    const select = `SELECT * FROM (VALUES ${values.join(', ')}) t(id, user_id, item_id, event_timestamp, t_us)`;
    // Written in a scrambled order of ids, so that input order is not id order.
    await db.run(`COPY (${select}) TO ${sqlStr(join(dir, 'entities.parquet'))} (FORMAT parquet)`);
    await db.run(`COPY (${select}) TO ${sqlStr(join(dir, 'entities.csv'))} (FORMAT csv, HEADER true)`);
  });
  afterAll(async () => {
    db.close();
    await lake.close();
  });

  /** Compares with the reference; returns how often each edge of the rule decided a value. */
  function expectReference(data: Row[], asKnownAt: boolean, name: (v: View, f: FeatureDecl) => string): Record<string, number> {
    expect(data.map((r) => r.id)).toEqual(entities.map((e) => e.id));
    const edges = { filled: 0, atFeatureTime: 0, atTtl: 0, pastTtl: 0, atCreated: 0, recomputed: 0 };
    const mismatches: unknown[] = [];
    for (const [i, e] of entities.entries()) {
      expect(data[i]!.t_us).toBe(e.t);
      for (const [vi, v] of VIEWS.entries()) {
        const { best, values } = reference(e, v, gold[vi]!, asKnownAt);
        for (const f of v.features) {
          const got = data[i]![name(v, f)];
          if (got !== values[f.name]) mismatches.push({ row: i, entity: e, view: v.decl.name, feature: f.name, got, want: values[f.name] });
        }
        if (!best) continue;
        const age = e.t - best.ft;
        if (age <= v.ttlUs) edges.filled++;
        if (age === 0) edges.atFeatureTime++;
        if (age === v.ttlUs) edges.atTtl++;
        if (age === v.ttlUs + 1) edges.pastTtl++;
        if (best.ct === e.t) edges.atCreated++;
        const sameTimestamp = (r: GoldRow) => r !== best && r.ft === best.ft && v.keys.every((k) => r.values[k] === best.values[k]);
        if ([...gold[vi]!.values()].flat(2).some(sameTimestamp)) edges.recomputed++;
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    return edges;
  }

  it.each([false, true])('every rule, from Parquet entity rows (as known at: %s)', async (asKnownAt) => {
    const r = await getHistoricalFeatures(lake, engine, { entities: join(dir, 'entities.parquet'), features, asKnownAt });
    expect(r.rows).toBe(entities.length);
    expect(r.columns).toEqual(['id', 'user_id', 'item_id', 'event_timestamp', 't_us', 'a', 'n', 's', 'score', 'w']);
    const edges = expectReference(r.data!, asKnownAt, (_v, f) => f.name);
    // The data really exercises every edge, and both outcomes.
    expect(edges.filled).toBeGreaterThan(200);
    expect(edges.filled).toBeLessThan(entities.length * VIEWS.length);
    for (const edge of ['atFeatureTime', 'atTtl', 'pastTtl', 'recomputed'] as const) expect(edges[edge], edge).toBeGreaterThan(0);
    if (asKnownAt) expect(edges.atCreated).toBeGreaterThan(0);
  });

  it('every rule, from CSV entity rows, with full feature names', async () => {
    const r = await getHistoricalFeatures(lake, engine, { entities: join(dir, 'entities.csv'), features, fullFeatureNames: true });
    expectReference(r.data!, false, (v, f) => `${v.decl.name}__${f.name}`);
  });

  it('the same rows written to Parquet and CSV files', async () => {
    const inMemory = (await getHistoricalFeatures(lake, engine, { entities: join(dir, 'entities.parquet'), features })).data!;
    for (const ext of ['parquet', 'csv']) {
      const out = join(dir, `out-${seed}`, `training.${ext}`);
      const r = await getHistoricalFeatures(lake, engine, { entities: join(dir, 'entities.parquet'), features, out });
      expect(r).toMatchObject({ rows: entities.length, path: out });
      expect(r.data).toBeUndefined();
      const reader =
        ext === 'csv'
          ? `read_csv(${sqlStr(out)}, header = true, types = {'user_id': 'VARCHAR', 'item_id': 'VARCHAR', 's': 'VARCHAR'})`
          : `read_parquet(${sqlStr(out)})`;
      const back = await db.all(`SELECT id, a, n, s, score, w FROM ${reader}`);
      expect(back).toEqual(inMemory.map((x) => ({ id: x.id, a: x.a, n: x.n, s: x.s, score: x.score, w: x.w })));
    }
  });
});
