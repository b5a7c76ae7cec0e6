// The online/offline consistency check on a gold partition larger than one DuckDB chunk, against an
// online store holding every kind of difference it reports.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConsistency, sameValue } from '../../src/consistency/check.js';
import { sqlStr, withEngine } from '../../src/engine/duckdb.js';
import { commitPartition, type Lake, openLake, paths } from '../../src/lake/index.js';
import { EmbeddedOnlineStore } from '../../src/online/embedded-store.js';
import { materializeParquet } from '../../src/online/materialize.js';
import { onlineViewOf } from '../../src/online/views.js';
import { addDays } from '../../src/shared/dates.js';
import { tempDir } from '../support/env.js';
import { toyFamily } from '../support/toy-family.js';

const engine = { threads: 2, memoryLimit: '1GB' };
const family = toyFamily(
  [
    { name: 'x', type: 'BIGINT', description: 'a count' },
    { name: 'y', type: 'DOUBLE', description: 'a measure', nullable: true },
  ],
  { name: 'consistency_toy', ttlSeconds: 10 * 86_400 },
);
const view = onlineViewOf(family, 1);
const N = 5000; // three DuckDB chunks
const today = new Date().toISOString().slice(0, 10);
const date = addDays(today, -1);
const stamp = Date.parse(`${addDays(date, 1)}T00:00:00Z`);

/** A Parquet file of `users` with x = i, y = i / 2, stamped as gold of `day`. */
async function goldFile(path: string, day: string, users: string): Promise<void> {
  await withEngine(engine, (db) =>
    db.run(`COPY (SELECT u AS user_id, i::BIGINT AS x, CASE WHEN i % 7 = 0 THEN NULL ELSE i / 2 END AS y,
        TIMESTAMP ${sqlStr(addDays(day, 1))} AS feature_timestamp, TIMESTAMP ${sqlStr(today)} AS created_timestamp
      FROM (${users})) TO ${sqlStr(path)} (FORMAT parquet)`),
  );
}

describe('consistency check', () => {
  let lake: Lake;
  let store: EmbeddedOnlineStore;
  const dir = tempDir('gold-consistency-');

  beforeAll(async () => {
    lake = openLake(join(dir, 'lake'), { s3CacheDir: join(dir, 'cache'), s3CacheMaxBytes: 1e9 });
    store = new EmbeddedOnlineStore(join(dir, 'online'));
    const users = (n: number) => `SELECT 'u' || i AS u, i FROM range(${n}) t(i)`;
    // The previous date also has two users that today's partition lacks.
    await goldFile(join(dir, 'prev.parquet'), addDays(date, -1), `${users(N)} UNION ALL SELECT 'gone' || i, i FROM range(2) t(i)`);
    await goldFile(join(dir, 'gold.parquet'), date, users(N));
    // What was materialized today lacks u3.
    await goldFile(join(dir, 'online.parquet'), date, `${users(N)} WHERE i <> 3`);
    await commitPartition(lake, paths.gold(family.name, addDays(date, -1)), [{ localPath: join(dir, 'prev.parquet') }]);
    await commitPartition(lake, paths.gold(family.name, date), [{ localPath: join(dir, 'gold.parquet') }]);
    await materializeParquet(store, view, [join(dir, 'prev.parquet')], { engine });
    await materializeParquet(store, view, [join(dir, 'online.parquet')], { engine });
    // u1: same date, another value (a later run of the same date wrote it); u4: a later date online;
    // gone0: stamped with this date although the partition does not hold it.
    await store.writeBatch(view, [
      { entityKey: 'u1', featureTimestamp: stamp, createdTimestamp: Date.now() + 1000, values: [-1, 0.5] },
      { entityKey: 'u4', featureTimestamp: stamp + 86_400_000, values: [4, 2] },
      { entityKey: 'gone0', featureTimestamp: stamp, createdTimestamp: Date.now() + 1000, values: [0, null] },
    ]);
  });
  afterAll(async () => {
    await store.close();
    await lake.close();
  });

  it('counts matches, mismatches, missing, newer and extra entities over the whole partition, chunk by chunk', async () => {
    const r = await checkConsistency(lake, store, engine, { family, view, date });
    expect(r).toMatchObject({ checked: N, matched: N - 3, mismatched: 1, missing: 1, newerOnline: 1, extra: 1, expired: false });
    expect(r.mismatchShare).toBeCloseTo(1 / N, 12);
    expect(r.samples).toEqual([{ entityKey: 'u1', feature: 'x', gold: 1, online: -1 }]);
  });

  it('checks a sample of the size asked for', async () => {
    const r = await checkConsistency(lake, store, engine, { family, view, date, sample: 300 });
    expect(r.checked).toBe(300);
    expect(r.matched + r.mismatched + r.missing + r.newerOnline).toBe(300);
  });

  it('compares nothing for a partition older than the TTL (materialization kept it out)', async () => {
    const old = addDays(today, -30);
    await goldFile(join(dir, 'old.parquet'), old, `SELECT 'u' || i AS u, i FROM range(10) t(i)`);
    await commitPartition(lake, paths.gold(family.name, old), [{ localPath: join(dir, 'old.parquet') }]);
    expect(await checkConsistency(lake, store, engine, { family, view, date: old })).toMatchObject({ checked: 0, expired: true, mismatched: 0 });
  });

  it('counts a NaN stored faithfully as a match', async () => {
    const day = addDays(today, -5);
    const path = join(dir, 'nan.parquet');
    await withEngine(engine, (db) =>
      db.run(`COPY (SELECT 'n' || i AS user_id, i::BIGINT AS x, CASE WHEN i % 2 = 0 THEN 'nan'::DOUBLE ELSE i END AS y,
          TIMESTAMP ${sqlStr(addDays(day, 1))} AS feature_timestamp, TIMESTAMP ${sqlStr(today)} AS created_timestamp
        FROM range(10) t(i)) TO ${sqlStr(path)} (FORMAT parquet)`),
    );
    await commitPartition(lake, paths.gold(family.name, day), [{ localPath: path }]);
    await materializeParquet(store, view, [path], { engine });
    expect(await checkConsistency(lake, store, engine, { family, view, date: day })).toMatchObject({ checked: 10, matched: 10, mismatched: 0 });
  });

  it('compares values as stored: NaN with NaN, infinities only with themselves, numbers to 1e-6, lists by element, timestamps by instant', () => {
    expect(sameValue(Number.NaN, Number.NaN)).toBe(true);
    expect(sameValue(Number.NaN, 0)).toBe(false);
    expect(sameValue(Number.NaN, null)).toBe(false);
    expect(sameValue(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY)).toBe(true);
    expect(sameValue(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)).toBe(false);
    expect(sameValue(Number.POSITIVE_INFINITY, 1e308)).toBe(false);
    expect(sameValue(0.1, 0.10000000149011612)).toBe(true); // a FLOAT read back as a double
    expect(sameValue(1, 1.01)).toBe(false);
    expect(sameValue(9007199254740993n, 9007199254740992)).toBe(false);
    expect(sameValue([1, Number.NaN, null], [1, Number.NaN, null])).toBe(true);
    expect(sameValue([1, 2], [1, 2, 3])).toBe(false);
    expect(sameValue([1], 1)).toBe(false);
    expect(sameValue([new Date('2025-06-01T00:00:00Z')], [new Date(Date.parse('2025-06-01T00:00:00Z'))])).toBe(true);
    expect(sameValue(new Date('2025-06-01T00:00:00.123Z'), new Date('2025-06-01T00:00:00.124Z'))).toBe(false);
    expect(sameValue(new Date('2024-02-29T00:00:00Z'), '2024-02-29')).toBe(true); // a DATE offline and online
    expect(sameValue(new Date('2024-02-29T00:00:00Z'), '2024-03-01')).toBe(false);
    expect(sameValue(new Date(Number.NaN), new Date(Number.NaN))).toBe(false);
  });

  it('names a date without committed gold', async () => {
    await expect(checkConsistency(lake, store, engine, { family, view, date: addDays(today, -100) })).rejects.toThrow(/no committed gold for consistency_toy/);
  });
});
