// The synthetic generator on a local lake: determinism, scale, the shape of a streaming service
// (asserted with numbers), bad rows of every kind, the layout it writes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, sqlList, sqlStr } from '../../src/engine/duckdb.js';
import { committedFiles, type Lake, openLake, paths, readManifest } from '../../src/lake/index.js';
import { SILVER_FILE_COLUMNS } from '../../src/silver/contract.js';
import { type GenerateOptions, type GenerateReport, generateSilver, SILVER_ROW_GROUP_SIZE, UNKNOWN_EVENT_TYPE } from '../../src/silver/generator.js';
import { readSilver } from '../../src/silver/reader.js';
import { SILVER_RULE_NAMES } from '../../src/silver/rules.js';
import { CATEGORIES, WEEKDAY_VOLUME } from '../../src/silver/synthetic-model.js';
import { tempDir } from '../support/env.js';

const ENGINE = { threads: 2, memoryLimit: '1GB' };
const RUN_TIME = new Date('2025-01-01T00:00:00Z');
// A Monday to a Sunday.
const WEEK: GenerateOptions = { from: '2024-03-04', to: '2024-03-10', users: 300, videos: 200, eventsPerDay: 3000, seed: 3 };

let db: Engine;
const lakes: Lake[] = [];
const newLake = (): Lake => {
  const l = openLake(tempDir('gold-silver-gen-'), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
  lakes.push(l);
  return l;
};

/** Every committed silver file of the lake's dates. */
async function silverFiles(lake: Lake, report: GenerateReport): Promise<string[]> {
  const keys = (await Promise.all(report.dates.flatMap((d) => d.partitions.map((p) => committedFiles(lake, p.prefix))))).flat();
  return Promise.all(keys.map((k) => lake.localFile(k!)));
}

/** A view `name` over the files, with event_type and event_date from their folders. */
async function viewOf(name: string, files: string[]): Promise<void> {
  await db.run(`CREATE OR REPLACE TEMP VIEW ${name} AS SELECT * FROM read_parquet(${sqlList(files)}, hive_partitioning = true)`);
}

const num = async (sql: string): Promise<number> => Number(Object.values(await db.one(sql))[0]);

let week: { lake: Lake; report: GenerateReport };

beforeAll(async () => {
  db = await Engine.create(ENGINE);
  const lake = newLake();
  week = { lake, report: await generateSilver(lake, ENGINE, WEEK) };
  await viewOf('week', await silverFiles(lake, week.report));
});

afterAll(async () => {
  db.close();
  await Promise.all(lakes.map((l) => l.close()));
});

describe('determinism', () => {
  it('gives the same rows for a seed, whatever the thread count or the range generated with it, and the same bytes', async () => {
    const a = newLake();
    const b = newLake();
    const ra = await generateSilver(a, ENGINE, { ...WEEK, from: '2024-03-01', to: '2024-03-03', badRowRate: 0.03 });
    const rb = await generateSilver(b, { threads: 1, memoryLimit: '1GB' }, { ...WEEK, from: '2024-03-02', to: '2024-03-02', badRowRate: 0.03 });
    await viewOf('a', await silverFiles(a, ra));
    await viewOf('b', await silverFiles(b, rb));
    const n = await num(`SELECT count(*) FROM b`);
    expect(n).toBeGreaterThan(2500);
    expect(await num(`SELECT count(*) FROM a WHERE event_date = DATE '2024-03-02'`)).toBe(n);
    expect(await num(`SELECT count(*) FROM (SELECT * FROM a WHERE event_date = DATE '2024-03-02' EXCEPT ALL SELECT * FROM b)`)).toBe(0);
    expect(await num(`SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM a WHERE event_date = DATE '2024-03-02')`)).toBe(0);

    // The same bytes, too: rows are written in one order, ties included (a bad copy is not its original).
    const d = newLake();
    const rd = await generateSilver(d, ENGINE, { ...WEEK, from: '2024-03-02', to: '2024-03-02', badRowRate: 0.03 });
    const bytes = async (lake: Lake, r: GenerateReport): Promise<string[]> =>
      (await silverFiles(lake, r)).map((f) => createHash('sha256').update(readFileSync(f)).digest('hex'));
    expect(await bytes(d, rd)).toEqual(await bytes(b, rb));

    const c = newLake();
    const rc = await generateSilver(c, ENGINE, { ...WEEK, from: '2024-03-02', to: '2024-03-02', seed: 4 });
    await viewOf('c', await silverFiles(c, rc));
    expect(await num(`SELECT count(*) FROM (SELECT event_id, user_id, video_id FROM b INTERSECT SELECT event_id, user_id, video_id FROM c)`)).toBeLessThan(
      n / 10,
    );
  });
});

describe('scale', () => {
  it('writes the events per day asked for (times the weekday factor), from the population asked for', async () => {
    for (const [i, d] of week.report.dates.entries()) {
      const target = WEEK.eventsPerDay * WEEKDAY_VOLUME[i]!;
      expect(Math.abs(d.rows - target) / target).toBeLessThan(0.05);
    }
    expect(Math.abs(week.report.rows - 7 * WEEK.eventsPerDay) / (7 * WEEK.eventsPerDay)).toBeLessThan(0.03);
    expect(await num(`SELECT max(substr(user_id, 2)::INT) FROM week`)).toBeLessThan(WEEK.users);
    expect(await num(`SELECT max(substr(video_id, 2)::INT) FROM week`)).toBeLessThan(WEEK.videos);
    expect(await num(`SELECT count(DISTINCT user_id) FROM week`)).toBeGreaterThan(WEEK.users / 3);
  });

  it('writes valid silver only, unless asked for bad rows', async () => {
    const r = await readSilver(db, week.lake, { from: WEEK.from, to: WEEK.to, runTime: RUN_TIME });
    expect(r.rowsRead).toBe(week.report.rows);
    expect(r.rowsQuarantined).toBe(0);
  });
});

describe('shape', () => {
  it('has Zipf-like popularity: the top 10% of videos get over 40% of plays', async () => {
    const share = await num(`WITH p AS (SELECT video_id, count(*) AS n FROM week WHERE event_type = 'play_start' GROUP BY ALL),
      r AS (SELECT n, row_number() OVER (ORDER BY n DESC) AS rk FROM p)
      SELECT sum(n) FILTER (WHERE rk <= ${WEEK.videos / 10}) / sum(n) FROM r`);
    expect(share).toBeGreaterThan(0.4);
  });

  it("has stable tastes: a user's top category holds most of their plays, far above 1/#categories", async () => {
    const share = await num(`WITH uc AS (SELECT user_id, category, count(*) AS n FROM week WHERE event_type = 'play_start' GROUP BY ALL),
      u AS (SELECT max(n) / sum(n) AS top, sum(n) AS plays FROM uc GROUP BY user_id)
      SELECT avg(top) FROM u WHERE plays >= 5`);
    expect(share).toBeGreaterThan(0.5);
    expect(share).toBeGreaterThan(4 / CATEGORIES.length);
    // Each video has one category.
    expect(await num(`SELECT count(*) FROM (SELECT video_id FROM week GROUP BY ALL HAVING count(DISTINCT category) > 1)`)).toBe(0);
  });

  it('has a daily and a weekly rhythm', async () => {
    const evening = await num(`SELECT count(*) / 4 FROM week WHERE hour(event_timestamp) BETWEEN 19 AND 22`);
    const night = await num(`SELECT count(*) / 2 FROM week WHERE hour(event_timestamp) BETWEEN 3 AND 4`);
    expect(evening).toBeGreaterThan(3 * night);
    const days = week.report.dates.map((d) => d.rows);
    expect((days[5]! + days[6]!) / 2).toBeGreaterThan((days[0]! + days[1]! + days[2]! + days[3]!) / 4);
  });

  it('completes short videos more often than long ones', async () => {
    const rate = (where: string) =>
      num(`SELECT count(*) FILTER (WHERE event_type = 'complete') / count(*) FILTER (WHERE event_type = 'play_start') FROM week WHERE ${where}`);
    expect(await rate('video_duration_seconds < 600')).toBeGreaterThan((await rate('video_duration_seconds >= 3600')) + 0.1);
  });

  it('has sessions of several plays, of one user each, some crossing midnight', async () => {
    expect(await num(`SELECT avg(n) FROM (SELECT count(*) FILTER (WHERE event_type = 'play_start') AS n FROM week GROUP BY session_id)`)).toBeGreaterThan(1.8);
    expect(await num(`SELECT count(*) FROM (SELECT session_id FROM week GROUP BY ALL HAVING count(DISTINCT user_id) > 1)`)).toBe(0);
    expect(await num(`SELECT count(*) FROM (SELECT session_id FROM week GROUP BY ALL HAVING count(DISTINCT event_date) > 1)`)).toBeGreaterThan(10);
  });

  it("accounts a play's watch time in its events: heartbeats carry the seconds since the previous event", async () => {
    expect(await num(`SELECT max(watch_seconds) FROM week WHERE event_type = 'heartbeat'`)).toBeLessThanOrEqual(300);
    expect(await num(`SELECT count(*) FROM week WHERE event_type = 'heartbeat'`)).toBeGreaterThan(
      await num(`SELECT count(*) FROM week WHERE event_type = 'play_start'`),
    );
    for (const t of ['like', 'share', 'add_to_list', 'pause', 'seek', 'complete'])
      expect(await num(`SELECT count(*) FROM week WHERE event_type = ${sqlStr(t)}`)).toBeGreaterThan(0);
  });

  it('has users arriving and churning: next-day audiences overlap more than half a year apart', async () => {
    const lake = newLake();
    const o = { ...WEEK, users: 200, eventsPerDay: 10_000 };
    const r1 = await generateSilver(lake, ENGINE, { ...o, from: '2024-03-04', to: '2024-03-05' });
    const r2 = await generateSilver(lake, ENGINE, { ...o, from: '2024-09-04', to: '2024-09-04' });
    await viewOf('churn', [...(await silverFiles(lake, r1)), ...(await silverFiles(lake, r2))]);
    const overlap = (d: string) =>
      num(`WITH a AS (SELECT DISTINCT user_id FROM churn WHERE event_date = DATE '2024-03-04'), b AS (SELECT DISTINCT user_id FROM churn WHERE event_date = DATE '${d}')
        SELECT (SELECT count(*) FROM a JOIN b USING (user_id)) / (SELECT count(*) FROM b)`);
    expect(await overlap('2024-03-05')).toBeGreaterThan((await overlap('2024-09-04')) + 0.1);
  });
});

describe('bad rows', () => {
  it('breaks every rule at the rate asked for, and the reader quarantines exactly them', async () => {
    const lake = newLake();
    const o = { ...WEEK, from: '2024-03-04', to: '2024-03-05', badRowRate: 0.05 };
    const report = await generateSilver(lake, ENGINE, o);
    const good = report.rows - report.badRows;
    expect(report.badRows / good).toBeGreaterThan(0.04);
    expect(report.badRows / good).toBeLessThan(0.06);
    const r = await readSilver(db, lake, { from: o.from, to: o.to, runTime: RUN_TIME });
    expect(Object.keys(r.quarantinedByRule).sort()).toEqual([...SILVER_RULE_NAMES].sort());
    expect(r.rowsRead).toBe(report.rows);
    expect(r.rowsQuarantined).toBe(report.badRows);
    expect(r.rowsAccepted).toBe(good);
    expect(r.rowsRead).toBe(r.rowsAccepted + r.rowsQuarantined);
  });
});

describe('layout', () => {
  it('writes one sorted file per event type, committed per type folder and per date', async () => {
    const d = week.report.dates[0]!;
    expect(d.partitions.map((p) => p.eventType)).toEqual(['add_to_list', 'complete', 'heartbeat', 'like', 'pause', 'play_start', 'seek', 'share']);
    const marker = await readManifest(week.lake, paths.silverDate(d.date));
    expect(marker!.meta).toMatchObject({ seed: WEEK.seed, eventsPerDay: WEEK.eventsPerDay });
    expect(marker!.files.map((f) => f.name.split('/')[0])).toEqual(d.partitions.map((p) => `event_type=${p.eventType}`));
    for (const p of d.partitions) {
      const files = (await committedFiles(week.lake, p.prefix))!;
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(new RegExp(`^${p.prefix}/part-0-[a-z0-9]+\\.parquet$`));
      const local = await week.lake.localFile(files[0]!);
      const schema = await db.all<{ column_name: string; column_type: string }>(
        `DESCRIBE SELECT * FROM read_parquet(${sqlStr(local)}, hive_partitioning = false)`,
      );
      expect(schema.map((c) => [c.column_name, c.column_type])).toEqual(SILVER_FILE_COLUMNS.map((c) => [c.name, c.type]));
      expect(
        await num(
          `SELECT count(*) FROM (SELECT event_timestamp < lag(event_timestamp) OVER (ORDER BY file_row_number) AS back FROM read_parquet(${sqlStr(local)}, file_row_number = true)) WHERE back`,
        ),
      ).toBe(0);
      expect(await num(`SELECT max(row_group_num_rows) FROM parquet_metadata(${sqlStr(local)})`)).toBeLessThanOrEqual(SILVER_ROW_GROUP_SIZE);
      expect(await num(`SELECT count(*) FROM read_parquet(${sqlStr(local)})`)).toBe(p.rows);
    }
  });

  it('replaces a date when generated again, dropping event types it no longer has', async () => {
    const lake = newLake();
    const o = { ...WEEK, from: '2024-03-04', to: '2024-03-04' };
    const bad = await generateSilver(lake, ENGINE, { ...o, badRowRate: 0.05 });
    expect(bad.dates[0]!.partitions.map((p) => p.eventType)).toContain(UNKNOWN_EVENT_TYPE);
    const clean = await generateSilver(lake, ENGINE, o);
    expect(await lake.listDirs(paths.silverDate(o.from))).not.toContain(`event_type=${UNKNOWN_EVENT_TYPE}`);
    const r = await readSilver(db, lake, { from: o.from, to: o.to, runTime: RUN_TIME });
    expect(r.rowsRead).toBe(clean.rows);
    expect(r.rowsQuarantined).toBe(0);
  });

  it('rejects bad options', async () => {
    const lake = newLake();
    const bad = (o: Partial<GenerateOptions>) => generateSilver(lake, ENGINE, { ...WEEK, ...o });
    await expect(bad({ users: 0 })).rejects.toThrow(/invalid users 0/);
    await expect(bad({ eventsPerDay: 1.5 })).rejects.toThrow(/invalid eventsPerDay/);
    await expect(bad({ from: '2024-03-05', to: '2024-03-04' })).rejects.toThrow(/from is after to/);
    await expect(bad({ from: '2024-02-30' })).rejects.toThrow(/invalid date/);
    await expect(bad({ badRowRate: 1 })).rejects.toThrow(/invalid bad row rate/);
    await expect(bad({ seed: 0.5 })).rejects.toThrow(/invalid seed/);
    expect(await lake.list('')).toEqual([]);
  });
});
