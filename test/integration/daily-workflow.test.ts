// The daily gold workflow on the real dev server: DAG order and overlap, retries, the DLQ path, the
// progress query, the in-process runner giving the same gold.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settingsEnv } from '../../src/config/settings.js';
import type { ConsistencyResult } from '../../src/consistency/check.js';
import { listDlq } from '../../src/dlq/index.js';
import { Engine, parquetScan } from '../../src/engine/duckdb.js';
import { FAMILIES, family } from '../../src/features/families/index.js';
import { readAlsModelReport } from '../../src/features/models/als-model.js';
import { committedFiles, type Lake, openLake, paths } from '../../src/lake/index.js';
import { goldMetrics } from '../../src/monitoring/metrics.js';
import { readRunRecords } from '../../src/monitoring/run-records.js';
import { encodeEntityKey } from '../../src/online/entity-key.js';
import { openOnlineStore } from '../../src/online/open.js';
import { onlineViewOf } from '../../src/online/views.js';
import type { DailyReport } from '../../src/pipeline/types.js';
import { schemaVersions } from '../../src/registry/index.js';
import { addDays } from '../../src/shared/dates.js';
import { createStepContext } from '../../src/steps/context.js';
import { createSteps, IN_PROCESS } from '../../src/steps/index.js';
import { runDailyLocal } from '../../src/steps/local-runner.js';
import { startDaily } from '../../src/temporal/workflows.js';
import { packageRoot } from '../../src/tools/binaries.js';
import { testSettings } from '../support/env.js';
import { writeRandomSilver } from '../support/silver-fixture.js';
import { testClient, withWorker } from '../support/temporal.js';

const exec = promisify(execFile);
const DAYS = 10;
// Recent dates, so that online values are within their TTL (old dates are rightly not materialized).
const DATE = addDays(new Date().toISOString().slice(0, 10), -1);
const START = addDays(DATE, -(DAYS - 1));
const FAST = { compute: { initialIntervalMs: 200, maximumIntervalMs: 500 }, commit: { initialIntervalMs: 200 }, materialize: { initialIntervalMs: 200 } };

async function seed(lakeUri: string): Promise<void> {
  const lake = openLake(lakeUri, { s3CacheDir: '/tmp', s3CacheMaxBytes: 1e9 });
  const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
  await writeRandomSilver(lake, db, { seed: 5, start: START, days: DAYS, sessions: 500, users: 40, videos: 30, emptyDays: [] });
  db.close();
}

async function goldRows(lake: Lake, fam: string, date: string): Promise<Record<string, unknown>[]> {
  const keys = await committedFiles(lake, paths.gold(fam, date));
  if (!keys) return [];
  const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
  try {
    const files = await Promise.all(keys.map((k) => lake.localFile(k)));
    return await db.all(`SELECT * EXCLUDE (created_timestamp) FROM ${parquetScan(files)} ORDER BY ALL`);
  } finally {
    db.close();
  }
}

const step = (r: DailyReport, s: string, f?: string) => r.steps.filter((x) => x.step === s && x.family === f).at(-1)!;

describe('daily gold workflow', () => {
  const s = testSettings();
  let lake: Lake;
  beforeAll(async () => {
    await seed(s.lake);
    lake = openLake(s.lake, s);
  });
  afterAll(async () => lake.close());

  it('runs the DAG in dependency order, independent families overlapping, and lands every family', async () => {
    const client = await testClient(s);
    const report = await withWorker(
      s,
      async () => {
        const started = await startDaily(client, s, { date: DATE, policies: FAST });
        expect(started.workflowId).toBe(`gold-daily-${DATE}`);
        const again = await startDaily(client, s, { date: DATE });
        expect(again.started).toBe(false);
        const r = await started.result();
        const progress = await started.handle.query<DailyReport>('progress');
        expect(progress.status).toBe('succeeded');
        return r;
      },
      { maxConcurrentActivities: 8 },
    );
    expect(report.status).toBe('succeeded');
    expect(report.familiesLanded.sort()).toEqual(FAMILIES.map((f) => f.name).sort());
    const end = (x: { startedAt?: number; seconds?: number }) => x.startedAt! + x.seconds! * 1000;
    const stat = step(report, 'compute', 'statistical_features');
    for (const dep of ['user_features', 'item_features', 'session_features', 'temporal_features']) {
      expect(stat.startedAt!).toBeGreaterThanOrEqual(end(step(report, 'validate', dep)));
      expect(step(report, 'commit', dep).status).toBe('succeeded');
      expect(step(report, 'materialize', dep).status).toBe('succeeded');
      expect((await goldRows(lake, dep, DATE)).length).toBe(step(report, 'compute', dep).rows);
    }
    const computes = ['user_features', 'item_features', 'session_features', 'temporal_features'].map((f) => step(report, 'compute', f));
    const overlapping = computes.some((a) => computes.some((b) => a !== b && a.startedAt! < end(b) && b.startedAt! < end(a)));
    expect(overlapping).toBe(true);
    expect(step(report, 'consistency').status).toBe('succeeded');
    expect(step(report, 'consistency').detail).toMatch(/0 mismatched, 0 missing/);
    // The embeddings model's quality report is part of the run's record and metrics.
    const [record] = (await readRunRecords(lake, DATE)).filter((r) => r.runId === report.runId);
    const als = record!.models!.als!;
    expect(als.date).toBe(DATE);
    expect(als.loss.length).toBeGreaterThanOrEqual(1);
    expect(als.loss.length).toBeLessThanOrEqual(als.params.iterations);
    expect(als.loss.at(-1)!).toBeLessThanOrEqual(als.loss[0]!);
    // The first model of the lake: no previous date's model to evaluate on this date's plays, or to drift from.
    expect(als.heldOut).toBeNull();
    expect(als.userDrift).toBeNull();
    expect(als.users).toBe((await goldRows(lake, 'user_embeddings', DATE)).length);
    const metrics = await goldMetrics().registry.metrics();
    expect(metrics).toMatch(/gold_model_quality\{model="als",metric="final_loss"\} \d/);
    await client.connection.close();
  });

  it('gold consistency finds online and gold equal, then names a value changed online', async () => {
    const gold = async (...args: string[]) => {
      try {
        const r = await exec(process.execPath, [join(packageRoot, 'bin', 'gold.js'), '--json', 'consistency', '--date', DATE, ...args], {
          env: { ...process.env, ...settingsEnv(s) },
        });
        return { code: 0, results: JSON.parse(r.stdout) as ConsistencyResult[] };
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string };
        return { code: err.code, results: err.stdout ? (JSON.parse(err.stdout) as ConsistencyResult[]) : [], stderr: err.stderr };
      }
    };
    const clean = await gold();
    expect(clean.code).toBe(0);
    expect(clean.results.map((r) => r.family).sort()).toEqual(
      FAMILIES.filter((f) => f.online !== false)
        .map((f) => f.name)
        .sort(),
    );
    for (const r of clean.results) expect(r).toMatchObject({ mismatched: 0, missing: 0, extra: 0, matched: r.checked });
    expect(clean.results.find((r) => r.family === 'user_features')!.checked).toBe((await goldRows(lake, 'user_features', DATE)).length);

    // Change one user's watch_time_7d online, under the same feature timestamp.
    const decl = family('user_features');
    const view = onlineViewOf(decl, Math.max(...(await schemaVersions(lake, decl.name))));
    const store = openOnlineStore(s.onlineStore, s.home);
    try {
      const [user] = await goldRows(lake, 'user_features', DATE);
      const key = encodeEntityKey([String(user!.user_id)]);
      const [[got]] = await store.read([{ view, entityKeys: [key] }]);
      const at = view.features.findIndex((f) => f.name === 'watch_time_7d');
      const values = [...got!.values];
      values[at] = Number(values[at]) + 1234.5;
      await store.writeBatch(view, [{ entityKey: key, featureTimestamp: got!.featureTimestamp!, createdTimestamp: Date.now(), values }]);
      const tampered = await gold('--families', 'user_features');
      expect(tampered.code).toBe(1);
      expect(tampered.results[0]).toMatchObject({ family: 'user_features', mismatched: 1, samples: [{ entityKey: key, feature: 'watch_time_7d' }] });
    } finally {
      await store.close();
    }
    const unknown = await gold('--families', 'no_such_family');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown feature family 'no_such_family'/);
  });

  it('retries a transient failure and sends a permanent one to the DLQ while the rest lands', async () => {
    const s2 = testSettings();
    await seed(s2.lake);
    const client = await testClient(s2);
    const failures = new Map<string, number>();
    const freshnessAlerts = async () => (await goldMetrics().alerts.get()).values.filter((v) => v.labels.kind === 'freshness').reduce((a, v) => a + v.value, 0);
    const alertsBefore = await freshnessAlerts();
    const report = await withWorker(s2, async () => (await startDaily(client, s2, { date: DATE, policies: FAST }, { rerun: true })).result(), {
      overrideActivities: (acts) => ({
        async computeFeatureFamily(a) {
          const n = (failures.get(a.family) ?? 0) + 1;
          failures.set(a.family, n);
          if (a.family === 'item_features' && n === 1) throw new Error('simulated transient I/O error');
          if (a.family === 'session_features') throw ApplicationFailure.nonRetryable('simulated bad input', 'BadInput');
          if (a.family === 'temporal_features') throw new Error('simulated outage that outlasts the retries');
          return acts.computeFeatureFamily(a);
        },
      }),
    });
    expect(report.status).toBe('partial');
    expect(step(report, 'compute', 'item_features')).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(step(report, 'compute', 'session_features')).toMatchObject({ status: 'failed' });
    expect(step(report, 'compute', 'temporal_features')).toMatchObject({ status: 'failed', error: expect.stringMatching(/retries exhausted/) });
    expect(step(report, 'compute', 'statistical_features')).toMatchObject({ status: 'skipped' });
    expect(report.familiesLanded.sort()).toEqual(['item_features', 'user_embeddings', 'user_features', 'video_embeddings']);
    expect(report.dlqEntries).toHaveLength(2);
    // Monitoring covers the families that did not land: session, temporal and statistical have no gold.
    expect((await freshnessAlerts()) - alertsBefore).toBe(3);
    expect(step(report, 'dlq', 'session_features').dlqEntryId).toBeDefined();
    // Each entry's reason is its own failed step's, whatever the other families were doing meanwhile.
    const lake2 = openLake(s2.lake, s2);
    const entries = await listDlq(lake2, { date: DATE });
    expect(Object.fromEntries(entries.map((e) => [e.family, e.reason]))).toEqual({ session_features: 'error', temporal_features: 'retries_exhausted' });
    expect(entries.find((e) => e.family === 'temporal_features')!.error).toMatch(/outlasts the retries/);
    expect(await goldRows(lake2, 'session_features', DATE)).toEqual([]);

    // A later run of the date that lands them settles their entries, whoever made them.
    const rerun = await withWorker(s2, async () => (await startDaily(client, s2, { date: DATE, policies: FAST }, { rerun: true })).result());
    expect(rerun.status).toBe('succeeded');
    expect(await listDlq(lake2, { date: DATE, status: 'open' })).toEqual([]);
    expect((await listDlq(lake2, { date: DATE })).map((e) => e.closedBy)).toEqual([rerun.runId, rerun.runId]);
    await client.connection.close();
  });

  it('commit_by: missed when gold is not committed at the deadline, reported when a run ends without it', async () => {
    const s5 = testSettings();
    await seed(s5.lake);
    const client = await testClient(s5);
    const families = ['temporal_features'];
    const run = (commitInMs: number, overrides: Parameters<typeof withWorker>[2]) =>
      withWorker(
        s5,
        async () =>
          (
            await startDaily(
              client,
              s5,
              { date: DATE, families, policies: FAST, sla: { commitBy: new Date(Date.now() + commitInMs).toISOString() } },
              { rerun: true },
            )
          ).result(),
        overrides,
      );
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

    // A compute still running at the deadline: missed, while the run goes on and lands.
    const late = await run(1500, {
      overrideActivities: (acts) => ({
        computeFeatureFamily: async (a) => {
          await pause(4000);
          return acts.computeFeatureFamily(a);
        },
      }),
    });
    expect(late.familiesLanded).toEqual(families);
    expect(late.slaMisses.map((m) => m.kind)).toEqual(['commit_by']);

    // Committed in time, only the consistency sample running past the deadline: not missed.
    const committed = await run(3000, {
      overrideActivities: (acts) => ({
        consistencySample: async (a) => {
          await pause(5000);
          return acts.consistencySample(a);
        },
      }),
    });
    expect(committed.status).toBe('succeeded');
    expect(committed.slaMisses).toEqual([]);

    // Failed long before the deadline: the miss is reported when the run ends.
    const failed = await run(10 * 60_000, {
      overrideActivities: () => ({
        computeFeatureFamily: async () => {
          throw ApplicationFailure.nonRetryable('simulated bad input', 'BadInput');
        },
      }),
    });
    expect(failed.status).toBe('failed');
    expect(failed.slaMisses).toEqual([expect.objectContaining({ kind: 'commit_by', detail: expect.stringMatching(/will not be committed .*ended failed/) })]);
    await client.connection.close();
  });

  it('a cancelled run stops, ends cancelled, and records what it did', async () => {
    const s4 = testSettings();
    await seed(s4.lake);
    const client = await testClient(s4);
    let computing = 0;
    await withWorker(
      s4,
      async () => {
        const started = await startDaily(client, s4, { date: DATE, policies: { ...FAST, compute: { ...FAST.compute, heartbeatMs: 1000 } } }, { rerun: true });
        for (let i = 0; i < 600 && computing === 0; i++) await new Promise((r) => setTimeout(r, 50));
        await started.handle.cancel();
        await expect(started.result()).rejects.toThrow();
        expect((await started.handle.describe()).status.name).toBe('CANCELLED');
        const [record] = await readRunRecords(openLake(s4.lake, s4), DATE);
        expect(record).toMatchObject({ status: 'cancelled', familiesLanded: [] });
        expect(record!.steps.filter((x) => x.step === 'compute').map((x) => x.status)).toContain('cancelled');
        // Nothing was sent to the DLQ: a cancel is not a family's failure.
        expect(record!.dlqEntries).toEqual([]);
        expect(await listDlq(openLake(s4.lake, s4), { date: DATE })).toEqual([]);
      },
      {
        overrideActivities: () => ({
          // Computes that last until the cancel reaches them through their heartbeat.
          async computeFeatureFamily() {
            computing++;
            for (;;) {
              await new Promise((r) => setTimeout(r, 200));
              Context.current().heartbeat();
              if (Context.current().cancellationSignal.aborted) throw new Error('cancelled');
            }
          },
        }),
      },
    );
    await client.connection.close();
  });

  it('the in-process runner runs the same DAG to the same gold', async () => {
    const s3 = testSettings();
    await seed(s3.lake);
    const ctx = createStepContext(s3);
    // The day before first, embeddings only, so that DATE's model has a previous one.
    const before = await runDailyLocal(createSteps(ctx, IN_PROCESS), { date: addDays(DATE, -1), families: ['video_embeddings'] });
    expect(before.familiesLanded).toContain('video_embeddings');
    const report = await runDailyLocal(createSteps(ctx, IN_PROCESS), { date: DATE });
    expect(report.status).toBe('succeeded');
    for (const f of ['user_features', 'item_features', 'session_features', 'temporal_features', 'statistical_features']) {
      expect(await goldRows(ctx.lake, f, DATE)).toEqual(await goldRows(lake, f, DATE));
    }

    // DATE's model is warm-started from the day before's, evaluated with it on DATE's plays against
    // popularity, and its drift from it measured.
    const als = (await readAlsModelReport(ctx.lake, DATE))!;
    expect(als.warmStartedVideos).toBeGreaterThan(0);
    expect(als.videoDrift).not.toBeNull();
    expect(als.heldOut).toMatchObject({ model: addDays(DATE, -1), k: 10 });
    expect(als.heldOut!.users).toBeGreaterThan(0);
    expect(als.heldOut!.recallAtK).toBeGreaterThanOrEqual(0);
    expect(als.heldOut!.popularityRecallAtK).toBeGreaterThanOrEqual(0);
    await ctx.close();
  });

  it('fails with a clear reason when silver is missing after the wait', async () => {
    const client = await testClient(s);
    const missingDate = addDays(DATE, 3);
    await withWorker(s, async () => {
      const started = await startDaily(client, s, { date: missingDate, silverWait: { maxWaitMs: 1500, pollMs: 500 } });
      await expect(started.result()).rejects.toThrow();
      const desc = await started.handle.describe();
      expect(desc.status.name).toBe('FAILED');
    });
    await client.connection.close();
  });
});
