// The silver reader against hand-made silver on a local lake (and pruning on the S3 server): every
// rule alone and mixed, the accounting identity, quarantine, bad files and schemas, missing and
// incomplete dates, upstream layouts, hour ranges.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, sqlStr } from '../../src/engine/duckdb.js';
import { commitPartition, committedFiles, joinKey, type Lake, openLake, paths, readManifest } from '../../src/lake/index.js';
import { SILVER_COLUMNS, SILVER_FILE_COLUMNS } from '../../src/silver/contract.js';
import { SilverFileError, SilverPartitionMissingError, SilverSchemaError } from '../../src/silver/errors.js';
import { generateSilver } from '../../src/silver/generator.js';
import { readSilver, type SilverReadReport, silverQueryError } from '../../src/silver/reader.js';
import { firstBrokenRowRuleSql, SILVER_RULE_NAMES } from '../../src/silver/rules.js';
import { s3LakeUri, tempDir } from '../support/env.js';

const D = '2024-03-01';
const RUN_TIME = new Date('2024-03-05T00:00:00Z');
type Column = (typeof SILVER_FILE_COLUMNS)[number]['name'];

/** One silver row as SQL expressions: a valid heartbeat, with overrides. */
function row(id: string, o: Partial<Record<Column, string>> = {}): string {
  const v: Record<Column, string> = {
    event_id: sqlStr(id),
    event_timestamp: `TIMESTAMP '${D} 10:00:00'`,
    user_id: "'u1'",
    session_id: "'s1'",
    video_id: "'v1'",
    category: "'drama'",
    watch_seconds: '30.0',
    play_position_seconds: '100.0',
    video_duration_seconds: '3000.0',
    device_type: "'tv'",
    country: "'US'",
    ...o,
  };
  return `SELECT ${SILVER_FILE_COLUMNS.map((c) => `CAST(${v[c.name]} AS ${c.type}) AS ${c.name}`).join(', ')}`;
}

const good = (n: number, prefix = 'g'): string[] =>
  Array.from({ length: n }, (_, i) => row(`${prefix}${i}`, { event_timestamp: `TIMESTAMP '${D} 08:00:00' + INTERVAL ${i} MINUTE` }));

let db: Engine;
let dir: string;
let fileNo = 0;
const lakes: Lake[] = [];

function newLake(uri = tempDir('gold-silver-lake-')): Lake {
  const lake = openLake(uri, { s3CacheDir: tempDir('gold-silver-cache-'), s3CacheMaxBytes: 1e9 });
  lakes.push(lake);
  return lake;
}

/** Writes rows (SELECTs) as one Parquet file, committed into the date's event_type folder. */
async function writeType(
  lake: Lake,
  date: string,
  eventType: string,
  rows: string[] | string,
  marker: 'manifest' | 'empty' | 'none' = 'manifest',
): Promise<string> {
  const file = join(dir, `f${fileNo++}.parquet`);
  const sql = typeof rows === 'string' ? rows : rows.join(' UNION ALL ');
  await db.run(`COPY (${sql}) TO ${sqlStr(file)} (FORMAT parquet)`);
  const prefix = paths.silverPartition(date, eventType);
  if (marker === 'manifest') {
    const m = await commitPartition(lake, prefix, [{ localPath: file }]);
    return joinKey(prefix, m.files[0]!.name);
  }
  const key = joinKey(prefix, `part-${String(fileNo).padStart(5, '0')}.parquet`);
  await lake.upload(file, key);
  if (marker === 'empty') await lake.write(joinKey(prefix, '_SUCCESS'), '');
  return key;
}

const completeDate = (lake: Lake, date: string): Promise<void> => lake.write(`${paths.silverDate(date)}/_SUCCESS`, '');

async function quarantineRows(lake: Lake, date: string): Promise<Record<string, unknown>[]> {
  const keys = await committedFiles(lake, paths.quarantine(date));
  if (!keys) return [];
  const files = await Promise.all(keys.map((k) => lake.localFile(k)));
  return db.all(`SELECT * FROM read_parquet([${files.map(sqlStr).join(', ')}]) ORDER BY event_id`);
}

function expectIdentity(r: SilverReadReport): void {
  expect(r.rowsRead).toBe(r.rowsAccepted + r.rowsQuarantined);
  expect(Object.values(r.quarantinedByRule).reduce((a, b) => a + b, 0)).toBe(r.rowsQuarantined);
}

beforeAll(async () => {
  db = await Engine.create({ threads: 2, memoryLimit: '1GB' });
  dir = tempDir('gold-silver-files-');
});

afterAll(async () => {
  db.close();
  await Promise.all(lakes.map((l) => l.close()));
});

describe('each rule alone', () => {
  // [rule, bad rows, the event_type folder they are in]
  const cases: [string, string[], string][] = [
    ['null_key', ['event_id', 'event_timestamp', 'user_id', 'session_id', 'video_id'].map((c, i) => row(`k${i}`, { [c]: 'NULL' })), 'heartbeat'],
    ['null_value', ['category', 'watch_seconds', 'play_position_seconds', 'video_duration_seconds'].map((c, i) => row(`n${i}`, { [c]: 'NULL' })), 'heartbeat'],
    ['unknown_event_type', [row('t0')], 'buffering'],
    ['timestamp_in_future', [row('f0', { event_timestamp: "TIMESTAMP '2024-03-05 00:00:01'" })], 'heartbeat'],
    [
      'timestamp_outside_partition',
      [row('o0', { event_timestamp: "TIMESTAMP '2024-02-29 23:59:59'" }), row('o1', { event_timestamp: "TIMESTAMP '2024-03-02 00:00:00'" })],
      'heartbeat',
    ],
    [
      'non_finite_number',
      [row('x0', { watch_seconds: "'NaN'" }), row('x1', { play_position_seconds: "'Infinity'" }), row('x2', { video_duration_seconds: "'-Infinity'" })],
      'heartbeat',
    ],
    [
      'nonpositive_duration',
      [row('d0', { video_duration_seconds: '0', play_position_seconds: '0' }), row('d1', { video_duration_seconds: '-5', play_position_seconds: '0' })],
      'heartbeat',
    ],
    ['negative_watch_seconds', [row('w0', { watch_seconds: '-0.5' })], 'heartbeat'],
    ['unexpected_watch_seconds', [row('z0', { watch_seconds: '5' })], 'play_start'],
    ['negative_position', [row('p0', { play_position_seconds: '-1' })], 'heartbeat'],
    ['position_beyond_duration', [row('b0', { play_position_seconds: '3000.5' })], 'heartbeat'],
    ['unknown_device_type', [row('v0', { device_type: "'smartwatch'" }), row('v1', { device_type: 'NULL' }), row('v2', { device_type: "'TV'" })], 'heartbeat'],
    [
      'bad_country',
      [row('c0', { country: "'XX'" }), row('c1', { country: "'usa'" }), row('c2', { country: "'us'" }), row('c3', { country: 'NULL' })],
      'heartbeat',
    ],
  ];

  it.each(cases)('%s', async (rule, bad, eventType) => {
    const lake = newLake();
    await writeType(lake, D, 'pause', good(3));
    await writeType(lake, D, eventType, bad);
    await completeDate(lake, D);
    // The future rule is relative to the run time: one second after it.
    const runTime = rule === 'timestamp_in_future' ? RUN_TIME : new Date('2030-01-01T00:00:00Z');
    const r = await readSilver(db, lake, { from: D, to: D, runTime });
    expect(r.rowsRead).toBe(3 + bad.length);
    expect(r.quarantinedByRule).toEqual({ [rule]: bad.length });
    expect(r.rowsAccepted).toBe(3);
    expectIdentity(r);
    const accepted = await db.all<{ event_id: string }>('SELECT event_id FROM events ORDER BY event_id');
    expect(accepted.map((a) => a.event_id)).toEqual(['g0', 'g1', 'g2']);
    const q = await quarantineRows(lake, D);
    expect(q).toHaveLength(r.rowsQuarantined);
    expect(new Set(q.map((x) => x.rule))).toEqual(new Set([rule]));
  });

  it('duplicate_event_id is judged per date: a range read and one-day reads quarantine the same rows', async () => {
    const lake = newLake();
    const D2 = '2024-03-02';
    // 'same' on both dates (an id reused on another day), and twice on D2 (a copy).
    await writeType(lake, D, 'heartbeat', [row('same'), row('d1')]);
    await writeType(lake, D2, 'heartbeat', [
      row('same', { event_timestamp: `TIMESTAMP '${D2} 10:00:00'` }),
      row('same', { event_timestamp: `TIMESTAMP '${D2} 10:00:00'` }),
    ]);
    await completeDate(lake, D);
    await completeDate(lake, D2);
    const range = await readSilver(db, lake, { from: D, to: D2, runTime: RUN_TIME });
    expect(range.quarantinedByRule).toEqual({ duplicate_event_id: 1 });
    const quarantinedByRange = [...(await quarantineRows(lake, D)), ...(await quarantineRows(lake, D2))].map((q) => [q.event_id, q.event_date]);
    const one = await readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME });
    const two = await readSilver(db, lake, { from: D2, to: D2, runTime: RUN_TIME });
    expect([one.quarantinedByRule, two.quarantinedByRule]).toEqual([{}, { duplicate_event_id: 1 }]);
    const quarantinedByDays = [...(await quarantineRows(lake, D)), ...(await quarantineRows(lake, D2))].map((q) => [q.event_id, q.event_date]);
    expect(quarantinedByDays).toEqual(quarantinedByRange);
    expect(quarantinedByDays).toHaveLength(1);
  });

  it('duplicate_event_id: one copy accepted, across files; an invalid copy keeps its own rule', async () => {
    const lake = newLake();
    await writeType(lake, D, 'heartbeat', [...good(3), row('dup'), row('tri')]);
    await writeType(lake, D, 'pause', [row('dup'), row('tri'), row('tri'), row('half', { country: "'XX'" })]);
    await writeType(lake, D, 'seek', [row('half')]);
    await completeDate(lake, D);
    const r = await readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME });
    expect(r.rowsRead).toBe(10);
    expect(r.quarantinedByRule).toEqual({ duplicate_event_id: 3, bad_country: 1 });
    expectIdentity(r);
    const ids = await db.all<{ event_id: string; n: number }>('SELECT event_id, count(*)::INT AS n FROM events GROUP BY ALL ORDER BY ALL');
    expect(ids).toEqual([
      { event_id: 'dup', n: 1 },
      { event_id: 'g0', n: 1 },
      { event_id: 'g1', n: 1 },
      { event_id: 'g2', n: 1 },
      { event_id: 'half', n: 1 },
      { event_id: 'tri', n: 1 },
    ]);
    // The accepted 'half' is the valid copy.
    expect(await db.one("SELECT country FROM events WHERE event_id = 'half'")).toEqual({ country: 'US' });
  });
});

describe('the accepted rows', () => {
  /** Brute force: every row of the files with its first broken rule, then one copy kept per (date, id) by content order. */
  async function reference(glob: string, hours?: [number, number]): Promise<string> {
    const inHours = hours ? `WHERE hour(event_timestamp) >= ${hours[0]} AND hour(event_timestamp) < ${hours[1]}` : '';
    const cols = SILVER_COLUMNS.map((c) => c.name).join(', ');
    await db.run(`CREATE OR REPLACE TEMP TABLE ref_rows AS SELECT ${cols}, ${firstBrokenRowRuleSql({ runTime: RUN_TIME })} AS rule
      FROM (SELECT ${SILVER_FILE_COLUMNS.map((c) => c.name).join(', ')}, event_type::VARCHAR AS event_type, event_date::DATE AS event_date
            FROM read_parquet(${sqlStr(glob)}, hive_partitioning = true) ${inHours})`);
    await db.run(`CREATE OR REPLACE TEMP TABLE ref_accepted AS SELECT ${cols} FROM ref_rows WHERE rule IS NULL
      QUALIFY row_number() OVER (PARTITION BY event_date, event_id ORDER BY ${cols}) = 1`);
    return 'ref_accepted';
  }

  async function expectSameRows(a: string, b: string): Promise<void> {
    const diff = async (x: string, y: string) =>
      (await db.one<{ n: number }>(`SELECT count(*)::INT AS n FROM (SELECT * FROM ${x} EXCEPT ALL SELECT * FROM ${y})`)).n;
    expect([await diff(a, b), await diff(b, a)]).toEqual([0, 0]);
  }

  it.each([3, 7, 13])("are the brute-force reference's rows, with its counts by rule, on generated silver with bad rows (seed %i)", async (seed) => {
    const root = tempDir('gold-silver-prop-');
    const lake = newLake(root);
    await generateSilver(
      lake,
      { threads: 2, memoryLimit: '1GB' },
      { from: D, to: '2024-03-02', users: 50, videos: 30, eventsPerDay: 1500, seed, badRowRate: 0.05 },
    );
    const r = await readSilver(db, lake, { from: D, to: '2024-03-02', runTime: RUN_TIME });
    const ref = await reference(join(root, 'silver/events/*/*/*.parquet'));
    await expectSameRows('events', ref);
    const rows = await db.one<{ n: number; valid: number; accepted: number }>(
      'SELECT count(*)::INT AS n, count(*) FILTER (WHERE rule IS NULL)::INT AS valid, (SELECT count(*)::INT FROM ref_accepted) AS accepted FROM ref_rows',
    );
    expect([r.rowsRead, r.rowsAccepted]).toEqual([rows.n, rows.accepted]);
    const byRule = await db.all<{ rule: string; n: number }>('SELECT rule, count(*)::INT AS n FROM ref_rows WHERE rule IS NOT NULL GROUP BY ALL');
    expect(r.quarantinedByRule).toEqual({ ...Object.fromEntries(byRule.map((x) => [x.rule, x.n])), duplicate_event_id: rows.valid - rows.accepted });
    expect(r.quarantinedByRule.duplicate_event_id).toBeGreaterThan(0);
    expect((await quarantineRows(lake, D)).length + (await quarantineRows(lake, '2024-03-02')).length).toBe(r.rowsQuarantined);
  });

  it('leave out the rejected rows by their place in files of many row groups, within an hour range', async () => {
    const root = tempDir('gold-silver-groups-');
    const lake = newLake(root);
    // One event a minute, a bad country every 7th, the same id twice every 11th; 60-row row groups.
    const file = join(dir, `f${fileNo++}.parquet`);
    await db.run(`COPY (SELECT f.* REPLACE (event_timestamp + INTERVAL (t.i) MINUTE AS event_timestamp,
          'e' || CASE WHEN t.i % 11 = 1 THEN t.i - 1 ELSE t.i END AS event_id,
          CASE WHEN t.i % 7 = 0 THEN 'XX' ELSE 'US' END AS country)
        FROM (${row('x', { event_timestamp: `TIMESTAMP '${D} 00:00:00'` })}) f, range(0, 1440) t(i) ORDER BY t.i)
      TO ${sqlStr(file)} (FORMAT parquet, ROW_GROUP_SIZE 60)`);
    await commitPartition(lake, paths.silverPartition(D, 'heartbeat'), [{ localPath: file }]);
    await completeDate(lake, D);
    for (const hours of [undefined, [5, 9] as [number, number]]) {
      const r = await readSilver(db, lake, { from: D, to: D, hours, runTime: RUN_TIME });
      await expectSameRows('events', await reference(join(root, 'silver/events/*/*/*.parquet'), hours));
      expect(r.rowsAccepted).toBe((await db.one<{ n: number }>('SELECT count(*)::INT AS n FROM events')).n);
      expect(r.quarantinedByRule.bad_country).toBeGreaterThan(0);
      expect(r.quarantinedByRule.duplicate_event_id).toBeGreaterThan(0);
    }
  });
});

describe('accounting and quarantine', () => {
  it('mixes every kind, counts each once under its first rule, and quarantines with all rules and the run time', async () => {
    const lake = newLake();
    await writeType(lake, D, 'heartbeat', [
      ...good(50),
      row('b1', { watch_seconds: '-3', country: "'XX'" }),
      row('b2', { event_id: 'NULL', device_type: "'fridge'" }),
      row('b3', { event_timestamp: "TIMESTAMP '2099-01-01 00:00:00'" }),
      row('b4', { play_position_seconds: '4000' }),
      row('g7'),
    ]);
    await writeType(lake, D, 'buffering', [row('b5')]);
    await writeType(lake, D, 'like', [row('b6', { watch_seconds: '1' }), row('l1', { watch_seconds: '0' })]);
    await completeDate(lake, D);
    const r = await readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME });
    expect(r.rowsRead).toBe(58);
    expect(r.quarantinedByRule).toEqual({
      negative_watch_seconds: 1,
      null_key: 1,
      timestamp_in_future: 1,
      position_beyond_duration: 1,
      unknown_event_type: 1,
      unexpected_watch_seconds: 1,
      duplicate_event_id: 1,
    });
    expect(r.rowsAccepted).toBe(51);
    expectIdentity(r);
    expect(r.quarantineKeys).toHaveLength(1);
    expect(r.quarantineKeys[0]).toMatch(/^quarantine\/silver\/event_date=2024-03-01\/part-0-.*\.parquet$/);

    const q = await quarantineRows(lake, D);
    expect(q).toHaveLength(7);
    const b1 = q.find((x) => x.event_id === 'b1')!;
    expect(b1.rule).toBe('negative_watch_seconds');
    expect(b1.rules).toEqual(['negative_watch_seconds', 'bad_country']);
    expect(b1.run_time).toEqual(RUN_TIME);
    expect(q.find((x) => x.event_id === 'b3')!.rules).toEqual(['timestamp_in_future', 'timestamp_outside_partition']);
    expect(q.find((x) => x.event_id === 'g7')!.rules).toEqual(['duplicate_event_id']);
    // The quarantine keeps the silver columns, as read.
    expect(Object.keys(b1)).toEqual([...SILVER_COLUMNS.map((c) => c.name), 'rule', 'rules', 'run_time']);
  });

  it("replaces a date's quarantine on each read and removes it once the date is clean", async () => {
    const lake = newLake();
    await writeType(lake, D, 'heartbeat', [...good(5), row('bad', { country: "'XX'" })]);
    await completeDate(lake, D);
    await readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME });
    await readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME });
    expect(await committedFiles(lake, paths.quarantine(D))).toHaveLength(1);
    expect(await quarantineRows(lake, D)).toHaveLength(1);

    const noQuarantine = await readSilver(db, lake, { from: D, to: D, runTime: new Date('2030-01-01T00:00:00Z'), quarantine: false });
    expect(noQuarantine.rowsQuarantined).toBe(1);
    expect(noQuarantine.quarantineKeys).toEqual([]);
    expect((await quarantineRows(lake, D))[0]!.run_time).toEqual(RUN_TIME);

    await writeType(lake, D, 'heartbeat', good(5));
    const clean = await readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME });
    expect(clean.rowsQuarantined).toBe(0);
    expect(await readManifest(lake, paths.quarantine(D))).toBeNull();
  });

  it('creates the table with the contract columns and types, under the name asked for', async () => {
    const lake = newLake();
    await writeType(lake, D, 'heartbeat', good(2));
    await completeDate(lake, D);
    await readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME, table: 'my events' });
    const cols = await db.all<{ column_name: string; column_type: string }>('DESCRIBE "my events"');
    expect(cols.map((c) => [c.column_name, c.column_type])).toEqual(SILVER_COLUMNS.map((c) => [c.name, c.type]));
    expect(await db.one('SELECT event_type, event_date::VARCHAR AS d FROM "my events" LIMIT 1')).toEqual({ event_type: 'heartbeat', d: D });
  });
});

describe('bad files and schemas', () => {
  it('names an unreadable file', async () => {
    const lake = newLake();
    await writeType(lake, D, 'heartbeat', good(2));
    const key = await writeType(lake, D, 'pause', good(2, 'p'));
    await lake.write(key, 'this is not parquet');
    await completeDate(lake, D);
    const e = await readSilver(db, lake, { from: D, to: D }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SilverFileError);
    expect(e).toMatchObject({ file: key, nonRetryable: true, type: 'SilverFile' });
    expect((e as Error).message).toContain(key);
  });

  it('names a file whose footer is fine but whose data is corrupt', async () => {
    const lake = newLake();
    const rows = `SELECT f.* REPLACE ('x' || t.i AS event_id) FROM (${row('x')}) f, range(20000) t(i)`;
    const key = await writeType(lake, D, 'heartbeat', rows);
    const path = await lake.localFile(key);
    const bytes = readFileSync(path);
    for (let i = Math.floor(bytes.length * 0.3); i < Math.floor(bytes.length * 0.3) + 64; i++) bytes[i] = bytes[i]! ^ 0xff;
    writeFileSync(path, bytes);
    await completeDate(lake, D);
    const e = await readSilver(db, lake, { from: D, to: D }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SilverFileError);
    expect(e).toMatchObject({ file: key });
  });

  it('names a file with a corrupt page that the read did not decode, at the first query that does', async () => {
    const lake = newLake();
    const rows = `SELECT f.* REPLACE ('x' || t.i AS event_id, 'u' || (t.i * 7919 % 20000) AS user_id) FROM (${row('x')}) f, range(20000) t(i)`;
    const key = await writeType(lake, D, 'heartbeat', rows);
    const path = await lake.localFile(key);
    // user_id's only rule is the null check, which the row group's statistics answer: its pages are not decoded.
    const { data } = await db.one<{ data: number }>(`SELECT data_page_offset AS data FROM parquet_metadata(${sqlStr(path)}) WHERE path_in_schema = 'user_id'`);
    const bytes = readFileSync(path);
    bytes.fill(0xff, data + 20, data + 220);
    writeFileSync(path, bytes);
    await completeDate(lake, D);
    const report = await readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME });
    expect(report.rowsAccepted).toBe(20000);
    const failure = await db.run('SELECT max(user_id) FROM events').catch((x: unknown) => x);
    expect(failure).toBeInstanceOf(Error);
    const e = await silverQueryError(db, lake, report, failure);
    expect(e).toBeInstanceOf(SilverFileError);
    expect(e).toMatchObject({ file: key, nonRetryable: true });
    // When every file decodes, the failure is passed on as it is.
    const clean = newLake();
    await writeType(clean, D, 'heartbeat', good(3));
    await completeDate(clean, D);
    const other = new Error('out of memory');
    expect(await silverQueryError(db, clean, await readSilver(db, clean, { from: D, to: D, runTime: RUN_TIME, table: 'clean' }), other)).toBe(other);
  });

  it('names a corrupt commit marker', async () => {
    const lake = newLake();
    await writeType(lake, D, 'heartbeat', good(2));
    await lake.write(`${paths.silverPartition(D, 'heartbeat')}/_SUCCESS`, '{ not json');
    await completeDate(lake, D);
    await expect(readSilver(db, lake, { from: D, to: D })).rejects.toMatchObject({
      name: 'SilverFileError',
      file: `${paths.silverPartition(D, 'heartbeat')}/_SUCCESS`,
    });
  });

  it('rejects a missing column, naming file, column and expected type', async () => {
    const lake = newLake();
    const key = await writeType(lake, D, 'heartbeat', `SELECT * EXCLUDE (country) FROM (${row('a')})`);
    await completeDate(lake, D);
    const e = await readSilver(db, lake, { from: D, to: D }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SilverSchemaError);
    expect(e).toMatchObject({ file: key, column: 'country', expected: 'VARCHAR', actual: null, nonRetryable: true, type: 'SilverSchema' });
  });

  it('rejects a wrong type, naming expected and actual', async () => {
    const lake = newLake();
    const key = await writeType(lake, D, 'heartbeat', `SELECT * REPLACE (watch_seconds::VARCHAR AS watch_seconds) FROM (${row('a')})`);
    await completeDate(lake, D);
    const e = await readSilver(db, lake, { from: D, to: D }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SilverSchemaError);
    expect(e).toMatchObject({ file: key, column: 'watch_seconds', expected: 'DOUBLE', actual: 'VARCHAR' });
    expect((e as Error).message).toContain(key);
  });

  it('converts other encodings of the same values (FLOAT, INTEGER, TIMESTAMPTZ, TIMESTAMP_MS)', async () => {
    const lake = newLake();
    await writeType(
      lake,
      D,
      'heartbeat',
      `SELECT * REPLACE (watch_seconds::FLOAT AS watch_seconds, play_position_seconds::INTEGER AS play_position_seconds, (event_timestamp::VARCHAR || '+00')::TIMESTAMPTZ AS event_timestamp) FROM (${row('a')})`,
    );
    await writeType(lake, D, 'pause', `SELECT * REPLACE (event_timestamp::TIMESTAMP_MS AS event_timestamp) FROM (${row('b')})`);
    await completeDate(lake, D);
    const r = await readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME });
    expect(r.rowsAccepted).toBe(2);
    expect(await db.all('SELECT event_timestamp, watch_seconds, play_position_seconds FROM events ORDER BY event_id')).toEqual([
      { event_timestamp: new Date(`${D}T10:00:00Z`), watch_seconds: 30, play_position_seconds: 100 },
      { event_timestamp: new Date(`${D}T10:00:00Z`), watch_seconds: 30, play_position_seconds: 100 },
    ]);
  });

  it('ignores extra columns and reports them once', async () => {
    const lake = newLake();
    await writeType(lake, D, 'heartbeat', `SELECT *, 'x' AS referrer, 1 AS app_build FROM (${row('a')})`);
    await writeType(lake, D, 'pause', `SELECT *, 'y' AS referrer FROM (${row('b')})`);
    await completeDate(lake, D);
    const r = await readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME });
    expect(r.extraColumns).toEqual(['app_build', 'referrer']);
    expect(r.rowsAccepted).toBe(2);
    expect((await db.all('DESCRIBE events')).map((c) => c.column_name)).toEqual(SILVER_COLUMNS.map((c) => c.name));
  });
});

describe('dates', () => {
  it('reads an empty partition as no rows', async () => {
    const lake = newLake();
    await completeDate(lake, D);
    await writeType(lake, '2024-03-02', 'heartbeat', `SELECT * FROM (${row('a')}) WHERE false`);
    await completeDate(lake, '2024-03-02');
    const r = await readSilver(db, lake, { from: D, to: '2024-03-02', runTime: RUN_TIME });
    expect(r).toMatchObject({ dates: [D, '2024-03-02'], partitionsRead: 1, filesRead: 1, rowsRead: 0, rowsAccepted: 0, rowsQuarantined: 0, missing: [] });
    expect(await db.one('SELECT count(*)::INT AS n FROM events')).toEqual({ n: 0 });
  });

  it('fails on a missing date and on a date without _SUCCESS, naming them; allowMissing reads the rest', async () => {
    const lake = newLake();
    await writeType(lake, D, 'heartbeat', good(2));
    await completeDate(lake, D);
    await writeType(lake, '2024-03-03', 'heartbeat', good(2)); // no date marker: incomplete
    const e = await readSilver(db, lake, { from: D, to: '2024-03-03' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SilverPartitionMissingError);
    const missing = [
      { date: '2024-03-02', reason: 'missing' },
      { date: '2024-03-03', reason: 'incomplete' },
    ];
    expect(e).toMatchObject({ missing, nonRetryable: true, type: 'SilverPartitionMissing' });
    expect((e as Error).message).toContain('2024-03-02 (missing), 2024-03-03 (incomplete)');

    const r = await readSilver(db, lake, { from: D, to: '2024-03-03', allowMissing: true, runTime: RUN_TIME });
    expect(r.dates).toEqual([D]);
    expect(r.missing).toEqual(missing);
    expect(r.rowsAccepted).toBe(2);
  });

  it('reads upstream layouts: empty markers, type folders without markers; never uncommitted files', async () => {
    const lake = newLake();
    await writeType(lake, D, 'heartbeat', good(2), 'empty');
    await writeType(lake, D, 'heartbeat', good(1, 'h'), 'empty'); // a second file of the same upstream commit
    await writeType(lake, D, 'pause', good(2, 'p'), 'none');
    await writeType(lake, D, 'seek', good(1, 's'));
    const stray = join(dir, 'stray.parquet');
    await db.run(`COPY (${row('stray')}) TO ${sqlStr(stray)} (FORMAT parquet)`);
    await lake.upload(stray, `${paths.silverPartition(D, 'seek')}/part-9-crashed.parquet`); // not in the seek manifest
    await completeDate(lake, D);
    const r = await readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME });
    expect(r.filesRead).toBe(4);
    expect(r.rowsAccepted).toBe(6);
    expect((await db.all<{ event_id: string }>('SELECT event_id FROM events ORDER BY 1')).map((x) => x.event_id)).toEqual(['g0', 'g1', 'h0', 'p0', 'p1', 's0']);
  });

  it('reads an hour range only, without quarantining', async () => {
    const lake = newLake();
    await writeType(
      lake,
      D,
      'heartbeat',
      `SELECT f.* REPLACE (event_timestamp + INTERVAL (t.i) MINUTE AS event_timestamp, 'h' || t.i AS event_id) FROM (${row('a', { event_timestamp: `TIMESTAMP '${D} 00:00:00'` })}) f, range(0, 1440, 10) t(i)`,
    );
    await writeType(lake, D, 'pause', [
      row('late-bad', { event_timestamp: `TIMESTAMP '${D} 23:30:00'`, country: "'XX'" }),
      row('evening-bad', { event_timestamp: `TIMESTAMP '${D} 19:30:00'`, country: "'XX'" }),
    ]);
    await completeDate(lake, D);
    const r = await readSilver(db, lake, { from: D, to: D, hours: [18, 22], runTime: RUN_TIME });
    expect(r.rowsRead).toBe(4 * 6 + 1);
    expect(r.quarantinedByRule).toEqual({ bad_country: 1 });
    expect(r.quarantineKeys).toEqual([]);
    expect(await readManifest(lake, paths.quarantine(D))).toBeNull();
    expect(await db.one('SELECT min(hour(event_timestamp)) AS lo, max(hour(event_timestamp)) AS hi FROM events')).toEqual({ lo: 18, hi: 21 });
    await expect(readSilver(db, lake, { from: D, to: D, hours: [18, 22], quarantine: true })).rejects.toThrow(/quarantine needs whole days/);
    await expect(readSilver(db, lake, { from: D, to: D, hours: [22, 18] })).rejects.toThrow(/invalid hour range/);
    await expect(readSilver(db, lake, { from: '2024-03-02', to: D })).rejects.toThrow(/from is after to/);
  });
});

describe.each([
  ['local', () => newLake()],
  ['s3', () => newLake(s3LakeUri())],
])('partition pruning on a %s lake', (_kind, make) => {
  it('opens only the dates of the range', async () => {
    const lake = make();
    const gen = await generateSilver(
      lake,
      { threads: 2, memoryLimit: '1GB' },
      { from: '2024-03-01', to: '2024-03-04', users: 60, videos: 40, eventsPerDay: 600, seed: 11, badRowRate: 0.02 },
    );
    // Dates outside the range are made unreadable: reading them would fail.
    for (const d of ['2024-03-01', '2024-03-04']) {
      for (const p of gen.dates.find((x) => x.date === d)!.partitions) for (const k of (await committedFiles(lake, p.prefix))!) await lake.write(k, 'garbage');
    }
    const touched: string[] = [];
    const recording = new Proxy(lake, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          touched.push(String(prop === 'upload' ? args[1] : args[0]));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const r = await readSilver(db, recording, { from: '2024-03-02', to: '2024-03-03', runTime: RUN_TIME });
    const inRange = gen.dates.filter((d) => d.date === '2024-03-02' || d.date === '2024-03-03');
    expect(r.dates).toEqual(['2024-03-02', '2024-03-03']);
    expect(r.partitions).toEqual(inRange.flatMap((d) => d.partitions.map((p) => p.prefix)));
    expect(r.filesRead).toBe(inRange.reduce((a, d) => a + d.files, 0));
    expect(r.bytesRead).toBe(inRange.reduce((a, d) => a + d.bytes, 0));
    expect(r.rowsRead).toBe(inRange.reduce((a, d) => a + d.rows, 0));
    expect(r.rowsQuarantined).toBe(inRange.reduce((a, d) => a + d.badRows, 0));
    expectIdentity(r);
    expect(touched.length).toBeGreaterThan(0);
    for (const key of touched) expect(key).toMatch(/^(silver\/events\/event_date=2024-03-0[23]|quarantine\/silver\/event_date=2024-03-0[23])(\/|$)/);
  });
});

it("the view's files, evicted from an S3 lake's cache, come back to the same paths when asked for again", async () => {
  // A cache of one byte that keeps nothing in use: each download evicts every other file.
  const lake = openLake(s3LakeUri(), { s3CacheDir: tempDir('gold-silver-cache-'), s3CacheMaxBytes: 1, s3CacheInUseMs: 0 });
  lakes.push(lake);
  await writeType(lake, D, 'heartbeat', good(3));
  await completeDate(lake, D);
  const r = await readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME });
  expect(r.files).toHaveLength(1);
  const other = join(dir, 'other.parquet');
  await db.run(`COPY (SELECT 1 AS x) TO ${sqlStr(other)} (FORMAT parquet)`);
  await lake.upload(other, 'elsewhere/other.parquet');
  await lake.localFile('elsewhere/other.parquet');
  await expect(db.one('SELECT count(*)::INT AS n FROM events')).rejects.toThrow(/No files found|does not exist|No such file/);
  await Promise.all(r.files.map((k) => lake.localFile(k)));
  expect(await db.one('SELECT count(*)::INT AS n FROM events')).toEqual({ n: 3 });
});

it('every rule the contract names is checked', () => {
  expect(SILVER_RULE_NAMES).toEqual([
    'null_key',
    'null_value',
    'unknown_event_type',
    'timestamp_in_future',
    'timestamp_outside_partition',
    'non_finite_number',
    'nonpositive_duration',
    'negative_watch_seconds',
    'unexpected_watch_seconds',
    'negative_position',
    'position_beyond_duration',
    'unknown_device_type',
    'bad_country',
    'duplicate_event_id',
  ]);
});

describe('untrusted manifests', () => {
  const prefix = paths.silverPartition(D, 'heartbeat');
  const marker = `${prefix}/_SUCCESS`;
  /** A committed heartbeat partition of n rows; returns its manifest for the test to rewrite. */
  async function committed(lake: Lake, n = 2): Promise<{ name: string; size: number }> {
    await writeType(lake, D, 'heartbeat', good(n));
    await completeDate(lake, D);
    return (await readManifest(lake, prefix))!.files[0]!;
  }
  const rewrite = (lake: Lake, manifest: unknown) => lake.write(marker, JSON.stringify(manifest));
  const failure = (lake: Lake): Promise<Error> =>
    readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME }).then(
      () => {
        throw new Error('the read succeeded');
      },
      (e: unknown) => e as Error,
    );

  it('names a marker that is JSON but no manifest, and what is wrong with it', async () => {
    const lake = newLake();
    await committed(lake);
    await rewrite(lake, { commitId: 'x' });
    const e = await failure(lake);
    expect(e).toBeInstanceOf(SilverFileError);
    expect(e).toMatchObject({ file: marker, nonRetryable: true });
    expect(e.message).toMatch(/corrupt commit marker silver\/events\/event_date=2024-03-01\/event_type=heartbeat\/_SUCCESS .*: committedAt: /);
  });

  it.each([['../../../../escape.parquet'], ['/etc/passwd'], ['a//b.parquet'], ['.'], ['x\u0000.parquet']])('refuses a manifest naming %j', async (name) => {
    for (const lake of [newLake(), newLake(s3LakeUri())]) {
      const f = await committed(lake);
      await rewrite(lake, { commitId: 'x', committedAt: '', files: [f, { name, size: 1 }], meta: {} });
      const e = await failure(lake);
      expect(e, lake.uri).toBeInstanceOf(SilverFileError);
      expect(e.message).toContain(`corrupt commit marker ${marker}`);
      expect(e.message).toMatch(/files\.1\.name: /);
    }
  });

  it('refuses glob and control characters in a listed name, rather than reading files the manifest does not list', async () => {
    const lake = newLake();
    const f = await committed(lake);
    // An unlisted file that 'part-*' would match.
    await writeType(lake, D, 'heartbeat', good(5, 'other'), 'none');
    for (const name of ['part-*.parquet', 'part-[0-9]*.parquet', 'part-{a,b}.parquet', 'part-?.parquet', 'part\n.parquet']) {
      await rewrite(lake, { commitId: 'x', committedAt: '', files: [{ name, size: f.size }], meta: {} });
      const e = await failure(lake);
      expect(e, name).toBeInstanceOf(SilverFileError);
      expect(e.message).toContain('glob or control characters are not allowed');
    }
  });

  it('checks each listed file is there at its listed size, and the row count where given', async () => {
    const lake = newLake();
    const f = await committed(lake, 3);
    await rewrite(lake, { commitId: 'x', committedAt: '', files: [{ ...f, size: f.size + 1 }], meta: {} });
    expect((await failure(lake)).message).toContain(`${prefix}/${f.name} in lake ${lake.uri}: is ${f.size} bytes, ${marker} says ${f.size + 1}`);
    await rewrite(lake, { commitId: 'x', committedAt: '', files: [f, { name: 'part-gone.parquet', size: 10 }], meta: {} });
    expect((await failure(lake)).message).toContain(`${prefix}/part-gone.parquet in lake ${lake.uri}: listed in ${marker} but not in the lake`);
    await rewrite(lake, { commitId: 'x', committedAt: '', files: [f], meta: { rows: 4 } });
    expect((await failure(lake)).message).toContain(`${marker} in lake ${lake.uri}: says 4 rows, its files hold 3`);
    await rewrite(lake, { commitId: 'x', committedAt: '', files: [f], meta: { rows: 3 } });
    expect((await readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME })).rowsRead).toBe(3);
  });

  it("fails on a type folder whose manifest lists no files while the date's marker lists files for it, naming the folder", async () => {
    const lake = newLake(tempDir('gold-silver-gen-'));
    await generateSilver(lake, { threads: 1, memoryLimit: '1GB' }, { from: D, to: D, seed: 7, users: 30, videos: 20, eventsPerDay: 600 });
    const pause = paths.silverPartition(D, 'pause');
    const m = (await readManifest(lake, pause))!;
    expect(m.files.length).toBe(1);
    await lake.write(`${pause}/_SUCCESS`, JSON.stringify({ ...m, files: [] }));
    const e = await failure(lake);
    expect(e).toBeInstanceOf(SilverFileError);
    expect(e.message).toContain(`${pause}/_SUCCESS in lake ${lake.uri}: lists no files, while the date's marker lists 1 in event_type=pause`);
  });

  it('reports a complete date without any file', async () => {
    const lake = newLake();
    await completeDate(lake, D);
    const r = await readSilver(db, lake, { from: D, to: D, runTime: RUN_TIME });
    expect(r).toMatchObject({ dates: [D], filesRead: 0, emptyDates: [D] });
  });
});
