// Monitoring on a lake with a real history of validated dates: freshness, completeness, anomalies and
// the alerts they raise (log, Prometheus, webhook to a local HTTP server); run records; the metrics
// endpoint.

import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lake, openLake } from '../../src/lake/index.js';
import { type Alert, raiseAlert } from '../../src/monitoring/alerts.js';
import { familyFreshness } from '../../src/monitoring/freshness.js';
import { goldMetrics, observeValidation, startMetricsServer } from '../../src/monitoring/metrics.js';
import { monitorDate, raiseAlerts } from '../../src/monitoring/monitor.js';
import type { RunRecord } from '../../src/monitoring/run-record.js';
import { latestValidationReports, readRunRecords, runRecordKey, writeRunMetrics, writeValidationReport } from '../../src/monitoring/run-records.js';
import { validateFamily } from '../../src/quality/index.js';
import { setLogLevel } from '../../src/shared/logger.js';
import { tempDir } from '../support/env.js';
import { ENGINE, genSql, testFamily, validatedHistory, writeParquet } from './quality-fixture.js';

setLogLevel('silent');
const DATE = '2024-04-15';
const dir = tempDir('gold-monitoring-');
let lake: Lake;

/** A local webhook receiver: records JSON bodies, answers with the given status (or never). */
async function webhookServer(status: number | 'hang' = 204): Promise<{ url: string; bodies: unknown[]; server: Server }> {
  const bodies: unknown[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString('utf8')));
    req.on('end', () => {
      bodies.push({ method: req.method, type: req.headers['content-type'], body: JSON.parse(data) as unknown });
      if (status !== 'hang') res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/gold?token=secret`, bodies, server };
}

beforeAll(async () => {
  lake = openLake(join(dir, 'lake'), { s3CacheDir: join(dir, 'cache'), s3CacheMaxBytes: 1e9 });
  await validatedHistory(lake, dir, DATE, 14);
  // The date itself: far fewer rows and a shifted amount; validated, stored, not committed.
  const file = await writeParquet(genSql({ seed: 7, rows: 400, amountMean: 130 }), join(dir, 'today.parquet'));
  const report = await validateFamily(lake, ENGINE, { family: testFamily, date: DATE, files: [file], runId: 'run-today' });
  await writeValidationReport(lake, report);
  observeValidation(report);
}, 120_000);

afterAll(async () => {
  await lake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('monitoring a date', () => {
  it('finds stale gold, low completeness, anomalous rows and means, and a low score', async () => {
    const m = await monitorDate(lake, DATE, [testFamily.name], { minQualityScore: 0.99 });
    const f = m.families[0]!;
    expect(f.freshness).toEqual({ family: 'test_features', expectedDate: DATE, latestDate: '2024-04-14', lagDays: 1, fresh: false });
    expect(f.completeness.dates).toBe(14);
    expect(f.completeness.ratio).toBeCloseTo(0.4, 1);
    expect(f.anomalies.map((a) => a.metric).sort()).toEqual(['mean:amount', 'rows']);
    expect(f.history).toHaveLength(15);
    expect(f.qualityScore).toBeLessThan(0.99);
    // The date's drift checks fired on amount and on the row count: one drift alert each.
    expect(m.alerts.map((a) => a.kind).sort()).toEqual(['anomaly', 'anomaly', 'completeness', 'drift', 'drift', 'freshness', 'quality']);
    expect(
      m.alerts
        .filter((a) => a.kind === 'drift')
        .map((a) => a.feature ?? '(rows)')
        .sort(),
    ).toEqual(['(rows)', 'amount']);
    expect(m.alerts.find((a) => a.kind === 'drift' && a.feature === 'amount')!.message).toMatch(
      /^test_features.amount: PSI [0-9.]+ against the reference .*; test_features.amount: KS statistic/,
    );
    expect(m.alerts.find((a) => a.kind === 'freshness')!.message).toBe('test_features: latest gold is 2024-04-14, 1 day(s) behind 2024-04-15');
  });

  it('raises nothing on an ordinary date', async () => {
    const m = await monitorDate(lake, '2024-04-14', [testFamily.name]);
    expect(m.alerts).toEqual([]);
    expect(m.families[0]!.freshness.fresh).toBe(true);
  });

  it('reports a family without any gold', async () => {
    expect(await familyFreshness(lake, 'nothing', DATE)).toEqual({ family: 'nothing', expectedDate: DATE, fresh: false });
    const m = await monitorDate(lake, DATE, ['nothing']);
    expect(m.alerts).toMatchObject([{ kind: 'freshness', severity: 'error', message: 'nothing has no committed gold up to 2024-04-15' }]);
  });

  it('thresholds are configurable', async () => {
    const m = await monitorDate(lake, DATE, [testFamily.name], { maxLagDays: 1, minCompleteness: 0.1, anomalySigmas: 1e9, minQualityScore: 0 });
    // Drift alerts come from the validation report's checks, not from these thresholds.
    expect(m.alerts.map((a) => a.kind)).toEqual(['drift', 'drift']);
  });
});

describe('alerts', () => {
  const alert: Alert = { kind: 'completeness', severity: 'warn', date: DATE, family: 'test_features', message: 'rows low', value: 0.4, threshold: 0.5 };

  it('POST the alerts as JSON to the webhook (GOLD_ALERT_WEBHOOK) and count them', async () => {
    const hook = await webhookServer();
    const before = (await goldMetrics().alerts.get()).values.find((v) => v.labels.kind === 'anomaly')?.value ?? 0;
    try {
      const m = await monitorDate(lake, DATE, [testFamily.name]);
      const deliveries = await raiseAlerts(m.alerts, { webhookUrl: hook.url });
      expect(deliveries.every((d) => d.webhook === 'sent' && d.status === 204)).toBe(true);
      expect(hook.bodies).toHaveLength(m.alerts.length);
      const first = hook.bodies[0] as { method: string; type: string; body: Alert & { source: string; at: string } };
      expect(first).toMatchObject({ method: 'POST', type: 'application/json', body: { source: 'gold', ...m.alerts[0] } });
      expect(Date.parse(first.body.at)).toBeGreaterThan(Date.now() - 60_000);
      expect((await goldMetrics().alerts.get()).values.find((v) => v.labels.kind === 'anomaly')?.value).toBe(before + 2);
    } finally {
      hook.server.close();
    }
  });

  it('skip the webhook when none is set', async () => {
    expect(await raiseAlert(alert)).toEqual({ webhook: 'skipped' });
  });

  it('never throw when the webhook fails: error status, refused connection, no answer, bad URL', async () => {
    const errors = async () => (await goldMetrics().errors.get()).values.find((v) => v.labels.type === 'alert_webhook')?.value ?? 0;
    const before = await errors();
    const failing = await webhookServer(500);
    expect(await raiseAlert(alert, { webhookUrl: failing.url })).toEqual({ webhook: 'failed', status: 500, error: 'HTTP 500' });
    failing.server.close();
    expect(await raiseAlert(alert, { webhookUrl: failing.url })).toEqual({ webhook: 'failed', error: 'ECONNREFUSED' });
    const hanging = await webhookServer('hang');
    expect(await raiseAlert(alert, { webhookUrl: hanging.url, timeoutMs: 200 })).toEqual({ webhook: 'failed', error: 'no answer in 200 ms' });
    // Many alerts to a webhook that never answers cost one timeout, not one each.
    const t0 = Date.now();
    const many = await raiseAlerts(Array(10).fill(alert), { webhookUrl: hanging.url, timeoutMs: 300 });
    expect(many.every((d) => d.webhook === 'failed')).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1500);
    hanging.server.closeAllConnections();
    hanging.server.close();
    expect(await raiseAlert(alert, { webhookUrl: 'ftp://example' })).toMatchObject({ webhook: 'failed', error: expect.stringMatching(/not an http/) });
    expect(await errors()).toBe(before + 14);
  });
});

describe('run records and validation reports', () => {
  const record: RunRecord = {
    date: DATE,
    runId: 'run-today',
    runKind: 'daily',
    status: 'partial',
    startedAt: Date.parse('2024-04-16T01:00:00Z'),
    finishedAt: Date.parse('2024-04-16T01:02:00Z'),
    steps: [
      { step: 'compute', family: 'test_features', status: 'succeeded', attempts: 1, seconds: 1.5, rows: 400 },
      { step: 'validate', family: 'test_features', status: 'succeeded', attempts: 1, seconds: 0.4, qualityScore: 0.7 },
      { step: 'dlq', family: 'test_features', status: 'succeeded', attempts: 1, dlqEntryId: 'x' },
      { step: 'commit', family: 'other', status: 'failed', attempts: 3, seconds: 2, error: 'boom' },
    ],
    slaMisses: [],
    dlqEntries: ['x'],
    familiesLanded: [],
  };

  it('stores a record per run next to the validation reports, and counts it in the metrics', async () => {
    const key = await writeRunMetrics(lake, DATE, 'run-today', record);
    expect(key).toBe('runs/feature_date=2024-04-15/run-today.json');
    expect(key).toBe(runRecordKey(DATE, 'run-today'));
    expect(await readRunRecords(lake, DATE)).toEqual([record]);
    const reports = await latestValidationReports(lake, DATE);
    expect([...reports.keys()]).toEqual(['test_features']);
    expect(reports.get('test_features')!.runId).toBe('run-today');
    const text = await goldMetrics().registry.metrics();
    expect(text).toMatch(/gold_step_duration_seconds_count\{step="compute",family="test_features"\} 1/);
    expect(text).toMatch(/gold_rows_in_total\{family="test_features"\} 400/);
    expect(text).toMatch(/gold_errors_total\{type="commit_failed"\} 1/);
    expect(text).toMatch(/gold_runs_total\{kind="daily",status="partial"\} 1/);
    // A retry of the same run's record (its monitoring failed after the write) is not counted again.
    await writeRunMetrics(lake, DATE, 'run-today', record);
    expect(await goldMetrics().registry.metrics()).toMatch(/gold_runs_total\{kind="daily",status="partial"\} 1/);
  });

  it('refuses a record filed under another date or run, and unsafe ids', async () => {
    await expect(writeRunMetrics(lake, '2024-04-14', 'run-today', record)).rejects.toThrow(/written as 2024-04-14\/run-today/);
    await expect(writeRunMetrics(lake, DATE, '../x', { ...record, runId: '../x' })).rejects.toThrow(/invalid run id '..\/x'/);
    expect(await readRunRecords(lake, '2024-01-01')).toEqual([]);
  });
});

describe('metrics endpoint', () => {
  it('serves the registry on GET /metrics, 404 elsewhere, and names a busy port', async () => {
    const server = await startMetricsServer(0, '127.0.0.1');
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/plain/);
      const text = await res.text();
      for (const name of [
        'gold_validations_total',
        'gold_quality_score',
        'gold_validation_checks_total',
        'gold_step_duration_seconds_bucket',
        'gold_dlq_entries_total',
        'gold_store_operations_total',
        'gold_process_cpu_seconds_total',
      ]) {
        expect(text).toContain(name);
      }
      expect(text).toMatch(/gold_quality_score\{family="test_features"\} 0\.\d+/);
      expect(text).toMatch(/gold_validation_checks_total\{family="test_features",check="psi",severity="warn"\} \d+/);
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status).toBe(404);
      await expect(startMetricsServer(server.port, '127.0.0.1')).rejects.toThrow(`metrics port ${server.port} on 127.0.0.1 is already in use`);
    } finally {
      await server.close();
    }
  });
});
