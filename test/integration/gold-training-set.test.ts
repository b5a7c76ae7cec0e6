// Training sets from gold written by the gold writer, on a local folder and on the S3 server: two
// views with different entity keys in one call, partition pruning, time-range retrieval, partitions
// whose schema version cannot serve the request, bad requests, and `gold training-set`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Engine, sqlStr } from '../../src/engine/duckdb.js';
import type { FamilyDecl } from '../../src/features/types.js';
import { commitPartition, type Lake, openLake, paths, readManifest } from '../../src/lake/index.js';
import { commitGold, type EntitySource, getHistoricalFeatures, TrainingSetInputError, UnreadablePartitionError } from '../../src/offline/index.js';
import { registerFamily, schemaFromDecl } from '../../src/registry/index.js';
import { addDays, dateRange } from '../../src/shared/dates.js';
import { runGold } from '../support/cli.js';
import { s3LakeUri, tempDir } from '../support/env.js';

const DAY = 86_400;
const base = { owner: 'tests', version: 1, partials: {}, dependsOn: [], sql: () => 'SELECT 1' } as const;
const users: FamilyDecl = {
  ...base,
  name: 'users_toy',
  description: 'users',
  entity: 'user',
  keys: [{ name: 'user_id', type: 'VARCHAR' }],
  ttlSeconds: 2 * DAY,
  features: [
    { name: 'watch', type: 'DOUBLE', description: 'watch' },
    { name: 'top', type: 'VARCHAR', description: 'top', nullable: true },
    { name: 'count_7d', type: 'BIGINT', description: 'count' },
  ],
};
const videos: FamilyDecl = {
  ...base,
  name: 'videos_toy',
  description: 'videos',
  entity: 'video',
  keys: [{ name: 'video_id', type: 'VARCHAR' }],
  ttlSeconds: DAY,
  features: [
    { name: 'views', type: 'BIGINT', description: 'views' },
    { name: 'count_7d', type: 'BIGINT', description: 'count' },
  ],
};
const FIRST = '2026-02-01';
const LAST = '2026-02-10';
const engine = { threads: 1, memoryLimit: '1GB' };

/** Day number of a date within the fixture (2026-02-01 is 1): feature values are built from it. */
function dayNo(date: string): number {
  return (Date.parse(date) - Date.parse(FIRST)) / 86_400_000 + 1;
}

async function commitDay(db: Engine, lake: Lake, decl: FamilyDecl, date: string, select: string, schemaVersion = 1): Promise<void> {
  const file = join(tempDir(), 'staged.parquet');
  const asOf = `TIMESTAMP '${addDays(date, 1)} 00:00:00'`;
  await db.run(
    `COPY (SELECT *, ${asOf} AS feature_timestamp, ${asOf} + INTERVAL 1 HOUR AS created_timestamp FROM (${select})) TO ${sqlStr(file)} (FORMAT parquet)`,
  );
  const stagingPath = paths.staging(decl.name, date, 'fixture');
  await commitPartition(lake, stagingPath, [{ localPath: file }]);
  await commitGold(lake, engine, { family: decl, date, stagingPath, runId: 'fixture', schemaVersion, scratchDir: tempDir() });
}

/** users u0..u4 every day (u4 only on odd days); videos v0..v2 on even days. */
async function writeFixture(db: Engine, lake: Lake): Promise<void> {
  await registerFamily(lake, users);
  await registerFamily(lake, videos);
  for (const d of dateRange(FIRST, LAST)) {
    const n = dayNo(d);
    await commitDay(
      db,
      lake,
      users,
      d,
      `SELECT 'u' || i AS user_id, ${n} * 10 + i + 0.5 AS watch, CASE WHEN i = 0 THEN NULL ELSE 'cat' || i END AS top, ${n}::BIGINT AS count_7d FROM range(${n % 2 === 1 ? 5 : 4}) t(i)`,
    );
    if (n % 2 === 0) await commitDay(db, lake, videos, d, `SELECT 'v' || i AS video_id, ${n} * 100 + i AS views, ${-n}::BIGINT AS count_7d FROM range(3) t(i)`);
  }
}

const kinds: [string, () => string][] = [
  ['local', () => tempDir()],
  ['s3', () => s3LakeUri()],
];

describe.each(kinds)('training sets on %s', (_kind, root) => {
  let db: Engine;
  let lake: Lake;
  const dir = tempDir();
  const entitiesCsv = join(dir, 'entities.csv');
  beforeAll(async () => {
    db = await Engine.create(engine);
    lake = openLake(root(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    await writeFixture(db, lake);
    writeFileSync(
      entitiesCsv,
      `${[
        'user_id,video_id,event_timestamp,label',
        'u1,v1,2026-02-03 12:00:00,1', // users: 02-02 (as_of 02-03 00:00); videos: 02-02
        'u4,v2,2026-02-03 12:00:00,0', // u4 absent on 02-02 (even): 02-01's row is 1.5 days old, within 2 days
        'u4,v2,2026-02-05 00:00:00,0', // u4 on 02-03 and 02-04? 02-04 even -> 02-03 row (as_of 02-04) 1 day old; videos 02-04 exactly at as_of
        'u0,v0,2026-02-11 00:00:00,1', // exactly at as_of(02-10): the newest rows, u0's top is null
        'u1,v1,2026-02-13 00:00:00,0', // users 02-10 exactly 2 days old: kept; videos 02-10 2 days old > 1 day: null
        'u9,v9,2026-02-05 00:00:00,1', // unknown entities: nulls
        'u1,v1,2026-01-15 00:00:00,0', // before any data: nulls
        'u1,v1,2026-02-03 12:00:00,1', // a duplicate of the first row: kept
      ].join('\n')}\n`,
    );
  });
  afterAll(async () => {
    db.close();
    await lake.close();
  });

  const refs = ['users_toy:watch', 'users_toy:top', 'videos_toy:views', 'videos_toy:count_7d'];

  it('joins two views with different entity keys, keeping every row in order', async () => {
    const r = await getHistoricalFeatures(lake, engine, { entities: entitiesCsv, features: refs });
    expect(r.columns).toEqual(['user_id', 'video_id', 'event_timestamp', 'label', 'watch', 'top', 'views', 'count_7d']);
    expect(r.data!.map((x) => [x.user_id, x.label, x.watch, x.top, x.views, x.count_7d])).toEqual([
      ['u1', 1, 21.5, 'cat1', 201, -2],
      ['u4', 0, 14.5, 'cat4', 202, -2],
      ['u4', 0, 34.5, 'cat4', 402, -4],
      ['u0', 1, 100.5, null, 1000, -10],
      ['u1', 0, 101.5, 'cat1', null, null],
      ['u9', 1, null, null, null, null],
      ['u1', 0, null, null, null, null],
      ['u1', 1, 21.5, 'cat1', 201, -2],
    ]);
    expect(r.partitionsRead).toBe(10 + 5);
  });

  it('reads only the partitions that can qualify', async () => {
    const file = join(dir, 'narrow.parquet');
    await db.run(`COPY (SELECT 'u1' AS user_id, 'v1' AS video_id, TIMESTAMP '2026-02-06 06:00:00' AS event_timestamp) TO ${sqlStr(file)} (FORMAT parquet)`);
    const r = await getHistoricalFeatures(lake, engine, { entities: file, features: refs, fullFeatureNames: true });
    // users (ttl 2 days): as_of in [02-04 06:00, 02-06 06:00] -> dates 02-04, 02-05; videos (ttl 1 day): 02-05 only, absent.
    expect(r.partitionsRead).toBe(2);
    expect(r.data).toEqual([
      {
        user_id: 'u1',
        video_id: 'v1',
        event_timestamp: new Date('2026-02-06T06:00:00Z'),
        users_toy__watch: 51.5,
        users_toy__top: 'cat1',
        videos_toy__views: null,
        videos_toy__count_7d: null,
      },
    ]);
  });

  it('takes entity rows from a query, and writes Parquet or CSV', async () => {
    const sql = `SELECT 'u' || (i % 3) AS user_id, TIMESTAMP '2026-02-10 12:00:00' + to_hours(i) AS event_timestamp, i FROM range(5) t(i)`;
    const out = join(dir, 'q', 'set.parquet');
    const r = await getHistoricalFeatures(lake, engine, { entities: { sql }, features: ['users_toy:count_7d'], out });
    expect(r).toMatchObject({ rows: 5, path: out, partitionsRead: 2 });
    expect(await db.all(`SELECT user_id, i, count_7d FROM read_parquet(${sqlStr(out)})`)).toEqual(
      [0, 1, 2, 3, 4].map((i) => ({ user_id: `u${i % 3}`, i, count_7d: i < 12 ? 9 : 10 })),
    );
    const csv = join(dir, 'q', 'set.csv');
    await getHistoricalFeatures(lake, engine, { entities: { sql }, features: ['users_toy:count_7d'], out: csv });
    expect((await db.all(`SELECT count_7d FROM read_csv(${sqlStr(csv)})`)).map((x) => x.count_7d)).toEqual([9, 9, 9, 9, 9]);
  });

  it('gives an empty training set, with its columns, for no entity rows', async () => {
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, 'user_id,video_id,event_timestamp\n');
    const out = join(dir, 'empty-out.parquet');
    const r = await getHistoricalFeatures(lake, engine, {
      entities: { sql: `SELECT * FROM read_csv(${sqlStr(empty)}, types = {'event_timestamp': 'TIMESTAMP'})` },
      features: refs,
      out,
    });
    expect(r).toMatchObject({ rows: 0, partitionsRead: 0 });
    expect((await db.all(`DESCRIBE SELECT * FROM read_parquet(${sqlStr(out)})`)).map((c) => `${c.column_name} ${c.column_type}`)).toEqual([
      'user_id VARCHAR',
      'video_id VARCHAR',
      'event_timestamp TIMESTAMP',
      'watch DOUBLE',
      'top VARCHAR',
      'views BIGINT',
      'count_7d BIGINT',
    ]);
  });

  it('retrieves every row of the views in a range without entity rows', async () => {
    const r = await getHistoricalFeatures(lake, engine, {
      timeRange: { from: '2026-02-03', to: '2026-02-04' },
      features: ['users_toy:watch', 'users_toy:count_7d'],
    });
    expect(r.columns).toEqual(['user_id', 'event_timestamp', 'watch', 'count_7d']);
    expect(r.data!.map((x) => [x.user_id, (x.event_timestamp as Date).toISOString().slice(0, 10), x.watch, x.count_7d])).toEqual([
      ...[0, 1, 2, 3, 4].map((i) => [`u${i}`, '2026-02-04', 30 + i + 0.5, 3]),
      ...[0, 1, 2, 3].map((i) => [`u${i}`, '2026-02-05', 40 + i + 0.5, 4]),
    ]);
    await expect(
      getHistoricalFeatures(lake, engine, { timeRange: { from: '2026-02-03', to: '2026-02-04' }, features: ['users_toy:watch', 'videos_toy:views'] }),
    ).rejects.toThrow(/same entity keys: users_toy has user_id, videos_toy has video_id/);
  });

  it('refuses bad requests with the reason', async () => {
    const bad = async (req: Parameters<typeof getHistoricalFeatures>[2], message: RegExp) => {
      const e = await getHistoricalFeatures(lake, engine, req).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TrainingSetInputError);
      expect((e as Error).message).toMatch(message);
    };
    const csv = (name: string, text: string | Buffer) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    await bad(
      { entities: entitiesCsv, features: ['nope:watch'] },
      /unknown feature view 'nope': not in the registry of lake .* \(registered: users_toy, videos_toy\)/,
    );
    await bad(
      { entities: entitiesCsv, features: ['users_toy:nope'] },
      /unknown feature 'nope' in view users_toy \(schema version 1; features: watch, top, count_7d\)/,
    );
    await bad({ entities: entitiesCsv, features: ['users_toy.watch'] }, /invalid feature reference 'users_toy.watch': expected family:feature/);
    await bad({ entities: entitiesCsv, features: ['users_toy:watch', 'users_toy:watch'] }, /listed twice/);
    await bad({ entities: entitiesCsv, features: [] }, /no features requested/);
    await bad(
      { entities: entitiesCsv, features: ['users_toy:count_7d', 'videos_toy:count_7d'] },
      /'count_7d' is requested from both users_toy and videos_toy: use full feature names/,
    );
    await bad(
      { entities: csv('nokey.csv', 'video_id,event_timestamp\nv1,2026-02-03\n'), features: refs },
      /lacks key column\(s\) user_id needed by users_toy \(columns: video_id, event_timestamp\)/,
    );
    await bad(
      { entities: csv('notime.csv', 'user_id,video_id,ts\nu1,v1,2026-02-03\n'), features: refs },
      /has no event_timestamp column \(columns: user_id, video_id, ts\)/,
    );
    await bad(
      { entities: csv('badtime.csv', 'user_id,event_timestamp\nu1,2026-02-03\nu2,yesterday\n'), features: ['users_toy:watch'] },
      /1 row\(s\) have an unparseable event_timestamp \(first: data row 2, 'yesterday'\)/,
    );
    await bad(
      { entities: csv('nulltime.csv', 'user_id,event_timestamp\nu1,2026-02-03\nu2,\n'), features: ['users_toy:watch'] },
      /1 row\(s\) have no event_timestamp \(first: data row 2\)/,
    );
    await bad(
      { entities: csv('numtime.csv', 'user_id,event_timestamp\nu1,17\n'), features: ['users_toy:watch'] },
      /1 row\(s\) have an unparseable event_timestamp \(first: data row 1, '17'\): expected ISO 8601/,
    );
    await bad(
      { entities: { sql: "SELECT 'u1' AS user_id, 17 AS event_timestamp" }, features: ['users_toy:watch'] },
      /event_timestamp of the entity query is INTEGER: expected a timestamp/,
    );
    await bad(
      { entities: csv('clash.csv', 'user_id,event_timestamp,watch\nu1,2026-02-03,1\n'), features: ['users_toy:watch'] },
      /already has a column named 'watch'.*full feature names/,
    );
    await bad(
      { entities: csv('internal.csv', 'user_id,event_timestamp,__gold_row\nu1,2026-02-03,1\n'), features: ['users_toy:watch'] },
      /names starting with __gold_ are reserved/,
    );
    const binary = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919 + (i >> 3)) % 256));
    await bad(
      { entities: csv('garbage.csv', binary), features: ['users_toy:watch'] },
      /cannot read entity file .*garbage\.csv as CSV: Invalid Input Error: Error when sniffing/,
    );
    await bad(
      { entities: csv('ragged.csv', 'user_id,event_timestamp\nu1,2026-02-03\nu2,2026-02-04,extra,more\n'), features: ['users_toy:watch'] },
      /has no event_timestamp column/,
    );
    await bad(
      { entities: csv('corrupt.parquet', 'PAR1 this is not parquet'), features: ['users_toy:watch'] },
      /cannot read entity file .*corrupt\.parquet as Parquet/,
    );
    await bad({ entities: csv('entities.json', '{}'), features: ['users_toy:watch'] }, /unsupported extension '.json' \(expected .csv or .parquet\)/);
    await bad({ entities: join(dir, 'missing.csv'), features: ['users_toy:watch'] }, /entity file .*missing\.csv does not exist/);
    await bad({ entities: { sql: 'SELECT * FROM no_such_table' }, features: ['users_toy:watch'] }, /cannot read the entity query: Catalog Error/);
    await bad({ features: ['users_toy:watch'] }, /give either entity rows or a time range/);
    await bad({ entities: entitiesCsv, timeRange: { from: FIRST, to: LAST }, features: ['users_toy:watch'] }, /give either entity rows or a time range/);
    await bad({ timeRange: { from: LAST, to: FIRST }, features: ['users_toy:watch'] }, /empty time range/);
    await bad({ timeRange: { from: '2026-02-30', to: LAST }, features: ['users_toy:watch'] }, /time range: invalid date '2026-02-30': expected YYYY-MM-DD/);
    await bad({ entities: entitiesCsv, features: ['users_toy:watch'], out: join(dir, 'x.xlsx') }, /unsupported extension \(expected .parquet or .csv\)/);
  });
});

describe('entity rows at the edges', () => {
  let db: Engine;
  let lake: Lake;
  const dir = tempDir();
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const rejects = async (entities: EntitySource, message: RegExp) => {
    const e = await getHistoricalFeatures(lake, engine, { entities, features: ['users_toy:watch'] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TrainingSetInputError);
    expect((e as Error).message).toMatch(message);
  };
  const watch = async (entities: EntitySource) => (await getHistoricalFeatures(lake, engine, { entities, features: ['users_toy:watch'] })).data!;
  beforeAll(async () => {
    db = await Engine.create(engine);
    lake = openLake(tempDir(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    await writeFixture(db, lake);
  });
  afterAll(async () => {
    db.close();
    await lake.close();
  });

  it('serves times before 1970 by the same rules', async () => {
    // Gold of 1969-12-29 and 1969-12-30: feature_timestamps 1969-12-30 and 1969-12-31, negative epochs.
    const old = openLake(tempDir(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    await registerFamily(old, users);
    for (const [n, d] of ['1969-12-29', '1969-12-30'].entries()) {
      await commitDay(db, old, users, d, `SELECT 'u1' AS user_id, ${n + 1}.5 AS watch, 'x' AS top, 1::BIGINT AS count_7d`);
    }
    const times = ['1969-12-31 06:00:00', '1969-12-30 06:00:00', '1969-12-31 00:30:00', '1970-01-02 00:00:00', '1970-01-02 00:00:01', '1969-12-29 23:59:59'];
    const entities = file('old.csv', `${['user_id,event_timestamp', ...times.map((t) => `u1,${t}`)].join('\n')}\n`);
    for (const asKnownAt of [false, true]) {
      const r = await getHistoricalFeatures(old, engine, { entities, features: ['users_toy:watch'], asKnownAt });
      // As known at, a row counts from its created_timestamp, an hour after its feature_timestamp.
      expect(r.data!.map((x) => x.watch)).toEqual([2.5, 1.5, asKnownAt ? 1.5 : 2.5, 2.5, null, null]);
    }
    await old.close();
  });

  it('refuses event times outside 1900 to 2199, infinity included, with the row and value', async () => {
    const far =
      /entity file .*far\.csv: 1 row\(s\) have an out-of-range event_timestamp \(first: data row 2, '2300-01-01 00:00:00'\): expected a time from 1900-01-01 to before 2200-01-01/;
    await rejects(file('far.csv', 'user_id,event_timestamp\nu1,2026-02-04 01:00:00\nu1,2300-01-01 00:00:00\n'), far);
    await rejects(
      { sql: "SELECT 'u1' AS user_id, TIMESTAMP '20260-02-04 01:00:00' AS event_timestamp" },
      /the entity query: 1 row\(s\) have an out-of-range event_timestamp \(first: data row 1, '20260-02-04 01:00:00'\)/,
    );
    await rejects(
      { sql: "SELECT 'u1' AS user_id, 'infinity'::TIMESTAMP AS event_timestamp" },
      /1 row\(s\) have an out-of-range event_timestamp \(first: data row 1, 'infinity'\)/,
    );
    await rejects({ sql: "SELECT 'u1' AS user_id, DATE '1899-12-31' AS event_timestamp" }, /out-of-range event_timestamp \(first: data row 1, '1899-12-31'\)/);
    // As text, 'infinity' is not ISO 8601 to begin with.
    await rejects(
      file('inf.csv', 'user_id,event_timestamp\nu1,infinity\n'),
      /1 row\(s\) have an unparseable event_timestamp \(first: data row 1, 'infinity'\)/,
    );
    expect(
      await watch({ sql: "SELECT 'u1' AS user_id, TIMESTAMP '1900-01-01 00:00:00' AS event_timestamp UNION ALL SELECT 'u1', TIMESTAMP '2199-12-31 23:59:59'" }),
    ).toHaveLength(2);
  });

  it('counts a UTC offset in timestamp text (text without one is UTC)', async () => {
    // 2026-02-03T01:00:00+02:00 is 02-02 23:00 UTC, before as_of(02-02) = 02-03 00:00: 02-01's row (11.5), not 02-02's (21.5).
    const parquet = join(dir, 'offset.parquet');
    await db.run(
      `COPY (SELECT 'u1' AS user_id, '2026-02-03T01:00:00+02:00' AS event_timestamp UNION ALL SELECT 'u1', '2026-02-03 01:00:00') TO ${sqlStr(parquet)} (FORMAT parquet)`,
    );
    expect((await watch(parquet)).map((x) => x.watch)).toEqual([11.5, 21.5]);
    expect((await watch({ sql: "SELECT 'u1' AS user_id, '2026-02-03T01:00:00+02:00' AS event_timestamp" })).map((x) => x.watch)).toEqual([11.5]);
    const csv = file('offset.csv', 'user_id,event_timestamp\nu1,2026-02-03T01:00:00+02:00\nu1,2026-02-03 01:00:00\nu1,2026-02-02T19:30:00-0330\n');
    // From CSV, event_timestamp comes out as the UTC time it was parsed to.
    expect((await watch(csv)).map((x) => [x.event_timestamp, x.watch])).toEqual([
      [new Date('2026-02-02T23:00:00Z'), 11.5],
      [new Date('2026-02-03T01:00:00Z'), 21.5],
      [new Date('2026-02-02T23:00:00Z'), 11.5],
    ]);
  });

  it('reads CSV event times as ISO 8601 only, never guessing a format', async () => {
    const iso = file(
      'iso.csv',
      `${['user_id,event_timestamp', 'u1,2026-02-04T01:00:00Z', 'u1,2026-02-04 01:00:00', 'u1,2026-02-04T03:00:00+02:00', 'u1,2026-02-04T01:00:00.250', 'u1,2026-02-04T01:00', 'u1,2026-02-04'].join('\n')}\n`,
    );
    expect((await watch(iso)).map((x) => [(x.event_timestamp as Date).toISOString(), x.watch])).toEqual([
      ['2026-02-04T01:00:00.000Z', 31.5],
      ['2026-02-04T01:00:00.000Z', 31.5],
      ['2026-02-04T01:00:00.000Z', 31.5],
      ['2026-02-04T01:00:00.250Z', 31.5],
      ['2026-02-04T01:00:00.000Z', 31.5],
      ['2026-02-04T00:00:00.000Z', 31.5],
    ]);
    // Not ISO: DuckDB's sniffer would guess a format for the whole file (02/04/2026 as 2 April).
    for (const [name, value] of [
      ['us.csv', '02/04/2026 01:00:00'],
      ['slash.csv', '2026/02/04 01:00:00'],
      ['words.csv', 'Feb 4 2026 01:00'],
      ['epoch.csv', '1770166800'],
    ]) {
      const e = file(name, `user_id,event_timestamp\nu1,${value}\nu2,${value.replace('4', '3')}\n`);
      await rejects(
        e,
        new RegExp(
          `entity file .*${name.replace('.', '\\.')}: 2 row\\(s\\) have an unparseable event_timestamp \\(first: data row 1, '${value.replace(/[/.]/g, '\\$&')}'\\): expected ISO 8601 text`,
        ),
      );
    }
    await rejects(
      file('mixed.csv', 'user_id,event_timestamp\nu1,2026-02-04 01:00:00\nu1,2026-02-04 01:00:00\nu1,04.02.2026 01:00\n'),
      /1 row\(s\) have an unparseable event_timestamp \(first: data row 3, '04\.02\.2026 01:00'\)/,
    );
  });

  it('keeps input order whatever the columns are named, and reserves only its own prefix', async () => {
    // An exported data-frame index named rowid, not in input order.
    const rowid = file(
      'rowid.csv',
      'rowid,user_id,event_timestamp,label\n30,u2,2026-02-04 01:00:00,c\n10,u0,2026-02-04 01:00:00,a\n20,u1,2026-02-04 01:00:00,b\n',
    );
    expect((await watch(rowid)).map((x) => [x.rowid, x.label, x.watch])).toEqual([
      [30, 'c', 32.5],
      [10, 'a', 30.5],
      [20, 'b', 31.5],
    ]);
    const m0 = file('m0.csv', '__m0,__vrow,user_id,event_timestamp\nx,y,u2,2026-02-04 01:00:00\n');
    expect(await watch(m0)).toEqual([{ __m0: 'x', __vrow: 'y', user_id: 'u2', event_timestamp: new Date('2026-02-04T01:00:00Z'), watch: 32.5 }]);
    await rejects(
      file('gold-m0.csv', 'user_id,event_timestamp,__GOLD_m0\nu1,2026-02-04 01:00:00,x\n'),
      /has column '__GOLD_m0': names starting with __gold_ are reserved/,
    );
  });

  it('keeps the input order of a large file read by several threads', async () => {
    const big = join(dir, 'big.parquet');
    await db.run(
      `COPY (SELECT (i * 7919) % 200003 AS id, 'u' || (i % 5) AS user_id, TIMESTAMP '2026-02-04 01:00:00' AS event_timestamp FROM range(200003) t(i)) TO ${sqlStr(big)} (FORMAT parquet, ROW_GROUP_SIZE 5000)`,
    );
    const r = await getHistoricalFeatures(lake, { threads: 4, memoryLimit: '1GB' }, { entities: big, features: ['users_toy:watch'] });
    const ids = r.data!.map((x) => x.id as number);
    expect(ids.every((id, i) => id === (i * 7919) % 200003)).toBe(true);
  });

  it('refuses a view with a column named rowid, registered before declarations refused it', async () => {
    const legacy = openLake(tempDir(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    const schema = schemaFromDecl(users);
    schema.features.push({ ...schema.features[0]!, name: 'rowid' });
    await legacy.write(
      paths.join(paths.registry(users.name), 'v1.json'),
      JSON.stringify({ family: users.name, version: 1, change: 'initial', registeredAt: '2026-01-01T00:00:00Z', diff: null, schema }),
    );
    const entities = file('e.csv', 'user_id,event_timestamp\nu1,2026-02-04 01:00:00\n');
    const e = await getHistoricalFeatures(legacy, engine, { entities, features: ['users_toy:watch', 'users_toy:rowid'] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TrainingSetInputError);
    expect((e as Error).message).toMatch(/view users_toy \(schema version 1\) has a column named 'rowid', which hides DuckDB's row id/);
    await legacy.close();
  });

  it('refuses an entity path with glob characters, which DuckDB would expand to other files', async () => {
    file('e1.csv', 'user_id,event_timestamp\nu1,2026-02-04 01:00:00\n');
    const star = file('e*.csv', 'user_id,event_timestamp\nu0,2026-02-04 01:00:00\n');
    await rejects(star, /entity file .*e\*\.csv: the path has a glob character \(\*, \? or \[\), which DuckDB would expand/);
    mkdirSync(join(dir, 'd [x]'));
    mkdirSync(join(dir, 'd x'));
    await rejects(file('d [x]/e.csv', 'user_id,event_timestamp\nu0,2026-02-04 01:00:00\n'), /the path has a glob character/);
    await rejects(file('e?.csv', 'user_id,event_timestamp\nu0,2026-02-04 01:00:00\n'), /the path has a glob character/);
  });
});

describe('partitions a request cannot read', () => {
  let db: Engine;
  beforeAll(async () => {
    db = await Engine.create(engine);
  });
  afterAll(() => db.close());

  async function setup(): Promise<{ lake: Lake; entities: string }> {
    const lake = openLake(tempDir(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    await registerFamily(lake, users);
    for (const d of ['2026-02-01', '2026-02-02'])
      await commitDay(db, lake, users, d, `SELECT 'u1' AS user_id, 1.5 AS watch, 'x' AS top, 3::BIGINT AS count_7d`);
    const entities = join(tempDir(), 'e.csv');
    writeFileSync(entities, 'user_id,event_timestamp\nu1,2026-02-03 06:00:00\n');
    return { lake, entities };
  }
  const unreadable = async (lake: Lake, entities: string, features: string[], message: RegExp) => {
    const e = await getHistoricalFeatures(lake, engine, { entities, features }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UnreadablePartitionError);
    expect((e as Error).message).toMatch(message);
  };

  it('after a breaking change: rejected until the date is rewritten', async () => {
    const { lake, entities } = await setup();
    const v2 = { ...users, version: 2, features: users.features.filter((f) => f.name !== 'top') };
    expect((await registerFamily(lake, v2)).change).toBe('breaking');
    await unreadable(
      lake,
      entities,
      ['users_toy:watch'],
      /gold users_toy 2026-02-01 was written with schema version 1, and version 2 between it and the requested version 2 is a breaking change: backfill the date/,
    );
    for (const d of ['2026-02-01', '2026-02-02']) await commitDay(db, lake, v2, d, `SELECT 'u1' AS user_id, 2.5 AS watch, 4::BIGINT AS count_7d`, 2);
    const r = await getHistoricalFeatures(lake, engine, { entities, features: ['users_toy:watch'] });
    expect(r.data!.map((x) => x.watch)).toEqual([2.5]);
  });

  it('a compatible change: older partitions serve the features they have, not the added ones', async () => {
    const { lake, entities } = await setup();
    const v2 = { ...users, features: [...users.features, { name: 'added', type: 'DOUBLE' as const, description: 'new' }] };
    expect((await registerFamily(lake, v2)).change).toBe('compatible');
    await commitDay(db, lake, v2, '2026-02-02', `SELECT 'u1' AS user_id, 7.5 AS watch, 'y' AS top, 9::BIGINT AS count_7d, 0.25 AS added`, 2);
    // 2026-02-01 (v1) and 2026-02-02 (v2) read together, matched by column name.
    const r = await getHistoricalFeatures(lake, engine, { entities, features: ['users_toy:count_7d', 'users_toy:watch'] });
    expect(r).toMatchObject({ partitionsRead: 2, data: [{ user_id: 'u1', count_7d: 9, watch: 7.5 }] });
    await unreadable(
      lake,
      entities,
      ['users_toy:added'],
      /gold users_toy 2026-02-01 was written with schema version 1, which lacks requested feature\(s\) added: backfill the date/,
    );
  });

  it('a partition without a schema version, or with one the registry does not have', async () => {
    const { lake, entities } = await setup();
    const prefix = paths.gold(users.name, '2026-02-02');
    const m = (await readManifest(lake, prefix))!;
    const rewrite = (meta: Record<string, unknown>) => lake.write(`${prefix}/_SUCCESS`, JSON.stringify({ ...m, meta }));
    await rewrite({ ...m.meta, schemaVersion: 5 });
    await unreadable(lake, entities, ['users_toy:watch'], /2026-02-02 was written with schema version 5, which the registry does not have \(registered: 1\)/);
    await rewrite({ rows: 1 });
    await unreadable(lake, entities, ['users_toy:watch'], /2026-02-02 records no schemaVersion in its manifest/);
  });
});

describe('gold training-set (CLI)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = 0;
  });

  const gold = (root: string, ...args: string[]) => runGold('--lake', root, '--log-level', 'silent', ...args);

  it('writes the training set and prints rows, path and seconds', async () => {
    const root = tempDir();
    const db = await Engine.create(engine);
    const lake = openLake(root, { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    await writeFixture(db, lake);
    const entities = join(tempDir(), 'e.csv');
    writeFileSync(entities, 'user_id,video_id,event_timestamp\nu1,v1,2026-02-03 12:00:00\nu2,v0,2026-02-05 01:00:00\n');
    const out = join(tempDir(), 'train.parquet');
    const r = await gold(
      root,
      'training-set',
      '--entities',
      entities,
      '--features',
      'users_toy:watch,videos_toy:views',
      '--out',
      out,
      '--full-names',
      '--json',
    );
    expect(r.err).toBe('');
    expect(JSON.parse(r.out)).toMatchObject({
      rows: 2,
      path: out,
      partitionsRead: 6,
      columns: ['user_id', 'video_id', 'event_timestamp', 'users_toy__watch', 'videos_toy__views'],
    });
    expect(await db.all(`SELECT users_toy__watch AS w, videos_toy__views AS v FROM read_parquet(${sqlStr(out)})`)).toEqual([
      { w: 21.5, v: 201 },
      { w: 42.5, v: 400 },
    ]);
    const human = await gold(root, 'training-set', '--entities', entities, '--features', 'users_toy:watch', '--out', join(tempDir(), 't.csv'), '--as-known-at');
    expect(human.out).toMatch(/^2 rows -> .*t\.csv \(\d+\.\d\d s, 4 gold partitions read\)\n$/);
    const range = await gold(
      root,
      'training-set',
      '--from',
      '2026-02-09',
      '--to',
      '2026-02-10',
      '--features',
      'users_toy:watch',
      '--out',
      join(tempDir(), 'r.csv'),
      '--json',
    );
    expect(JSON.parse(range.out)).toMatchObject({ rows: 9 });
    db.close();
    await lake.close();
  });

  it('fails with a one-line reason', async () => {
    const root = tempDir();
    expect((await gold(root, 'training-set', '--features', 'a:b', '--out', 'x.csv')).err).toMatch(/^gold: give --entities FILE, or --from D --to D/);
    expect((await gold(root, 'training-set', '--from', '2026-01-01', '--features', 'a:b', '--out', 'x.csv')).err).toMatch(/--from and --to go together/);
    const r = await gold(root, 'training-set', '--entities', 'nope.csv', '--features', 'a:b', '--out', 'x.csv');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^gold: unknown feature view 'a'/);
  });
});
