// Crashes lose nothing: a worker killed with SIGKILL in the middle of a family activity, and the
// Temporal dev server stopped and restarted (state file kept) in the middle of a backfill.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, parquetScan } from '../../src/engine/duckdb.js';
import { committedFiles, type Lake, openLake, paths } from '../../src/lake/index.js';
import { openOnlineStore } from '../../src/online/open.js';
import { onlineViews } from '../../src/online/views.js';
import type { DailyReport } from '../../src/pipeline/types.js';
import { addDays } from '../../src/shared/dates.js';
import { startBackfill, startDaily } from '../../src/temporal/workflows.js';
import { testSettings } from '../support/env.js';
import { freePort, startRedis, startTemporal, stopChild } from '../support/servers.js';
import { writeRandomSilver } from '../support/silver-fixture.js';
import { spawnWorkerProcess, testClient } from '../support/temporal.js';

const DAYS = 6;
// Recent dates (online values within TTL), other than the other test files' so that workflow ids differ.
const DATE = addDays(new Date().toISOString().slice(0, 10), -2);
const START = addDays(DATE, -(DAYS - 1));
const FAMILIES = ['user_features', 'item_features', 'session_features', 'temporal_features', 'statistical_features'];
const SHORT_HEARTBEAT = {
  compute: { heartbeatMs: 3000, initialIntervalMs: 200 },
  partials: { heartbeatMs: 3000, initialIntervalMs: 200 },
  validate: { heartbeatMs: 3000 },
  commit: { heartbeatMs: 3000 },
  materialize: { heartbeatMs: 3000 },
};

async function seed(lakeUri: string, s: { s3CacheDir: string; s3CacheMaxBytes: number }): Promise<void> {
  const lake = openLake(lakeUri, s);
  const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
  await writeRandomSilver(lake, db, { seed: 21, start: START, days: DAYS, sessions: 3000, users: 300, videos: 80, emptyDays: [] });
  db.close();
  await lake.close();
}

async function goldContents(lake: Lake, date: string): Promise<Record<string, unknown[]>> {
  const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
  const out: Record<string, unknown[]> = {};
  try {
    for (const f of FAMILIES) {
      const keys = (await committedFiles(lake, paths.gold(f, date))) ?? [];
      const files = await Promise.all(keys.map((k) => lake.localFile(k)));
      out[f] = files.length ? await db.all(`SELECT * EXCLUDE (created_timestamp) FROM ${parquetScan(files)} ORDER BY ALL`) : [];
    }
  } finally {
    db.close();
  }
  return out;
}

async function onlineContents(s: ReturnType<typeof testSettings>, lake: Lake, gold: Record<string, unknown[]>): Promise<unknown[]> {
  const store = openOnlineStore(s.onlineStore, s.home);
  try {
    const views = await onlineViews(lake);
    const out: unknown[] = [];
    for (const v of views.filter((x) => FAMILIES.includes(x.name))) {
      const keys = (gold[v.name] as Record<string, unknown>[]).map((r) => v.keys.map((k) => String(r[k])).join('|'));
      const [rows] = await store.read([{ view: v, entityKeys: keys }], Date.parse(`${addDays(DATE, 1)}T00:00:00Z`));
      out.push(rows!.map((r) => [r.entityKey, r.status, r.values]));
    }
    return out;
  } finally {
    await store.close();
  }
}

describe('durability', () => {
  it('a worker killed with SIGKILL mid-activity and restarted: the run completes with identical gold and online contents', async () => {
    const reference = testSettings();
    const crashed = testSettings();
    await seed(reference.lake, reference);
    await seed(crashed.lake, crashed);
    const client = await testClient(reference);

    // The run without a crash.
    let worker = spawnWorkerProcess(reference);
    const ok = await (await startDaily(client, reference, { date: DATE, policies: SHORT_HEARTBEAT })).result();
    await stopChild(worker);
    expect(ok.status).toBe('succeeded');

    // The same run with the worker killed while a family activity runs.
    worker = spawnWorkerProcess(crashed);
    const started = await startDaily(client, crashed, { date: DATE, policies: SHORT_HEARTBEAT }, { rerun: true });
    let killedDuring: string | undefined;
    for (let i = 0; i < 600 && !killedDuring; i++) {
      const desc = await started.handle.describe();
      const pending = (desc.raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'computeFeatureFamily' && a.state === 2 /* STARTED */);
      if (pending) {
        worker.kill('SIGKILL');
        killedDuring = pending.activityType!.name!;
      } else await new Promise((r) => setTimeout(r, 25));
    }
    expect(killedDuring).toBe('computeFeatureFamily');
    await new Promise<void>((r) => worker.once('exit', () => r()));
    worker = spawnWorkerProcess(crashed, 'worker-2.log');
    const report: DailyReport = await started.result();
    await stopChild(worker);
    expect(report.status).toBe('succeeded');
    expect(report.steps.some((st) => st.step === 'compute' && st.attempts > 1)).toBe(true);

    const refLake = openLake(reference.lake, reference);
    const crashLake = openLake(crashed.lake, crashed);
    const refGold = await goldContents(refLake, DATE);
    const crashGold = await goldContents(crashLake, DATE);
    for (const f of FAMILIES) expect((refGold[f] as unknown[]).length).toBeGreaterThan(0);
    expect(crashGold).toEqual(refGold);
    expect(await onlineContents(crashed, crashLake, crashGold)).toEqual(await onlineContents(reference, refLake, refGold));
    await client.connection.close();
  });

  it('a worker that wrote to Redis stops on SIGTERM, its connections closed', async () => {
    const redis = await startRedis();
    const s = testSettings({ onlineStore: redis.url });
    await seed(s.lake, s);
    const client = await testClient(s);
    const worker = spawnWorkerProcess(s);
    try {
      const report = await (await startDaily(client, s, { date: DATE, families: ['temporal_features'], policies: SHORT_HEARTBEAT }, { rerun: true })).result();
      expect(report.familiesLanded).toEqual(['temporal_features']);
      expect(report.steps.find((x) => x.step === 'materialize')!.rows).toBeGreaterThan(0);
      const t0 = Date.now();
      const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => worker.once('exit', (code, signal) => r({ code, signal })));
      worker.kill('SIGTERM');
      const killer = setTimeout(() => worker.kill('SIGKILL'), 20_000);
      const how = await exit;
      clearTimeout(killer);
      // Stopped by itself (not killed), well within the shutdown grace.
      expect(how).toEqual({ code: 0, signal: null });
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      await stopChild(worker);
      await client.connection.close();
      await redis.stop();
    }
  });

  it('the Temporal dev server stopped and restarted mid-backfill: the backfill completes', async () => {
    const dbFile = join(mkdtempSync(join(tmpdir(), 'gold-temporal-state-')), 'temporal.db');
    const port = await freePort();
    let server = await startTemporal({ dbFile, port });
    const s = testSettings({ temporalAddress: server.address });
    await seed(s.lake, s);
    const worker = spawnWorkerProcess(s);
    try {
      let client = await testClient(s);
      const started = await startBackfill(client, s, {
        from: addDays(START, 2),
        to: DATE,
        families: ['user_features', 'temporal_features'],
        concurrency: 1,
        policies: SHORT_HEARTBEAT,
      });
      // Wait until the first date has finished, then take the server away.
      for (let i = 0; i < 600; i++) {
        const p = await started.handle.query<{ results: unknown[] }>('progress').catch(() => ({ results: [] }));
        if (p.results.length >= 1) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await client.connection.close();
      await server.stop();
      await new Promise((r) => setTimeout(r, 2000));
      server = await startTemporal({ dbFile, port });
      client = await testClient(s);
      const result = await client.workflow.getHandle(started.workflowId).result();
      expect(result.results).toEqual(Array(4).fill(expect.objectContaining({ status: 'succeeded' })));
      await client.connection.close();
    } finally {
      await stopChild(worker);
      await server.stop();
    }
  });
});
