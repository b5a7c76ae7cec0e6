// Freshness exported without a run: gauges read from a real lake (committed gold, the DLQ) and a real
// online store on a timer, over the worker's metrics server and the feature server; each source that
// fails (lake unreachable, store down) is exported as failed with its last values kept, never thrown.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runFeatureServer } from '../../src/cli/commands/serve.js';
import { loadSettings } from '../../src/config/settings.js';
import { addDlqEntry, closeDlqEntry } from '../../src/dlq/entries.js';
import { commitPartition, type Lake, openLake, paths } from '../../src/lake/index.js';
import { S3Lake } from '../../src/lake/s3-lake.js';
import { goldMetrics, startMetricsServer } from '../../src/monitoring/metrics.js';
import { ViewFreshness } from '../../src/monitoring/view-freshness.js';
import { EmbeddedOnlineStore } from '../../src/online/embedded-store.js';
import { RedisOnlineStore } from '../../src/online/redis-store.js';
import { onlineViewOf } from '../../src/online/views.js';
import { setViewProvider } from '../../src/serving/view-provider.js';
import { asOf } from '../../src/shared/dates.js';
import { setLogLevel } from '../../src/shared/logger.js';
import { tempDir } from '../support/env.js';
import { parseSamples, type Sample, sampleValue, scrape } from '../support/prometheus.js';
import { testFamily, writeParquet } from './quality-fixture.js';

setLogLevel('silent');
const other = { ...testFamily, name: 'other_features' };
const families = [testFamily, other];
const view = onlineViewOf(testFamily, 1);
const FEATURE_TS = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
const endOf = (date: string) => asOf(date).getTime() / 1000;

const dir = tempDir('gold-freshness-');
let lake: Lake;
let store: EmbeddedOnlineStore;
let file: string;

async function commit(date: string, lakeOf: Lake = lake, family = testFamily.name): Promise<void> {
  await commitPartition(lakeOf, paths.gold(family, date), [{ localPath: file }], { rows: 1 });
}

async function samplesOf(registry: Registry): Promise<Sample[]> {
  return parseSamples(await registry.metrics());
}

beforeAll(async () => {
  lake = openLake(join(dir, 'lake'), { s3CacheDir: join(dir, 'cache'), s3CacheMaxBytes: 1e9 });
  file = await writeParquet('SELECT 1 AS x', join(dir, 'gold.parquet'));
  await commit('2024-04-13');
  await commit('2024-04-14');
  // A newer partition whose commit never finished: not committed, not fresh.
  await lake.write(`${paths.gold(testFamily.name, '2024-04-15')}/part-0.parquet`, Buffer.from('partial'));
  store = new EmbeddedOnlineStore(join(dir, 'online'));
  await store.writeBatch(view, [{ entityKey: 'u1', featureTimestamp: FEATURE_TS, values: [1, 2, 0.5, 'a'] }]);
  const open = { family: testFamily.name, date: '2024-04-14', reason: 'validation' as const, error: 'rows failed' };
  await addDlqEntry(lake, { ...open, runId: 'run-1' });
  await closeDlqEntry(lake, await addDlqEntry(lake, { ...open, runId: 'run-2' }), { closedBy: 'run-3' });
}, 60_000);

afterAll(async () => {
  await store.close();
  await lake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('view freshness gauges', () => {
  it('exports per view the latest committed date, the online timestamp, SLA and TTL, and the open DLQ entries', async () => {
    const registry = new Registry();
    const before = Date.now() / 1000;
    const f = new ViewFreshness(registry, { lake, families, online: { store, views: async () => [view] }, slaSeconds: 7200, refreshSeconds: 60 });
    try {
      await f.refresh();
      const s = await samplesOf(registry);
      expect(sampleValue(s, 'gold_view_latest_committed_date_seconds', { view: 'test_features' })).toBe(endOf('2024-04-14'));
      // Never committed: no series (a timestamp of 0 would read as 54 years stale).
      expect(sampleValue(s, 'gold_view_latest_committed_date_seconds', { view: 'other_features' })).toBeUndefined();
      expect(sampleValue(s, 'gold_view_freshness_sla_seconds', { view: 'test_features' })).toBe(7200);
      expect(sampleValue(s, 'gold_view_freshness_sla_seconds', { view: 'other_features' })).toBe(7200);
      expect(sampleValue(s, 'gold_view_online_feature_timestamp_seconds', { view: 'test_features' })).toBe(FEATURE_TS / 1000);
      expect(sampleValue(s, 'gold_view_ttl_seconds', { view: 'test_features' })).toBe(testFamily.ttlSeconds);
      expect(sampleValue(s, 'gold_dlq_open_entries')).toBe(1);
      for (const source of ['lake', 'online', 'dlq']) {
        expect(sampleValue(s, 'gold_freshness_refresh_success', { source })).toBe(1);
        expect(sampleValue(s, 'gold_freshness_refresh_timestamp_seconds', { source })).toBeGreaterThanOrEqual(Math.floor(before));
      }
    } finally {
      await f.stop();
    }
  });

  it('follows the lake on its timer, and stops following when stopped', async () => {
    const own = openLake(join(dir, 'timer-lake'), { s3CacheDir: join(dir, 'cache'), s3CacheMaxBytes: 1e9 });
    const registry = new Registry();
    const f = new ViewFreshness(registry, { lake: own, families, slaSeconds: 7200, refreshSeconds: 0.05 });
    const committed = async () => sampleValue(await samplesOf(registry), 'gold_view_latest_committed_date_seconds', { view: 'test_features' });
    try {
      await vi.waitFor(async () => expect(sampleValue(await samplesOf(registry), 'gold_freshness_refresh_success', { source: 'lake' })).toBe(1));
      expect(await committed()).toBeUndefined();
      await commit('2024-05-01', own);
      await vi.waitFor(async () => expect(await committed()).toBe(endOf('2024-05-01')), { timeout: 5000 });
      await f.stop();
      await commit('2024-05-02', own);
      await new Promise((r) => setTimeout(r, 300));
      expect(await committed()).toBe(endOf('2024-05-01'));
    } finally {
      await f.stop();
      await own.close();
    }
  });

  it('an empty lake: SLAs exported, no committed date, no open DLQ entry, the refresh a success', async () => {
    const empty = openLake(join(dir, 'empty-lake'), { s3CacheDir: join(dir, 'cache'), s3CacheMaxBytes: 1e9 });
    const registry = new Registry();
    const f = new ViewFreshness(registry, { lake: empty, families, slaSeconds: 7200, refreshSeconds: 60 });
    try {
      await f.refresh();
      const s = await samplesOf(registry);
      expect(s.filter((x) => x.name === 'gold_view_latest_committed_date_seconds')).toEqual([]);
      expect(
        s
          .filter((x) => x.name === 'gold_view_freshness_sla_seconds')
          .map((x) => x.labels.view)
          .sort(),
      ).toEqual(['other_features', 'test_features']);
      expect(sampleValue(s, 'gold_dlq_open_entries')).toBe(0);
      expect(sampleValue(s, 'gold_freshness_refresh_success', { source: 'lake' })).toBe(1);
      // Without a store, no online source at all.
      expect(
        s
          .filter((x) => x.name === 'gold_freshness_refresh_success')
          .map((x) => x.labels.source)
          .sort(),
      ).toEqual(['dlq', 'lake']);
    } finally {
      await f.stop();
      await empty.close();
    }
  });

  it('an unreachable lake: exported as failed, not thrown, and a scrape still answers at once', async () => {
    const client = new S3Client({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const unreachable = new S3Lake('gold', 'lake', 's3://gold/lake', { cacheDir: join(dir, 's3-cache'), cacheMaxBytes: 1e9, client });
    const registry = new Registry();
    const f = new ViewFreshness(registry, { lake: unreachable, families, online: { store, views: async () => [view] }, slaSeconds: 7200, refreshSeconds: 60 });
    try {
      await expect(f.refresh()).resolves.toBeUndefined();
      const s = await samplesOf(registry);
      expect(sampleValue(s, 'gold_freshness_refresh_success', { source: 'lake' })).toBe(0);
      expect(sampleValue(s, 'gold_freshness_refresh_success', { source: 'dlq' })).toBe(0);
      expect(sampleValue(s, 'gold_freshness_refresh_timestamp_seconds', { source: 'lake' })).toBeUndefined();
      // The store is a source of its own, unaffected.
      expect(sampleValue(s, 'gold_freshness_refresh_success', { source: 'online' })).toBe(1);
      expect(sampleValue(s, 'gold_view_online_feature_timestamp_seconds', { view: 'test_features' })).toBe(FEATURE_TS / 1000);
      expect(sampleValue(s, 'gold_view_freshness_sla_seconds', { view: 'test_features' })).toBe(7200);
    } finally {
      await f.stop();
      client.destroy();
    }
  });

  it('a lake that never answers: failed after the timeout, and the next refreshes still run', async () => {
    // Accepts connections and never answers, as a wedged S3 endpoint does.
    const sockets: Socket[] = [];
    const silent = createServer((sock) => void sockets.push(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const client = new S3Client({
      endpoint: `http://127.0.0.1:${(silent.address() as { port: number }).port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const hung = new S3Lake('gold', 'lake', 's3://gold/lake', { cacheDir: join(dir, 's3-cache'), cacheMaxBytes: 1e9, client });
    const registry = new Registry();
    const f = new ViewFreshness(registry, { lake: hung, families, slaSeconds: 7200, refreshSeconds: 0.2, timeoutSeconds: 0.3 });
    try {
      const t0 = Date.now();
      await f.refresh();
      expect(Date.now() - t0).toBeLessThan(2000);
      const s = await samplesOf(registry);
      expect(sampleValue(s, 'gold_freshness_refresh_success', { source: 'lake' })).toBe(0);
      expect(sampleValue(s, 'gold_freshness_refresh_success', { source: 'dlq' })).toBe(0);
      // The timer goes on: more requests reach the endpoint after the first refreshes gave up.
      const seen = sockets.length;
      await vi.waitFor(() => expect(sockets.length).toBeGreaterThan(seen), { timeout: 5000 });
    } finally {
      await f.stop();
      client.destroy();
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('a lake that fails after a good refresh: the last values stay, marked failed, until it reads again', async () => {
    const own = openLake(join(dir, 'failing-lake'), { s3CacheDir: join(dir, 'cache'), s3CacheMaxBytes: 1e9 });
    await commit('2024-04-20', own);
    const registry = new Registry();
    const f = new ViewFreshness(registry, { lake: own, families, slaSeconds: 7200, refreshSeconds: 60 });
    const gold = join(dir, 'failing-lake', 'gold');
    try {
      await f.refresh();
      const good = await samplesOf(registry);
      // gold/ turned into a file: listing it fails (ENOTDIR), as a broken mount would.
      renameSync(gold, `${gold}.away`);
      writeFileSync(gold, 'not a folder');
      await f.refresh();
      const s = await samplesOf(registry);
      expect(sampleValue(s, 'gold_freshness_refresh_success', { source: 'lake' })).toBe(0);
      expect(sampleValue(s, 'gold_view_latest_committed_date_seconds', { view: 'test_features' })).toBe(endOf('2024-04-20'));
      expect(sampleValue(s, 'gold_freshness_refresh_timestamp_seconds', { source: 'lake' })).toBe(
        sampleValue(good, 'gold_freshness_refresh_timestamp_seconds', { source: 'lake' }),
      );
      rmSync(gold);
      renameSync(`${gold}.away`, gold);
      await f.refresh();
      expect(sampleValue(await samplesOf(registry), 'gold_freshness_refresh_success', { source: 'lake' })).toBe(1);
    } finally {
      await f.stop();
      await own.close();
    }
  });

  it('an online store that is down: online exported as failed, the lake still read', async () => {
    const down = new RedisOnlineStore('redis://127.0.0.1:1', { commandTimeoutMs: 500 });
    const registry = new Registry();
    const f = new ViewFreshness(registry, { lake, families, online: { store: down, views: async () => [view] }, slaSeconds: 7200, refreshSeconds: 60 });
    try {
      await f.refresh();
      const s = await samplesOf(registry);
      expect(sampleValue(s, 'gold_freshness_refresh_success', { source: 'online' })).toBe(0);
      expect(sampleValue(s, 'gold_view_online_feature_timestamp_seconds', { view: 'test_features' })).toBeUndefined();
      expect(sampleValue(s, 'gold_freshness_refresh_success', { source: 'lake' })).toBe(1);
      expect(sampleValue(s, 'gold_view_latest_committed_date_seconds', { view: 'test_features' })).toBe(endOf('2024-04-14'));
    } finally {
      await f.stop();
      await down.close();
    }
  });
});

describe('exported over HTTP', () => {
  it("by the worker's metrics server, next to gold's metrics, with one gold_dlq_open_entries", async () => {
    const server = await startMetricsServer(0, '127.0.0.1');
    const f = new ViewFreshness(goldMetrics().registry, { lake, families, online: { store, views: async () => [view] }, slaSeconds: 7200, refreshSeconds: 60 });
    try {
      await f.refresh();
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expect(text.match(/^# TYPE gold_dlq_open_entries gauge$/gm)).toHaveLength(1);
      const s = parseSamples(text);
      expect(sampleValue(s, 'gold_view_latest_committed_date_seconds', { view: 'test_features' })).toBe(endOf('2024-04-14'));
      expect(sampleValue(s, 'gold_dlq_open_entries')).toBe(1);
      expect(sampleValue(s, 'gold_view_online_feature_timestamp_seconds', { view: 'test_features' })).toBe(FEATURE_TS / 1000);
      // The alert kinds the rules count with increase(), there from the start.
      for (const kind of ['sla_commit_by', 'sla_max_run', 'sla_max_step', 'drift'])
        expect(sampleValue(s, 'gold_alerts_total', { kind, severity: 'warn' })).toBe(0);
    } finally {
      await f.stop();
      await server.close();
    }
  });

  it('by gold serve on /metrics, for the declared families, from the configured lake and store, until it stops', async () => {
    const home = tempDir('gold-freshness-serve-');
    const served = openLake(join(home, 'lake'), { s3CacheDir: join(dir, 'cache'), s3CacheMaxBytes: 1e9 });
    await commit('2024-04-14', served, 'user_features');
    await served.close();
    const settings = loadSettings(
      { home, onlineStore: 'embedded', logLevel: 'warn' },
      { GOLD_FRESHNESS_REFRESH_SECONDS: '1', GOLD_FRESHNESS_SLA_SECONDS: '7200' },
    );
    const servedStore = new EmbeddedOnlineStore(join(home, 'online'));
    await servedStore.writeBatch(view, [{ entityKey: 'u1', featureTimestamp: FEATURE_TS, values: [1, 2, 0.5, 'a'] }]);
    await servedStore.close();
    setViewProvider(async () => ({ views: [view] }));
    const stop = new AbortController();
    let address = '';
    const running = runFeatureServer(settings, { port: 0, host: '127.0.0.1', maxEntities: 10 }, stop.signal, (a) => (address = a));
    try {
      await vi.waitFor(() => expect(address).not.toBe(''));
      await vi.waitFor(async () => expect(sampleValue(await scrape(`${address}/metrics`), 'gold_freshness_refresh_success', { source: 'lake' })).toBe(1));
      const s = await scrape(`${address}/metrics`);
      expect(sampleValue(s, 'gold_view_latest_committed_date_seconds', { view: 'user_features' })).toBe(endOf('2024-04-14'));
      expect(sampleValue(s, 'gold_view_latest_committed_date_seconds', { view: 'item_features' })).toBeUndefined();
      expect(sampleValue(s, 'gold_view_freshness_sla_seconds', { view: 'item_features' })).toBe(7200);
      // Online: the views the server serves.
      expect(sampleValue(s, 'gold_view_online_feature_timestamp_seconds', { view: 'test_features' })).toBe(FEATURE_TS / 1000);
      expect(sampleValue(s, 'gold_dlq_open_entries')).toBe(0);
    } finally {
      stop.abort();
      await running;
    }
    await expect(fetch(`${address}/metrics`)).rejects.toThrow();
  });
});
