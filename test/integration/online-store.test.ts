// The online store contract, run against both implementations: Redis (the local server, a key prefix
// of its own) and the embedded LMDB store (a temp folder).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { goldMetrics } from '../../src/monitoring/metrics.js';
import { EmbeddedOnlineStore } from '../../src/online/embedded-store.js';
import { encodeEntityKey } from '../../src/online/entity-key.js';
import { openOnlineStore } from '../../src/online/open.js';
import { encodeRecord, RecordEncodingError } from '../../src/online/record.js';
import { encodeCommand, RedisBulkConnection } from '../../src/online/redis-bulk.js';
import { RedisOnlineStore } from '../../src/online/redis-store.js';
import type { OnlineStore } from '../../src/online/store.js';
import { OnlineViewError, type OnlineViewSpec } from '../../src/online/view.js';
import { tempDir } from '../support/env.js';
import { startRedis, testCertificates } from '../support/servers.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const HOUR_MS = 3_600_000;

const everyType: OnlineViewSpec = {
  name: 'user_features',
  version: 1,
  keys: ['user_id'],
  ttlSeconds: 3600,
  features: [
    { name: 'watch_time', type: 'DOUBLE' },
    { name: 'plays', type: 'BIGINT' },
    { name: 'top_category', type: 'VARCHAR' },
    { name: 'last_seen', type: 'TIMESTAMP' },
    { name: 'embedding', type: 'FLOAT[]' },
    { name: 'tags', type: 'VARCHAR[]' },
    { name: 'active', type: 'BOOLEAN' },
    { name: 'first_day', type: 'DATE' },
    { name: 'ratio', type: 'DOUBLE' },
    { name: 'seen_at', type: 'TIMESTAMP[]' },
  ],
};

const pairView: OnlineViewSpec = {
  name: 'user_video',
  version: 1,
  keys: ['user_id', 'video_id'],
  ttlSeconds: 86_400,
  features: [{ name: 'plays', type: 'BIGINT' }],
};

const simple = (name: string, version = 1, ttlSeconds = 3600): OnlineViewSpec => ({
  name,
  version,
  keys: ['user_id'],
  ttlSeconds,
  features: [{ name: 'x', type: 'BIGINT' }],
});

const redisPrefix = `gold-test-online-${randomBytes(4).toString('hex')}:`;
const implementations: [string, () => OnlineStore][] = [
  ['redis', () => new RedisOnlineStore(REDIS_URL, { keyPrefix: redisPrefix })],
  // Every write of one header in bulk (redis-bulk.ts), however small.
  ['redis (bulk writes)', () => new RedisOnlineStore(REDIS_URL, { keyPrefix: `${redisPrefix}bulk:`, bulkMinRows: 1 })],
  ['embedded', () => new EmbeddedOnlineStore(join(tempDir('gold-online-'), 'online'))],
];

describe.each(implementations)('%s online store', (kind, make) => {
  let store: OnlineStore;
  const now = Date.now();

  beforeAll(async () => {
    store = make();
    await store.ping();
  });
  afterAll(async () => {
    for (const v of [
      everyType,
      pairView,
      simple('guard'),
      simple('ttl_edge'),
      simple('versioned', 1),
      simple('versioned', 2),
      simple('dups'),
      simple('expired', 1, 60),
    ])
      await store.deleteView(v);
    await store.close();
  });

  it('round-trips every type, nulls, lists, timestamps, non-finite floats and awkward strings', async () => {
    const full = [
      1234.5678,
      42,
      'comedy "quoted" | é ✓',
      new Date('2025-06-01T12:34:56.789Z'),
      [0.5, -1.25, 0],
      ['a', 'b|c', ''],
      true,
      '2024-02-29',
      Number.NaN,
      [new Date('2025-06-01T00:00:00Z'), null],
    ];
    const nulls = [null, null, null, null, null, null, null, null, null, null];
    const edgy = [Number.POSITIVE_INFINITY, -9_007_199_254_740_991, '', new Date(0), [], [], false, '1970-01-01', Number.NEGATIVE_INFINITY, []];
    const ts = now - HOUR_MS / 2;
    const w = await store.writeBatch(everyType, [
      { entityKey: 'full', featureTimestamp: ts, values: full },
      { entityKey: 'nulls', featureTimestamp: ts, values: nulls },
      { entityKey: 'edgy', featureTimestamp: ts, values: edgy },
    ]);
    expect(w).toEqual({ written: 3, skippedOlder: 0, skippedExpired: 0 });
    const [rows] = await store.read([{ view: everyType, entityKeys: ['full', 'nulls', 'edgy'] }], now);
    expect(rows!.map((r) => r.status)).toEqual(['present', 'present', 'present']);
    expect(rows![0]!.featureTimestamp).toBe(ts);
    expect(rows![0]!.values).toEqual(full);
    expect(rows![0]!.values[3]).toBeInstanceOf(Date);
    expect(rows![1]!.values).toEqual(nulls);
    expect(rows![2]!.values).toEqual(edgy);
  });

  it('reads a subset of features in the order asked, and refuses an unknown feature', async () => {
    const [rows] = await store.read([{ view: everyType, entityKeys: ['full'], features: ['tags', 'plays'] }], now);
    expect(rows![0]!.values).toEqual([['a', 'b|c', ''], 42]);
    await expect(store.read([{ view: everyType, entityKeys: ['full'], features: ['nope'] }], now)).rejects.toThrow(
      /unknown feature 'nope' in view user_features/,
    );
  });

  it('never lets an older date overwrite a newer one, in any order, within or across batches', async () => {
    const v = simple('guard');
    const t1 = now - 3 * 60_000;
    const t2 = now - 2 * 60_000;
    expect(await store.writeBatch(v, [{ entityKey: 'a', featureTimestamp: t2, values: [2] }])).toMatchObject({ written: 1, skippedOlder: 0 });
    expect(await store.writeBatch(v, [{ entityKey: 'a', featureTimestamp: t1, values: [1] }])).toMatchObject({ written: 0, skippedOlder: 1 });
    // Newer first then older, for one entity inside one batch.
    expect(
      await store.writeBatch(v, [
        { entityKey: 'b', featureTimestamp: t2, values: [2] },
        { entityKey: 'b', featureTimestamp: t1, values: [1] },
      ]),
    ).toMatchObject({ written: 1, skippedOlder: 1 });
    const [rows] = await store.read([{ view: v, entityKeys: ['a', 'b'] }], now);
    expect(rows!.map((r) => [r.values[0], r.featureTimestamp])).toEqual([
      [2, t2],
      [2, t2],
    ]);
  });

  it('restates at an equal feature timestamp, unless the stored row was created later', async () => {
    const v = simple('guard');
    const t = now - 60_000;
    await store.writeBatch(v, [{ entityKey: 'c', featureTimestamp: t, createdTimestamp: now - 30_000, values: [1] }]);
    expect(await store.writeBatch(v, [{ entityKey: 'c', featureTimestamp: t, createdTimestamp: now - 30_000, values: [2] }])).toMatchObject({ written: 1 });
    expect(await store.writeBatch(v, [{ entityKey: 'c', featureTimestamp: t, values: [3] }])).toMatchObject({ written: 1 });
    expect(await store.writeBatch(v, [{ entityKey: 'c', featureTimestamp: t, createdTimestamp: now - 40_000, values: [4] }])).toMatchObject({
      written: 0,
      skippedOlder: 1,
    });
    const [rows] = await store.read([{ view: v, entityKeys: ['c'] }], now);
    expect(rows![0]!.values).toEqual([3]);
  });

  it('serves a row up to exactly its TTL and reports it outside_ttl one millisecond later', async () => {
    const v = simple('ttl_edge');
    const ts = now - 1000;
    await store.writeBatch(v, [{ entityKey: 'e', featureTimestamp: ts, values: [7] }]);
    const ttl = 3600 * 1000;
    const [[atEdge]] = await store.read([{ view: v, entityKeys: ['e'] }], ts + ttl);
    expect(atEdge).toMatchObject({ status: 'present', values: [7] });
    const [[past]] = await store.read([{ view: v, entityKeys: ['e'] }], ts + ttl + 1);
    expect(past).toEqual({ entityKey: 'e', status: 'outside_ttl', featureTimestamp: ts, values: [null] });
  });

  it('does not write rows already past their TTL', async () => {
    // Its own clock, with a minute of margin: Redis expires the fresh row in real time, and a loaded
    // machine can be seconds past the suite's start.
    const at = Date.now();
    const v = simple('expired', 1, 120);
    expect(
      await store.writeBatch(
        v,
        [
          { entityKey: 'old', featureTimestamp: at - 121_000, values: [1] },
          { entityKey: 'fresh', featureTimestamp: at - 60_000, values: [2] },
        ],
        at,
      ),
    ).toEqual({ written: 1, skippedOlder: 0, skippedExpired: 1 });
    const [rows] = await store.read([{ view: v, entityKeys: ['old', 'fresh'] }], at);
    expect(rows!.map((r) => r.status)).toEqual(['not_found', 'present']);
  });

  it('reads many entities of several views in one call, with not_found for the absent ones', async () => {
    const v = simple('guard');
    const pairs = Array.from({ length: 60 }, (_, i) => encodeEntityKey([`u${i}`, `v|${i}`]));
    await store.writeBatch(
      pairView,
      pairs.filter((_, i) => i % 2 === 0).map((entityKey, i) => ({ entityKey, featureTimestamp: now - 1000, values: [i] })),
    );
    const sendCommand = store instanceof RedisOnlineStore ? vi.spyOn(store.redis, 'sendCommand') : undefined;
    const [pairRows, guardRows, everyRows] = await store.read(
      [
        { view: pairView, entityKeys: pairs },
        { view: v, entityKeys: ['a', 'zz'] },
        { view: everyType, entityKeys: ['nulls', 'missing'], features: ['plays'] },
      ],
      now,
    );
    if (sendCommand) {
      expect(sendCommand.mock.calls.map(([c]) => c.name)).toEqual(['mget']);
      sendCommand.mockRestore();
    }
    expect(pairRows!.map((r) => r.status)).toEqual(pairs.map((_, i) => (i % 2 === 0 ? 'present' : 'not_found')));
    expect(pairRows!.filter((r) => r.status === 'present').map((r) => r.values[0])).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(pairRows![1]).toEqual({ entityKey: pairs[1], status: 'not_found', featureTimestamp: null, values: [null] });
    expect(guardRows!.map((r) => r.status)).toEqual(['present', 'not_found']);
    expect(everyRows!.map((r) => r.status)).toEqual(['present', 'not_found']);
    expect(await store.read([], now)).toEqual([]);
  });

  it('keeps view versions apart and deletes one without touching the other', async () => {
    const v1 = simple('versioned', 1);
    const v2 = simple('versioned', 2);
    await store.writeBatch(v1, [
      { entityKey: 'k', featureTimestamp: now - 1000, values: [1] },
      { entityKey: 'k2', featureTimestamp: now - 1000, values: [1] },
    ]);
    await store.writeBatch(v2, [{ entityKey: 'k', featureTimestamp: now - 1000, values: [2] }]);
    expect(await store.deleteView(v1)).toBe(2);
    const [r1, r2] = await store.read(
      [
        { view: v1, entityKeys: ['k'] },
        { view: v2, entityKeys: ['k'] },
      ],
      now,
    );
    expect(r1![0]!.status).toBe('not_found');
    expect(r2![0]!.values).toEqual([2]);
  });

  it('refuses values that do not fit the declared types, naming the feature, and writes nothing', async () => {
    const v = simple('dups');
    await expect(
      store.writeBatch(v, [
        { entityKey: 'a', featureTimestamp: now, values: [1] },
        { entityKey: 'b', featureTimestamp: now, values: ['x'] },
      ]),
    ).rejects.toThrow(/view dups, feature x: string "x" is not a valid integer value/);
    await expect(store.writeBatch(v, [{ entityKey: 'a', featureTimestamp: now, values: [1, 2] }])).rejects.toThrow(RecordEncodingError);
    await expect(store.writeBatch(v, [{ entityKey: 'a', featureTimestamp: -5, values: [1] }])).rejects.toThrow(/featureTimestamp must be a whole number/);
    await expect(
      store.writeBatch(everyType, [{ entityKey: 'a', featureTimestamp: now, values: [1, 1, 'x', 'yesterday', [], [], true, '2024-01-01', 1, []] }]),
    ).rejects.toThrow(/feature last_seen: string "yesterday" is not a valid timestamp value/);
    const [rows] = await store.read([{ view: v, entityKeys: ['a'] }], now);
    expect(rows![0]!.status).toBe('not_found');
  });

  it('refuses an invalid view', async () => {
    await expect(store.read([{ view: { ...simple('bad'), ttlSeconds: 0 }, entityKeys: ['a'] }])).rejects.toThrow(OnlineViewError);
    await expect(store.writeBatch({ ...simple('bad'), features: [{ name: 'm', type: 'MAP(VARCHAR, INT)' }] }, [])).rejects.toThrow(/cannot be served online/);
    await expect(store.read([{ view: { ...simple('bad'), name: 'a:b' }, entityKeys: ['a'] }])).rejects.toThrow(/must be an identifier/);
  });

  it('reports statistics', async () => {
    const s = await store.stats();
    expect(s.keys).toBeGreaterThan(0);
    expect(s.bytes).toBeGreaterThan(0);
    void kind;
  });
});

describe('Redis specifics', () => {
  const prefix = `gold-test-online-redis-${randomBytes(4).toString('hex')}:`;
  let store: RedisOnlineStore;
  let admin: Redis;
  beforeAll(() => {
    store = new RedisOnlineStore(REDIS_URL, { keyPrefix: prefix, keysPerScriptCall: 7 });
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.unlink(...keys);
    await store.close();
    admin.disconnect();
  });

  it('lays keys out as <prefix><view>:v<version>:<entity> and expires each at feature_timestamp + TTL', async () => {
    const v = simple('expiry', 3, 7200);
    const ts = Date.now() - 1000;
    await store.writeBatch(v, [{ entityKey: 'u1', featureTimestamp: ts, values: [1] }]);
    expect(await admin.call('PEXPIRETIME', `${prefix}expiry:v3:u1`)).toBe(ts + 7_200_000);
    const pttl = await admin.pttl(`${prefix}expiry:v3:u1`);
    expect(pttl).toBeGreaterThan(7_200_000 - 60_000);
    expect(pttl).toBeLessThanOrEqual(7_200_000 - 1000);
    expect(await admin.get(`${prefix}expiry:v3:u1`)).toBe(encodeRecord(v, ts, Number((await admin.get(`${prefix}expiry:v3:u1`))!.slice(14, 27)), [1]));
    // A newer row moves the expiry forward.
    await store.writeBatch(v, [{ entityKey: 'u1', featureTimestamp: ts + 500, values: [2] }]);
    expect(await admin.call('PEXPIRETIME', `${prefix}expiry:v3:u1`)).toBe(ts + 500 + 7_200_000);
  });

  it('splits a large batch over several script calls in one pipeline and counts across them', async () => {
    const v = simple('split');
    const ts = Date.now() - 1000;
    const rows = Array.from({ length: 50 }, (_, i) => ({ entityKey: `e${i % 40}`, featureTimestamp: ts + (i >= 40 ? -1 : 0), values: [i] }));
    const sendCommand = vi.spyOn(store.redis, 'sendCommand');
    expect(await store.writeBatch(v, rows)).toEqual({ written: 40, skippedOlder: 10, skippedExpired: 0 });
    expect(sendCommand.mock.calls.filter(([c]) => c.name.toLowerCase() === 'evalsha')).toHaveLength(Math.ceil(50 / 7));
    sendCommand.mockRestore();
    expect(await store.deleteView(v)).toBe(40);
  });

  it.each([
    ['script calls', 0],
    ['bulk writes of 2 rows a transaction', 1],
  ])('keeps a watermark per view version: the newest header written, never lowered, removed with the view (%s)', async (_, bulk) => {
    const w = bulk ? new RedisOnlineStore(REDIS_URL, { keyPrefix: prefix, bulkMinRows: 1, keysPerScriptCall: 2 }) : store;
    const v = simple(bulk ? 'mark_bulk' : 'mark');
    const ts = Date.now() - 10_000;
    const header = (f: number, c: number) => `${String(f).padStart(13, '0')}${String(c).padStart(13, '0')}`;
    const rows = (f: number, keys: string[], x: number) => keys.map((entityKey) => ({ entityKey, featureTimestamp: f, createdTimestamp: f + 1, values: [x] }));
    expect(await w.writeBatch(v, rows(ts, ['a', 'b', 'c'], 2))).toEqual({ written: 3, skippedOlder: 0, skippedExpired: 0 });
    expect(await admin.get(w.watermarkKey(v))).toBe(header(ts, ts + 1));
    // An older date over the same entities and a new one: only the new entity is written, the mark stays.
    expect(await w.writeBatch(v, rows(ts - 5000, ['a', 'b', 'd'], 1))).toEqual({ written: 1, skippedOlder: 2, skippedExpired: 0 });
    expect(await admin.get(w.watermarkKey(v))).toBe(header(ts, ts + 1));
    // Mixed headers in one call are compared row by row, and raise the mark to the newest written.
    const mixed = [...rows(ts + 7000, ['a'], 3), ...rows(ts - 9000, ['b'], 0), ...rows(ts + 3000, ['e'], 3)];
    expect(await w.writeBatch(v, mixed)).toEqual({ written: 2, skippedOlder: 1, skippedExpired: 0 });
    expect(await admin.get(w.watermarkKey(v))).toBe(header(ts + 7000, ts + 7001));
    const [read] = await w.read([{ view: v, entityKeys: ['a', 'b', 'c', 'd', 'e'] }]);
    expect(read!.map((r) => r.values[0])).toEqual([3, 2, 2, 1, 3]);
    expect(await w.deleteView(v)).toBe(5);
    expect(await admin.exists(w.watermarkKey(v))).toBe(0);
    if (w !== store) await w.close();
  });

  it('hands the rest of a bulk write to the comparing script when the watermark passes it midway', async () => {
    const w = new RedisOnlineStore(REDIS_URL, { keyPrefix: prefix, bulkMinRows: 1, keysPerScriptCall: 2 });
    const v = simple('mark_midway');
    const ts = Date.now() - 10_000;
    const high = '9'.repeat(26);
    // A watermark to start from (a view without one is written by script).
    await w.writeBatch(v, [{ entityKey: 'seed', featureTimestamp: ts, createdTimestamp: ts, values: [9] }]);
    const request = RedisBulkConnection.prototype.request;
    let execs = 0;
    // Another writer raises the watermark right after the first transaction.
    const spy = vi.spyOn(RedisBulkConnection.prototype, 'request').mockImplementation(async function (
      this: RedisBulkConnection,
      payload: Buffer,
      count: number,
    ) {
      const replies = await request.call(this, payload, count);
      if (payload.includes('EXEC') && ++execs === 1) await admin.set(w.watermarkKey(v), high);
      return replies;
    });
    try {
      const rows = ['a', 'b', 'c', 'd', 'e', 'f'].map((entityKey, i) => ({ entityKey, featureTimestamp: ts, values: [i] }));
      expect(await w.writeBatch(v, rows)).toEqual({ written: 6, skippedOlder: 0, skippedExpired: 0 });
      // The second transaction was WATCHing when the mark moved: aborted, then handed to the script.
      expect(execs).toBe(2);
      const [read] = await w.read([{ view: v, entityKeys: ['a', 'b', 'c', 'd', 'e', 'f'] }]);
      expect(read!.map((r) => r.values[0])).toEqual([0, 1, 2, 3, 4, 5]);
      expect(await admin.get(w.watermarkKey(v))).toBe(high);
    } finally {
      spy.mockRestore();
      await w.deleteView(v);
      await w.close();
    }
  });

  it.each([
    ['script calls', 0],
    ['bulk writes on concurrent connections', 1],
  ])('ends in the newest row per entity whatever order concurrent writers interleave in (random batches, %s)', async (_, bulk) => {
    const writer = bulk ? new RedisOnlineStore(REDIS_URL, { keyPrefix: prefix, bulkMinRows: 1 }) : store;
    const v = simple(bulk ? 'race_bulk' : 'race');
    const base = Date.now() - 100_000;
    for (let round = 0; round < 20; round++) {
      await writer.deleteView(v);
      const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
      // Each batch: one date for a random subset (the shared-header path) or random dates (row by row).
      const batches = Array.from({ length: 6 }, () => {
        const day = Math.floor(Math.random() * 4);
        const mixed = Math.random() < 0.3;
        return keys
          .filter(() => Math.random() < 0.6)
          .map((entityKey) => {
            const d = mixed ? Math.floor(Math.random() * 4) : day;
            return { entityKey, featureTimestamp: base + d * 1000, createdTimestamp: base + d * 1000, values: [d] };
          });
      });
      await Promise.all(batches.map((b) => writer.writeBatch(v, b)));
      const expected = keys.map((k) => {
        const days = batches
          .flat()
          .filter((r) => r.entityKey === k)
          .map((r) => r.values[0]!);
        return days.length > 0 ? Math.max(...days) : null;
      });
      const [read] = await writer.read([{ view: v, entityKeys: keys }]);
      expect(read!.map((r) => (r.status === 'present' ? r.values[0] : null))).toEqual(expected);
    }
    if (writer !== store) await writer.close();
  });

  it('compares row by row when Redis may evict any key (allkeys-* policy), so a lost watermark cannot let an older date win', async () => {
    const server = await startRedis(['--maxmemory-policy', 'allkeys-lru']);
    const own = new RedisOnlineStore(server.url, { keyPrefix: prefix });
    const direct = new Redis(server.url);
    try {
      const v = simple('evicting');
      const ts = Date.now() - 10_000;
      await own.writeBatch(v, [{ entityKey: 'a', featureTimestamp: ts, values: [2] }]);
      await direct.unlink(own.watermarkKey(v)); // as an eviction would
      expect(await own.writeBatch(v, [{ entityKey: 'a', featureTimestamp: ts - 1000, values: [1] }])).toEqual({
        written: 0,
        skippedOlder: 1,
        skippedExpired: 0,
      });
      const [read] = await own.read([{ view: v, entityKeys: ['a'] }]);
      expect(read![0]!.values).toEqual([2]);
    } finally {
      await own.close();
      direct.disconnect();
      await server.stop();
    }
  });

  it.each([
    ['script calls', 0],
    ['bulk writes', 1],
  ])("compares every row when the watermark is missing, and rebuilds it from the view's keys before trusting it again (%s)", async (_, bulk) => {
    const w = new RedisOnlineStore(REDIS_URL, { keyPrefix: prefix, ...(bulk ? { bulkMinRows: 1 } : {}) });
    const v = simple(bulk ? 'lost_mark_bulk' : 'lost_mark');
    const t = Date.now() - 60_000;
    const row = (entityKey: string, f: number, x: number) => ({ entityKey, featureTimestamp: f, createdTimestamp: f, values: [x] });
    const newer = `${String(t + 1000).padStart(13, '0')}`.repeat(2);
    try {
      await w.writeBatch(v, [row('a', t + 1000, 2), row('b', t + 1000, 2)]);
      // Rows without a watermark: written before watermarks existed, or the mark deleted.
      await admin.del(w.watermarkKey(v));
      expect(await w.writeBatch(v, [row('a', t, 1)])).toEqual({ written: 0, skippedOlder: 1, skippedExpired: 0 });
      expect(await admin.get(w.watermarkKey(v))).toBe(newer);
      // An older date over entities not stored: written; the rebuilt mark still covers a and b...
      await admin.del(w.watermarkKey(v));
      expect(await w.writeBatch(v, [row('c', t, 1), row('d', t, 1)])).toEqual({ written: 2, skippedOlder: 0, skippedExpired: 0 });
      expect(await admin.get(w.watermarkKey(v))).toBe(newer);
      // ...so that the rest of that date is compared too, not written over the newer rows.
      expect(await w.writeBatch(v, [row('a', t, 1), row('b', t, 1)])).toEqual({ written: 0, skippedOlder: 2, skippedExpired: 0 });
      const [read] = await w.read([{ view: v, entityKeys: ['a', 'b', 'c', 'd'] }]);
      expect(read!.map((r) => r.values[0])).toEqual([2, 2, 1, 1]);
    } finally {
      await w.deleteView(v);
      await w.close();
    }
  });

  it('does not make a provisional watermark final when it was replaced during the rebuild', async () => {
    const v = simple('replaced_mark');
    const t = Date.now() - 60_000;
    const scan = store.redis.scan.bind(store.redis);
    // Another writer's provisional mark (another token) appears while this store scans.
    const spy = vi.spyOn(store.redis, 'scan').mockImplementation(async (...args: Parameters<typeof scan>) => {
      await admin.set(store.watermarkKey(v), `?${'0'.repeat(26)}othertoken`);
      return scan(...args);
    });
    try {
      expect(await store.writeBatch(v, [{ entityKey: 'a', featureTimestamp: t, values: [1] }])).toMatchObject({ written: 1 });
      expect(await admin.get(store.watermarkKey(v))).toBe(`?${'0'.repeat(26)}othertoken`);
    } finally {
      spy.mockRestore();
    }
    // The next write rebuilds it.
    expect(await store.writeBatch(v, [{ entityKey: 'b', featureTimestamp: t, createdTimestamp: t, values: [1] }])).toMatchObject({ written: 1 });
    expect(await admin.get(store.watermarkKey(v))).toMatch(/^\d{26}$/);
    await store.deleteView(v);
  });

  it('asks Redis for its eviction policy again after a minute, as it can change at run time', async () => {
    const server = await startRedis();
    const own = new RedisOnlineStore(server.url, { keyPrefix: prefix });
    const direct = new Redis(server.url);
    const v = simple('policy_change');
    const ts = Date.now() - 10_000;
    try {
      await own.writeBatch(v, [{ entityKey: 'a', featureTimestamp: ts, values: [1] }]);
      const config = vi.spyOn(own.redis, 'config');
      await direct.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await own.writeBatch(v, [{ entityKey: 'a', featureTimestamp: ts, values: [2] }]);
      expect(config).not.toHaveBeenCalled();
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 61_000);
      // Untrusted now: a lost watermark is left provisional (every write compares), not rebuilt.
      await direct.del(own.watermarkKey(v));
      await own.writeBatch(v, [{ entityKey: 'a', featureTimestamp: ts, values: [3] }]);
      expect(config).toHaveBeenCalledTimes(1);
      expect(await direct.get(own.watermarkKey(v))).toMatch(/^\?/);
    } finally {
      vi.useRealTimers();
      await own.close();
      direct.disconnect();
      await server.stop();
    }
  });

  it('closes every bulk connection on close(), a write in flight once it ends, and refuses writes after', async () => {
    const server = await startRedis();
    const own = new RedisOnlineStore(server.url, { keyPrefix: prefix, bulkMinRows: 1, keysPerScriptCall: 100 });
    const direct = new Redis(server.url);
    const clients = async () =>
      String(await direct.client('LIST'))
        .trim()
        .split('\n').length;
    const v = simple('closing');
    const ts = Date.now() - 10_000;
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ entityKey: `e${i}`, featureTimestamp: ts, values: [i] }));
    const request = RedisBulkConnection.prototype.request;
    let started!: () => void;
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    const spy = vi.spyOn(RedisBulkConnection.prototype, 'request').mockImplementation(function (this: RedisBulkConnection, payload: Buffer, count: number) {
      if (payload.includes('MULTI')) started();
      return request.call(this, payload, count);
    });
    try {
      await own.writeBatch(v, rows.slice(0, 1)); // the watermark, so that the next write goes in bulk
      const write = own.writeBatch(v, rows);
      await inFlight;
      await own.close();
      expect(await write).toEqual({ written: rows.length, skippedOlder: 0, skippedExpired: 0 });
      await expect(own.writeBatch(v, rows)).rejects.toThrow(/online store redis:\/\/127.0.0.1:\d+ is closed/);
      // Only this test's own connection is left.
      await vi.waitFor(async () => expect(await clients()).toBe(1));
    } finally {
      spy.mockRestore();
      await own.close();
      direct.disconnect();
      await server.stop();
    }
  });

  it('fails reads, pings and bulk requests within their timeouts when Redis accepts connections but never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => void sockets.push(s.on('data', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const hung = new RedisOnlineStore(`redis://127.0.0.1:${port}`, { keyPrefix: prefix, commandTimeoutMs: 300 });
    const conn = new RedisBulkConnection({ host: '127.0.0.1', port, idleTimeoutMs: 300 });
    try {
      const t0 = performance.now();
      await expect(hung.read([{ view: simple('silent'), entityKeys: ['a'] }])).rejects.toThrow(`no answer from redis://127.0.0.1:${port} in 300 ms`);
      await expect(hung.ping()).rejects.toThrow();
      expect(performance.now() - t0).toBeLessThan(3000);
      await conn.open();
      await expect(conn.request(encodeCommand(['GET', 'k']), 1)).rejects.toThrow(`bulk connection to 127.0.0.1:${port}: no answer in 300 ms`);
      expect(conn.healthy).toBe(false);
    } finally {
      conn.close();
      await hung.close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('loads the write script again when Redis has lost it', async () => {
    const v = simple('noscript');
    await admin.script('FLUSH');
    expect(await store.writeBatch(v, [{ entityKey: 'a', featureTimestamp: Date.now(), values: [1] }])).toMatchObject({ written: 1 });
    const [rows] = await store.read([{ view: v, entityKeys: ['a'] }]);
    expect(rows![0]!.values).toEqual([1]);
  });

  it('authenticates with the user and password of the URL, and names the failure otherwise; the location hides the password', async () => {
    const user = `gold-test-${randomBytes(3).toString('hex')}`;
    await admin.call('ACL', 'SETUSER', user, 'on', '>s3cret-pw', `~${prefix}*`, '+@all');
    const authed = new RedisOnlineStore(`redis://${user}:s3cret-pw@127.0.0.1:6379`, { keyPrefix: prefix, bulkMinRows: 1 });
    const wrong = new RedisOnlineStore(`redis://${user}:nope@127.0.0.1:6379`, { keyPrefix: prefix });
    try {
      expect(authed.location).toBe('redis://***@127.0.0.1:6379');
      const v = simple('acl');
      await authed.writeBatch(v, [{ entityKey: 'a', featureTimestamp: Date.now(), values: [5] }]);
      const [rows] = await authed.read([{ view: v, entityKeys: ['a'] }]);
      expect(rows![0]!.values).toEqual([5]);
      await expect(wrong.ping()).rejects.toThrow(/WRONGPASS|invalid username-password/);
    } finally {
      await authed.close();
      await wrong.close();
      await admin.call('ACL', 'DELUSER', user);
    }
  });

  it('writes in bulk to the database the URL names', async () => {
    const db5 = new RedisOnlineStore(`${REDIS_URL}/5`, { keyPrefix: prefix, bulkMinRows: 1 });
    const admin5 = new Redis(`${REDIS_URL}/5`);
    try {
      const v = simple('db5');
      const ts = Date.now() - 1000;
      // The first write of a view has no watermark yet and goes by script; the second in bulk.
      expect(await db5.writeBatch(v, [{ entityKey: 'a', featureTimestamp: ts, values: [7] }])).toMatchObject({ written: 1 });
      const request = vi.spyOn(RedisBulkConnection.prototype, 'request');
      expect(
        await db5.writeBatch(v, [
          { entityKey: 'b', featureTimestamp: ts, values: [8] },
          { entityKey: 'c', featureTimestamp: ts, values: [9] },
        ]),
      ).toMatchObject({ written: 2 });
      expect(request.mock.calls.some(([payload]) => payload.includes('MULTI'))).toBe(true);
      request.mockRestore();
      expect(await admin5.exists(`${prefix}db5:v1:a`, `${prefix}db5:v1:b`, `${prefix}db5:v1:c`)).toBe(3);
      expect(await admin.exists(`${prefix}db5:v1:b`)).toBe(0);
      expect(await db5.deleteView(v)).toBe(3);
    } finally {
      await db5.close();
      admin5.disconnect();
    }
  });

  it('names the failure of a write when Redis has gone, and of the next when it refuses connections, in bulk and by script', async () => {
    const server = await startRedis();
    const own = new RedisOnlineStore(server.url, { keyPrefix: prefix, bulkMinRows: 1 });
    const script = new RedisOnlineStore(server.url, { keyPrefix: prefix });
    const v = simple('bulk_down');
    // One timestamp for both rows: rows of one header go in bulk (rows of two would go by script).
    const rows = (x: number) => {
      const ts = Date.now() - 1000;
      return ['a', 'b'].map((entityKey) => ({ entityKey, featureTimestamp: ts, values: [x] }));
    };
    try {
      const bulkRequest = vi.spyOn(RedisBulkConnection.prototype, 'request');
      expect(await own.writeBatch(v, rows(1))).toMatchObject({ written: 2 });
      expect(await own.writeBatch(v, rows(2))).toMatchObject({ written: 2 });
      expect(bulkRequest.mock.calls.some(([payload]) => payload.includes('MULTI'))).toBe(true);
      bulkRequest.mockRestore();
      expect(await script.writeBatch(v, rows(3))).toMatchObject({ written: 2 });
      await server.stop();
      await expect(own.writeBatch(v, rows(4))).rejects.toThrow(
        /bulk connection to 127\.0\.0\.1:\d+(: connect ECONNREFUSED| closed|: This socket has been ended by the other party)/,
      );
      await expect(own.writeBatch(v, rows(5))).rejects.toThrow(/bulk connection to 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
      // ioredis's own words ("Reached the max retries per request limit") reworded: which store, and why.
      await expect(script.writeBatch(v, rows(6))).rejects.toThrow(new RegExp(`^cannot reach ${server.url.replace(/\./g, '\\.')}: connect ECONNREFUSED`));
      await expect(script.read([{ view: v, entityKeys: ['a'] }])).rejects.toThrow(/^cannot reach redis:.*ECONNREFUSED/);
      await expect(script.deleteView(v)).rejects.toThrow(/^cannot reach redis:.*ECONNREFUSED/);
      await expect(script.stats()).rejects.toThrow(/^cannot reach redis:.*ECONNREFUSED/);
    } finally {
      await own.close();
      await script.close();
    }
  });

  it('names the refusal when Redis is out of memory (noeviction), in bulk and by script', async () => {
    const server = await startRedis(['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']);
    const bulk = new RedisOnlineStore(server.url, { keyPrefix: prefix, bulkMinRows: 1 });
    const script = new RedisOnlineStore(server.url, { keyPrefix: prefix });
    const v = simple('oom');
    const ts = Date.now() - 1000;
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ entityKey: `e${i}`, featureTimestamp: ts, values: [i] }));
    try {
      // A watermark first, so that the large write goes in bulk.
      await bulk.writeBatch(v, rows.slice(0, 1));
      await expect(bulk.writeBatch(v, rows)).rejects.toThrow(/Redis refused a bulk write: OOM/);
      await expect(
        script.writeBatch(
          v,
          rows.map((r) => ({ ...r, featureTimestamp: r.featureTimestamp - 1 })),
        ),
      ).rejects.toThrow(/OOM/);
    } finally {
      await bulk.close();
      await script.close();
      await server.stop();
    }
  });

  it('names a refused password on the bulk connection', async () => {
    const server = await startRedis(['--requirepass', 'right']);
    const port = Number(new URL(server.url).port);
    const wrong = new RedisBulkConnection({ host: '127.0.0.1', port, password: 'wrong' });
    const right = new RedisBulkConnection({ host: '127.0.0.1', port, password: 'right', db: 3 });
    try {
      await expect(wrong.open()).rejects.toThrow(/WRONGPASS|invalid username-password/);
      expect(wrong.healthy).toBe(false);
      await right.open();
      expect(right.healthy).toBe(true);
    } finally {
      wrong.close();
      right.close();
      await server.stop();
    }
  });

  it('asks Redis for its eviction policy again after failing to reach it', async () => {
    const own = new RedisOnlineStore('redis://127.0.0.1:1', { keyPrefix: prefix, bulkMinRows: 1 });
    try {
      const v = simple('unreachable');
      await expect(own.writeBatch(v, [{ entityKey: 'a', featureTimestamp: Date.now(), values: [1] }])).rejects.toThrow(
        /^cannot reach redis:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/,
      );
      const config = vi.spyOn(own.redis, 'config');
      await expect(own.writeBatch(v, [{ entityKey: 'a', featureTimestamp: Date.now(), values: [1] }])).rejects.toThrow();
      expect(config).toHaveBeenCalledTimes(1);
    } finally {
      await own.close();
    }
  });

  it('speaks TLS (rediss://) with a private CA, for script and bulk writes and reads; refuses a server it cannot verify', async () => {
    const certs = testCertificates();
    const server = await startRedis([], certs);
    const tls = { ca: readFileSync(certs.ca) };
    const bulk = new RedisOnlineStore(server.url, { keyPrefix: prefix, tls, bulkMinRows: 1 });
    const script = new RedisOnlineStore(server.url, { keyPrefix: prefix, tls });
    const untrusting = new RedisOnlineStore(server.url, { keyPrefix: prefix });
    try {
      expect(server.url).toMatch(/^rediss:/);
      const v = simple('tls');
      const ts = Date.now() - 1000;
      expect(
        await bulk.writeBatch(
          v,
          ['a', 'b'].map((entityKey) => ({ entityKey, featureTimestamp: ts, values: [1] })),
        ),
      ).toMatchObject({ written: 2 });
      expect(await script.writeBatch(v, [{ entityKey: 'c', featureTimestamp: ts, values: [2] }])).toMatchObject({ written: 1 });
      const [read] = await script.read([{ view: v, entityKeys: ['a', 'b', 'c'] }]);
      expect(read!.map((r) => r.values[0])).toEqual([1, 1, 2]);
      await expect(untrusting.ping()).rejects.toThrow(/^cannot reach rediss:\/\/127\.0\.0\.1:\d+: .*(certificate|self[- ]signed)/i);
    } finally {
      await bulk.close();
      await script.close();
      await untrusting.close();
      await server.stop();
    }
  });

  it('fails with a clear error when Redis cannot be reached', async () => {
    const down = new RedisOnlineStore('redis://127.0.0.1:1', { keyPrefix: prefix });
    try {
      await expect(down.read([{ view: simple('down'), entityKeys: ['a'] }])).rejects.toThrow(/^cannot reach redis:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/);
    } finally {
      await down.close();
    }
  });
});

describe('embedded store across processes', () => {
  it('serves rows that another process writes while it has the store open', async () => {
    const path = join(tempDir('gold-online-mp-'), 'online');
    const reader = new EmbeddedOnlineStore(path);
    const v = simple('shared');
    try {
      await reader.writeBatch(v, [{ entityKey: 'a', featureTimestamp: Date.now() - 1000, values: [1] }]);
      expect((await reader.read([{ view: v, entityKeys: ['a', 'b'] }]))[0]!.map((r) => r.status)).toEqual(['present', 'not_found']);
      // A separate process (a worker) writes entity b straight into the same LMDB file.
      const record = encodeRecord(v, Date.now() - 500, Date.now(), [2]);
      const script = `import { open } from 'lmdb';
        const root = open({ path: process.argv[1], compression: false });
        const db = root.openDB({ name: 'features', encoding: 'string' });
        await db.put('shared:v1:b', process.argv[2]);
        await root.close();`;
      await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, path, record], { cwd: process.cwd() });
      const [rows] = await reader.read([{ view: v, entityKeys: ['a', 'b'] }]);
      expect(rows!.map((r) => [r.status, r.values[0]])).toEqual([
        ['present', 1],
        ['present', 2],
      ]);
    } finally {
      await reader.close();
    }
  });
});

describe('embedded store sweep', () => {
  it("removes rows past their view's TTL: not_found afterwards, as in Redis, fresh rows and other views kept", async () => {
    const store = new EmbeddedOnlineStore(join(tempDir('gold-online-sweep-'), 'online'));
    const short = simple('short_lived', 1, 60);
    const long = simple('long_lived', 1, 3600);
    const now = Date.now();
    try {
      await store.writeBatch(
        short,
        Array.from({ length: 25_000 }, (_, i) => ({ entityKey: `s${i}`, featureTimestamp: now - 1000, values: [i] })),
      );
      await store.writeBatch(short, [{ entityKey: 'late', featureTimestamp: now + 30_000, values: [1] }], now + 30_000);
      await store.writeBatch(long, [{ entityKey: 'a', featureTimestamp: now - 1000, values: [1] }]);
      expect((await store.stats()).keys).toBe(25_002);
      const later = now + 61_000;
      const [before] = await store.read([{ view: short, entityKeys: ['s0'] }], later);
      expect(before![0]!.status).toBe('outside_ttl');
      // Several removal transactions (10,000 rows each).
      expect(await store.sweepExpired(later)).toBe(25_000);
      const [shortRows, longRows] = await store.read(
        [
          { view: short, entityKeys: ['s0', 's24999', 'late'] },
          { view: long, entityKeys: ['a'] },
        ],
        later,
      );
      expect(shortRows!.map((r) => r.status)).toEqual(['not_found', 'not_found', 'present']);
      expect(longRows![0]!.status).toBe('present');
      expect((await store.stats()).keys).toBe(2);
      expect(await store.sweepExpired(later)).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('sweeps at the first write of a process, with the TTLs recorded by earlier ones', async () => {
    const path = join(tempDir('gold-online-sweep-'), 'online');
    const v = simple('sessions', 1, 60);
    const old = Date.now() - 120_000;
    const first = new EmbeddedOnlineStore(path);
    try {
      // The first write sweeps (nothing yet); the second, written while fresh as of `old`, is by now
      // past the one-minute TTL, and stays until the next sweep.
      await first.writeBatch(v, [{ entityKey: 'fresh', featureTimestamp: Date.now(), values: [0] }]);
      await first.writeBatch(v, [{ entityKey: 'a', featureTimestamp: old, values: [1] }], old + 1000);
      const [[row]] = await first.read([{ view: v, entityKeys: ['a'] }]);
      expect(row!.status).toBe('outside_ttl');
    } finally {
      await first.close();
    }
    const second = new EmbeddedOnlineStore(path);
    try {
      expect((await second.stats()).keys).toBe(2);
      await second.writeBatch(simple('other'), [{ entityKey: 'b', featureTimestamp: Date.now(), values: [2] }]);
      expect((await second.stats()).keys).toBe(2);
      const [rows] = await second.read([{ view: v, entityKeys: ['a', 'fresh'] }]);
      expect(rows!.map((r) => r.status)).toEqual(['not_found', 'present']);
    } finally {
      await second.close();
    }
  });
});

describe('embedded store sweep with several writers', () => {
  it('goes by the longest TTL written, and records it again after another process deleted the view', async () => {
    const path = join(tempDir('gold-online-sweep-'), 'online');
    const day = 86_400;
    const a = new EmbeddedOnlineStore(path);
    const b = new EmbeddedOnlineStore(path);
    try {
      const now = Date.now();
      // A rolling deploy: A declares 30 days, B (older code) 1 day, for the same view version.
      await a.writeBatch(simple('events', 1, 30 * day), [{ entityKey: 'kept', featureTimestamp: now - 3 * day * 1000, values: [1] }]);
      await b.writeBatch(simple('events', 1, day), [{ entityKey: 'other', featureTimestamp: now, values: [2] }]);
      expect(await b.sweepExpired(now)).toBe(0);
      const [[kept]] = await a.read([{ view: simple('events', 1, 30 * day), entityKeys: ['kept'] }], now);
      expect(kept!.status).toBe('present');
      // B deletes the view; A, which had recorded its TTL before, writes again: its rows are swept still.
      await b.deleteView(simple('events', 1, day));
      await a.writeBatch(simple('events', 1, 60), [{ entityKey: 'short', featureTimestamp: now - 120_000, values: [3] }], now - 100_000);
      expect(await a.sweepExpired(now)).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('online store metrics', () => {
  it('counts and times every write, read and delete, by store and outcome', async () => {
    const store = openOnlineStore('embedded', tempDir('gold-online-metrics-'));
    const counter = goldMetrics().storeOperations;
    const count = async (op: string, result: string) =>
      (await counter.get()).values.find((v) => v.labels.store === 'embedded' && v.labels.op === op && v.labels.result === result)?.value ?? 0;
    const before = {
      write: await count('write', 'ok'),
      read: await count('read', 'ok'),
      readError: await count('read', 'error'),
      del: await count('delete', 'ok'),
    };
    try {
      const v = simple('metrics_view');
      await store.writeBatch(v, [{ entityKey: encodeEntityKey(['u1']), featureTimestamp: Date.now(), values: [1] }]);
      await store.read([{ view: v, entityKeys: [encodeEntityKey(['u1'])] }]);
      await expect(store.read([{ view: v, entityKeys: ['k'], features: ['no_such_feature'] }])).rejects.toThrow();
      await store.deleteView(v);
      expect(await count('write', 'ok')).toBe(before.write + 1);
      expect(await count('read', 'ok')).toBe(before.read + 1);
      expect(await count('read', 'error')).toBe(before.readError + 1);
      expect(await count('delete', 'ok')).toBe(before.del + 1);
      const text = await goldMetrics().registry.metrics();
      expect(text).toMatch(/gold_store_operation_duration_seconds_count\{store="embedded",op="read"\} \d+/);
    } finally {
      await store.close();
    }
  });
});
