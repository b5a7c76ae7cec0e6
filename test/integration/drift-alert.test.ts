// A drift alert on the real Temporal dev server: a device disappears from one day's silver; the daily
// run still lands and materializes the family, and the drift shows in the validation report, in
// `gold report`, in the worker's Prometheus metrics and on the alert webhook.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, engineOptions } from '../../src/engine/duckdb.js';
import { committedFiles, type Lake, openLake, paths } from '../../src/lake/index.js';
import { goldMetrics } from '../../src/monitoring/metrics.js';
import { latestValidationReports } from '../../src/monitoring/run-records.js';
import { addDays } from '../../src/shared/dates.js';
import { injectShift } from '../../src/silver/shift.js';
import { runGold } from '../support/cli.js';
import { testSettings } from '../support/env.js';
import { writeRandomSilver } from '../support/silver-fixture.js';
import { runDailyUnique, testClient, withWorker } from '../support/temporal.js';

// Recent, so that the online values are within their TTL.
const DATE = addDays(new Date().toISOString().slice(0, 10), -1);
const START = addDays(DATE, -9);

describe('a drift alert', () => {
  const s = testSettings();
  let lake: Lake;
  let hook: Server;
  const bodies: { kind?: string; family?: string; feature?: string; message?: string }[] = [];

  beforeAll(async () => {
    lake = openLake(s.lake, s);
    const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
    await writeRandomSilver(lake, db, { seed: 3, start: START, days: 10, sessions: 2500, users: 300, videos: 50, emptyDays: [] });
    db.close();
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(body) as (typeof bodies)[number]);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    s.alertWebhook = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
  });
  afterAll(async () => {
    hook.close();
    await lake.close();
  });

  it('lands and materializes the family, and shows the drift in the report, Prometheus and the webhook', async () => {
    const client = await testClient(s);
    try {
      await withWorker(s, async () => {
        // The reference: the same weekday a week before, its 2-day session window complete.
        const before = await runDailyUnique(client, s, { date: addDays(DATE, -7), families: ['session_features'] });
        expect(before.status).toBe('succeeded');
        await injectShift(lake, engineOptions(s), DATE, 'device_gone');
        const report = await runDailyUnique(client, s, { date: DATE, families: ['session_features'] });
        expect(report.status).toBe('succeeded');
        expect(report.familiesLanded).toEqual(['session_features']);
        const materialized = report.steps.find((x) => x.step === 'materialize' && x.family === 'session_features');
        expect(materialized?.status).toBe('succeeded');
        expect(materialized?.rows).toBeGreaterThan(0);
      });
    } finally {
      await client.connection.close();
    }
    expect(await committedFiles(lake, paths.gold('session_features', DATE))).not.toBeNull();
    const validation = (await latestValidationReports(lake, DATE)).get('session_features')!;
    expect(validation.passed).toBe(true);
    expect(validation.warned.find((c) => c.check === 'psi' && c.feature === 'device_type')).toBeDefined();
    expect(validation.features.find((x) => x.name === 'device_type')?.reference).toEqual({ kind: 'same_weekday', dates: [addDays(DATE, -7)] });

    const drift = bodies.filter((b) => b.kind === 'drift');
    expect(drift.map((b) => `${b.family}.${b.feature}`)).toContain('session_features.device_type');
    expect(drift.find((b) => b.feature === 'device_type')?.message).toMatch(/PSI [0-9.]+ of category shares against the reference/);
    expect(await goldMetrics().registry.getSingleMetricAsString('gold_alerts_total')).toMatch(/gold_alerts_total\{kind="drift",severity="warn"\} [1-9]/);

    const text = await runGold('--lake', s.lake, '--log-level', 'error', 'report', '--date', DATE, '--out', join(s.home, 'r.html'));
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/session_features +score [0-9.]+ +passed, [0-9]+ warning\(s\)/);
    const json = JSON.parse((await runGold('--lake', s.lake, '--log-level', 'error', '--json', 'report', '--date', DATE)).out) as {
      alerts: { kind: string; feature?: string }[];
    };
    expect(json.alerts.filter((a) => a.kind === 'drift').map((a) => a.feature)).toContain('device_type');
  });
});
