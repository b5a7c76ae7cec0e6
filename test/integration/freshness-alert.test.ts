// The stale-view alert fires although nothing runs. A gold date is committed and materialized; the real
// exports (a `gold worker` process and `gold serve`) are scraped over HTTP; the worker is stopped
// (SIGTERM: it exits by itself, its refresh timer gone) and no run happens. The rules of deploy/prometheus/rules.yml are then evaluated by promtool on series made
// from those scrapes: the feature server keeps exporting the same values (nothing changes them), the
// worker's series end when it stops. The alert stays quiet while the view is within its SLA and fires
// just past it; the online values expire past their TTL; the dead workers are noticed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runFeatureServer } from '../../src/cli/commands/serve.js';
import { userFeatures } from '../../src/features/families/user-features.js';
import { commitPartition, type Lake, openLake, paths } from '../../src/lake/index.js';
import { EmbeddedOnlineStore } from '../../src/online/embedded-store.js';
import { onlineViewOf } from '../../src/online/views.js';
import { registerFamily } from '../../src/registry/index.js';
import { addDays, asOf } from '../../src/shared/dates.js';
import { setLogLevel } from '../../src/shared/logger.js';
import { packageRoot } from '../../src/tools/binaries.js';
import { testSettings } from '../support/env.js';
import { runPromtool, type Sample, sampleValue, scrape } from '../support/prometheus.js';
import { freePort, stopChild } from '../support/servers.js';
import { spawnWorkerProcess } from '../support/temporal.js';
import { writeParquet } from './quality-fixture.js';

setLogLevel('silent');
const SLA_SECONDS = 30 * 3600;
const view = onlineViewOf(userFeatures, 1);
/** Yesterday: its end (today 00:00 UTC) is less than a day old, within the SLA. */
const DATE = addDays(new Date().toISOString().slice(0, 10), -1);
const AS_OF = asOf(DATE).getTime() / 1000;

/** Exported series the rules read, and which of them hold a unix timestamp. */
const RULE_INPUTS = [
  'gold_view_latest_committed_date_seconds',
  'gold_view_freshness_sla_seconds',
  'gold_view_online_feature_timestamp_seconds',
  'gold_view_ttl_seconds',
  'gold_dlq_open_entries',
  'gold_freshness_refresh_success',
];
const isTimestamp = (name: string) => /_(date|timestamp)_seconds$/.test(name);

const settings = testSettings({ onlineStore: 'embedded', freshnessRefreshSeconds: 1, freshnessSlaSeconds: SLA_SECONDS });
const home = settings.home;
let lake: Lake;

/** Prometheus's humanizeDuration for a duration of at least a day in whole minutes. */
function humanize(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return `${d}d ${h}h ${m}m 0s`;
}

function seriesName(s: Sample, extra: Record<string, string>): string {
  const labels = { ...s.labels, ...extra };
  return `${s.name}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;
}

beforeAll(async () => {
  lake = openLake(settings.lake, settings);
  // Registered, so that the worker and the server find the view online at this version.
  expect((await registerFamily(lake, userFeatures)).version).toBe(view.version);
  const file = await writeParquet('SELECT 1 AS x', join(home, 'gold.parquet'));
  await commitPartition(lake, paths.gold(userFeatures.name, DATE), [{ localPath: file }], { rows: 1 });
  const store = new EmbeddedOnlineStore(join(home, 'online'));
  await store.writeBatch(view, [{ entityKey: 'u1', featureTimestamp: AS_OF * 1000, values: view.features.map(() => null) }]);
  await store.close();
}, 60_000);

afterAll(async () => {
  await lake.close();
});

describe('freshness alert with every worker stopped', () => {
  it('stays quiet within the SLA and fires past it, evaluated by promtool on the scraped exports', { timeout: 180_000 }, async () => {
    // The real worker's export, scraped, then every worker is gone.
    const port = await freePort();
    const child = spawnWorkerProcess(settings, 'worker.log', { GOLD_METRICS_PORT: String(port) });
    let worker: Sample[] = [];
    try {
      await vi.waitFor(
        async () =>
          expect(sampleValue((worker = await scrape(`http://127.0.0.1:${port}/metrics`)), 'gold_freshness_refresh_success', { source: 'online' })).toBe(1),
        { timeout: 90_000, interval: 500 },
      );
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
      child.kill('SIGTERM');
      // Exits by itself: the freshness timer and the lake and store it reads keep nothing alive.
      expect(await exited).toEqual({ code: 0, signal: null });
    } finally {
      await stopChild(child);
    }
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();

    // The feature server keeps exporting: scraped twice, refreshed in between, the same values.
    const stop = new AbortController();
    let address = '';
    const running = runFeatureServer(settings, { port: 0, host: '127.0.0.1', maxEntities: 10 }, stop.signal, (a) => (address = a));
    let first: Sample[] = [];
    let served: Sample[] = [];
    try {
      await vi.waitFor(() => expect(address).not.toBe(''));
      await vi.waitFor(async () =>
        expect(sampleValue((first = await scrape(`${address}/metrics`)), 'gold_freshness_refresh_success', { source: 'lake' })).toBe(1),
      );
      const refreshedAt = (s: Sample[]) => sampleValue(s, 'gold_freshness_refresh_timestamp_seconds', { source: 'lake' })!;
      await vi.waitFor(async () => expect(refreshedAt((served = await scrape(`${address}/metrics`)))).toBeGreaterThan(refreshedAt(first)), { timeout: 5000 });
    } finally {
      stop.abort();
      await running;
    }
    const scrapedAt = Date.now() / 1000;
    for (const s of [worker, first, served]) {
      expect(sampleValue(s, 'gold_view_latest_committed_date_seconds', { view: 'user_features' })).toBe(AS_OF);
      expect(sampleValue(s, 'gold_view_online_feature_timestamp_seconds', { view: 'user_features' })).toBe(AS_OF);
    }
    const inputs = (s: Sample[]) => s.filter((x) => RULE_INPUTS.includes(x.name));
    expect(
      inputs(served)
        .map((x) => seriesName(x, {}))
        .sort(),
    ).toEqual(
      inputs(first)
        .map((x) => seriesName(x, {}))
        .sort(),
    );
    for (const x of inputs(first)) expect(sampleValue(served, x.name, x.labels)).toBe(x.value);

    // promtool's clock starts at 0: time t there stands for T0 + t, so timestamps are shifted by T0.
    const T0 = Math.floor(scrapedAt / 60) * 60;
    const minutes = (unixSeconds: number) => Math.round((unixSeconds - T0) / 60);
    const staleAt = minutes(AS_OF + SLA_SECONDS); // the age reaches the SLA: stale one minute later
    const expiredAt = minutes(AS_OF + userFeatures.ttlSeconds);
    const end = expiredAt + 10;
    const WORKER_GONE = 1;
    const value = (x: Sample) => (isTimestamp(x.name) ? x.value - T0 : x.value);
    const inputSeries = [
      ...inputs(worker).map((x) => ({ series: seriesName(x, { job: 'gold-worker', instance: 'w1' }), values: `${value(x)}x${WORKER_GONE}` })),
      ...inputs(served).map((x) => ({ series: seriesName(x, { job: 'gold-serve', instance: 's1' }), values: `${value(x)}x${end}` })),
      { series: 'up{job="gold-worker",instance="w1"}', values: `1x${WORKER_GONE} 0x${end}` },
      { series: 'up{job="gold-serve",instance="s1"}', values: `1x${end}` },
    ];
    const staleAlert = (at: number) => ({
      exp_labels: { severity: 'warning', view: 'user_features' },
      exp_annotations: {
        summary: `user_features: the latest committed gold date ended ${humanize(at * 60 + T0 - AS_OF)} ago, past its freshness SLA`,
        description:
          'No newer date of user_features was committed in time: the schedule is paused, its runs fail, or no worker runs them. `gold report` and the Temporal UI say which.',
      },
    });
    const tests = {
      rule_files: [join(packageRoot, 'deploy', 'prometheus', 'rules.yml')],
      evaluation_interval: '1m',
      tests: [
        {
          name: `user_features committed up to ${DATE}, no worker, no run`,
          interval: '1m',
          input_series: inputSeries,
          alert_rule_test: [
            { eval_time: '0m', alertname: 'GoldViewStale', exp_alerts: [] },
            { eval_time: `${staleAt}m`, alertname: 'GoldViewStale', exp_alerts: [] },
            { eval_time: `${staleAt + 1}m`, alertname: 'GoldViewStale', exp_alerts: [staleAlert(staleAt + 1)] },
            { eval_time: `${expiredAt}m`, alertname: 'GoldOnlineViewExpired', exp_alerts: [] },
            {
              eval_time: `${expiredAt + 1}m`,
              alertname: 'GoldOnlineViewExpired',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical', view: 'user_features' },
                  exp_annotations: {
                    summary: `user_features: the newest online values are ${humanize((expiredAt + 1) * 60 + T0 - AS_OF)} old, past the view's TTL`,
                    description:
                      'The feature server answers OUTSIDE_MAX_AGE or NOT_FOUND for every entity of user_features until a newer date is materialized.',
                  },
                },
              ],
            },
            {
              eval_time: `${staleAt + 1}m`,
              alertname: 'GoldWorkersDown',
              exp_alerts: [{ exp_labels: { severity: 'critical' }, exp_annotations: { summary: 'No gold worker answers: nothing runs' } }],
            },
          ],
        },
      ],
    };
    expect(staleAt).toBeGreaterThan(0);
    // JSON is YAML.
    const file = join(home, 'stale.test.yml');
    writeFileSync(file, JSON.stringify(tests, null, 1));
    const r = runPromtool(['test', 'rules', file], home);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.code).toBe(0);
  });
});
