// What each online store says about the newest feature timestamp of a view without reading its rows
// (freshness exports it): the greatest one written, per view version, gone with the view.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedOnlineStore } from '../../src/online/embedded-store.js';
import { withMetrics } from '../../src/online/open.js';
import { RedisOnlineStore } from '../../src/online/redis-store.js';
import type { OnlineStore } from '../../src/online/store.js';
import type { OnlineViewSpec } from '../../src/online/view.js';
import { tempDir } from '../support/env.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const view = (name: string, version = 1, ttlSeconds = 3600): OnlineViewSpec => ({
  name,
  version,
  keys: ['user_id'],
  ttlSeconds,
  features: [{ name: 'x', type: 'BIGINT' }],
});
const prefix = `gold-test-latest-${randomBytes(4).toString('hex')}:`;

describe.each([
  ['redis', () => new RedisOnlineStore(REDIS_URL, { keyPrefix: prefix })],
  ['embedded', () => new EmbeddedOnlineStore(join(tempDir('gold-latest-'), 'online'))],
] as [string, () => OnlineStore][])('%s store: latest feature timestamp', (_kind, make) => {
  let store: OnlineStore;
  const now = Date.now();
  const views = [view('fresh'), view('versions', 1), view('versions', 2), view('expiring', 1, 60), view('never')];

  beforeAll(() => {
    // Through the metrics wrapper, as the product opens stores.
    store = withMetrics(make());
  });
  afterAll(async () => {
    for (const v of views) await store.deleteView(v);
    await store.close();
  });

  it('is the greatest timestamp written: an older write does not lower it, a restatement keeps it', async () => {
    const v = view('fresh');
    expect(await store.latestFeatureTimestamp(v)).toBeUndefined();
    await store.writeBatch(v, [
      { entityKey: 'u1', featureTimestamp: now - 60_000, values: [1] },
      { entityKey: 'u2', featureTimestamp: now - 30_000, values: [2] },
    ]);
    expect(await store.latestFeatureTimestamp(v)).toBe(now - 30_000);
    await store.writeBatch(v, [{ entityKey: 'u3', featureTimestamp: now - 120_000, values: [3] }]);
    expect(await store.latestFeatureTimestamp(v)).toBe(now - 30_000);
    await store.writeBatch(v, [{ entityKey: 'u2', featureTimestamp: now - 30_000, values: [4] }]);
    expect(await store.latestFeatureTimestamp(v)).toBe(now - 30_000);
  });

  it('is kept per view version, and forgotten with the view', async () => {
    await store.writeBatch(view('versions', 1), [{ entityKey: 'u1', featureTimestamp: now - 5000, values: [1] }]);
    await store.writeBatch(view('versions', 2), [{ entityKey: 'u1', featureTimestamp: now - 1000, values: [1] }]);
    expect(await store.latestFeatureTimestamp(view('versions', 1))).toBe(now - 5000);
    expect(await store.latestFeatureTimestamp(view('versions', 2))).toBe(now - 1000);
    await store.deleteView(view('versions', 2));
    expect(await store.latestFeatureTimestamp(view('versions', 2))).toBeUndefined();
    expect(await store.latestFeatureTimestamp(view('versions', 1))).toBe(now - 5000);
  });

  it('does not count rows not written because they were past their TTL', async () => {
    const v = view('expiring', 1, 60);
    await store.writeBatch(v, [{ entityKey: 'u1', featureTimestamp: now - 30_000, values: [1] }]);
    await store.writeBatch(v, [{ entityKey: 'u2', featureTimestamp: now - 120_000, values: [1] }]);
    expect(await store.latestFeatureTimestamp(v)).toBe(now - 30_000);
    const other = view('never', 1, 60);
    await store.writeBatch(other, [{ entityKey: 'u1', featureTimestamp: now - 120_000, values: [1] }]);
    expect(await store.latestFeatureTimestamp(other)).toBeUndefined();
  });
});

describe('redis store: latest feature timestamp from the watermark', () => {
  const own = `${prefix}mark:`;
  let store: RedisOnlineStore;
  beforeAll(() => {
    store = new RedisOnlineStore(REDIS_URL, { keyPrefix: own });
  });
  afterAll(async () => {
    await store.deleteView(view('lost'));
    await store.close();
  });

  it('reads a provisional mark (a lost watermark being rebuilt) as the timestamp written since', async () => {
    const v = view('lost');
    const t = Date.now() - 10_000;
    await store.writeBatch(v, [{ entityKey: 'u1', featureTimestamp: t, values: [1] }]);
    await store.redis.set(store.watermarkKey(v), `?${String(t + 1).padStart(13, '0')}${'0'.repeat(13)}token`);
    expect(await store.latestFeatureTimestamp(v)).toBe(t + 1);
    // A write that found no mark and wrote nothing leaves the lowest header: nothing is known.
    await store.redis.set(store.watermarkKey(v), `?${'0'.repeat(26)}token`);
    expect(await store.latestFeatureTimestamp(v)).toBeUndefined();
  });

  it('fails naming the store when Redis is unreachable', async () => {
    const down = new RedisOnlineStore('redis://127.0.0.1:1', { commandTimeoutMs: 500 });
    try {
      await expect(down.latestFeatureTimestamp(view('x'))).rejects.toThrow(/127\.0\.0\.1:1/);
    } finally {
      await down.close();
    }
  });
});
