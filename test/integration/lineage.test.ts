// OpenLineage from a daily run in process (the same steps as on Temporal): a sink started here receives
// START and a terminal event for every step, with the lake datasets they read and write, and every
// event validates against the OpenLineage 2-0-2 schema; the lake log holds the same events; and a
// sink that is down makes no run fail, its failures counted.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/duckdb.js';
import { type Lake, openLake } from '../../src/lake/index.js';
import { lineageRunId, type RunEvent } from '../../src/lineage/events.js';
import { goldMetrics } from '../../src/monitoring/metrics.js';
import type { DailyReport, StepReport } from '../../src/pipeline/types.js';
import { addDays } from '../../src/shared/dates.js';
import { createStepContext } from '../../src/steps/context.js';
import { createSteps, IN_PROCESS } from '../../src/steps/index.js';
import { runDailyLocal } from '../../src/steps/local-runner.js';
import { s3LakeUri, testSettings } from '../support/env.js';
import { openLineageErrors } from '../support/openlineage.js';
import { writeRandomSilver } from '../support/silver-fixture.js';
import { runDailyUnique, testClient, withWorker } from '../support/temporal.js';

const DAYS = 5;
const DATE = addDays(new Date().toISOString().slice(0, 10), -1);
const FAMILIES = ['user_features', 'item_features'];

async function seed(lake: Lake): Promise<void> {
  const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
  try {
    await writeRandomSilver(lake, db, { seed: 11, start: addDays(DATE, -(DAYS - 1)), days: DAYS, sessions: 200, users: 30, videos: 20, emptyDays: [] });
  } finally {
    db.close();
  }
}

/** The job of a step of the report. */
function jobOf(s: StepReport): string {
  const name = { plan: 'gold.plan', partials: 'gold.partials', metrics: 'gold.record_run', consistency: 'gold.consistency' }[s.step as string];
  return name ?? `gold.${s.step}.${s.family}`;
}

async function sinkDownFailures(): Promise<number> {
  return (await goldMetrics().lineageEvents.get()).values.find((v) => v.labels.transport === 'http' && v.labels.result === 'failed')?.value ?? 0;
}

describe('OpenLineage of a daily run', () => {
  let sink: Server;
  let sinkUrl: string;
  const received: RunEvent[] = [];

  beforeAll(async () => {
    sink = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/api/v1/lineage') received.push(JSON.parse(body) as RunEvent);
        res.writeHead(req.url === '/api/v1/lineage' ? 201 : 404).end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => sink.close(() => r())));

  it.each(['local', 's3'])('START and a terminal event for every step, with its datasets, every event valid (%s lake)', async (kind) => {
    received.length = 0;
    const s = testSettings({ openlineageUrl: sinkUrl, openlineageLakeLog: '1', ...(kind === 's3' ? { lake: s3LakeUri() } : {}) });
    const lake = openLake(s.lake, s);
    await seed(lake);
    const ctx = createStepContext(s);
    let report: DailyReport;
    try {
      report = await runDailyLocal(createSteps(ctx, IN_PROCESS), { date: DATE, families: FAMILIES });
    } finally {
      await ctx.close();
    }
    expect(report.status).toBe('succeeded');

    for (const e of received) expect(openLineageErrors(e), `${e.job.name} ${e.eventType}`).toEqual([]);
    const events = (job: string) => received.filter((e) => e.job.name === job);

    // The daily run: START first, COMPLETE last, and the parent of every other run.
    const daily = events('gold.daily');
    expect(daily.map((e) => e.eventType)).toEqual(['START', 'COMPLETE']);
    expect(received[0]).toBe(daily[0]);
    expect(received.at(-1)).toBe(daily[1]);
    const dailyRunId = daily[0]!.run.runId;
    expect(daily[1]!.run.runId).toBe(dailyRunId);
    expect(daily[0]!.run.facets?.nominalTime).toMatchObject({ nominalStartTime: `${DATE}T00:00:00.000Z` });

    // Every step the report holds (the accepted-staging "validate" has no step run) has its START and terminal.
    const ran = report.steps.filter((x) => x.status === 'succeeded' || x.status === 'failed');
    expect(ran.length).toBeGreaterThanOrEqual(2 + FAMILIES.length * 4 + 1);
    for (const step of ran) {
      const evs = events(jobOf(step));
      expect(
        evs.map((e) => e.eventType),
        jobOf(step),
      ).toEqual(['START', step.status === 'succeeded' ? 'COMPLETE' : 'FAIL']);
      expect(evs[0]!.run.runId).toBe(evs[1]!.run.runId);
      expect(evs[0]!.run.facets?.parent).toMatchObject({ run: { runId: dailyRunId }, job: { name: 'gold.daily' } });
    }
    // Nothing else was emitted: two events per step run, and two of the daily run.
    expect(received).toHaveLength(2 * ran.length + 2);

    // Datasets: a local lake is the `file` namespace, named by absolute path; S3 is s3://bucket, named by key.
    const bucket = /^s3:\/\/([^/]+)\/(.*)$/.exec(s.lake);
    const at = (key: string) => (bucket ? { namespace: `s3://${bucket[1]}`, name: `${bucket[2]}/${key}` } : { namespace: 'file', name: `${s.lake}/${key}` });
    const complete = (job: string) => events(job).find((e) => e.eventType === 'COMPLETE')!;
    expect(complete('gold.partials').inputs).toEqual([at('silver/events')]);
    expect(complete('gold.partials').outputs).toEqual(expect.arrayContaining([expect.objectContaining(at('partials/user_day'))]));
    for (const f of FAMILIES) {
      expect(complete(`gold.compute.${f}`).outputs).toEqual([expect.objectContaining(at(`staging/${f}`))]);
      const validated = complete(`gold.validate.${f}`).inputs[0]!;
      expect(validated).toMatchObject(at(`staging/${f}`));
      expect(validated.inputFacets?.dataQualityMetrics).toMatchObject({ rowCount: expect.any(Number), columnMetrics: expect.any(Object) });
      expect(validated.inputFacets?.goldQuality).toMatchObject({ score: report.steps.find((x) => x.step === 'validate' && x.family === f)!.qualityScore });
      const commit = complete(`gold.commit.${f}`);
      expect(commit.inputs).toEqual([expect.objectContaining(at(`staging/${f}`))]);
      expect(commit.outputs).toEqual([expect.objectContaining(at(`gold/${f}`))]);
      expect(commit.outputs[0]!.facets?.schema).toBeDefined();
      expect(complete(`gold.materialize.${f}`).inputs).toEqual([expect.objectContaining(at(`gold/${f}`))]);
    }
    expect(daily[1]!.outputs.map((d) => d.name).sort()).toEqual(FAMILIES.map((f) => at(`gold/${f}`).name).sort());

    // The lake log holds the same events, one file per run.
    const logged: RunEvent[] = [];
    for (const e of await lake.list(`lineage/feature_date=${DATE}`)) {
      const text = (await lake.read(e.key)).toString('utf8');
      logged.push(
        ...text
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as RunEvent),
      );
    }
    expect(logged).toHaveLength(received.length);
    for (const e of logged) expect(openLineageErrors(e)).toEqual([]);
    await lake.close();
  });

  it('on Temporal, the same events, the daily run identified by the workflow run id', async () => {
    received.length = 0;
    const s = testSettings({ openlineageUrl: sinkUrl });
    const lake = openLake(s.lake, s);
    await seed(lake);
    await lake.close();
    const client = await testClient(s);
    try {
      const report = await withWorker(s, () => runDailyUnique(client, s, { date: DATE, families: ['user_features'] }));
      expect(report.status).toBe('succeeded');
      for (const e of received) expect(openLineageErrors(e), `${e.job.name} ${e.eventType}`).toEqual([]);
      const dailyRunId = lineageRunId('gold.daily', report.runId);
      expect(received.filter((e) => e.job.name === 'gold.daily').map((e) => [e.eventType, e.run.runId])).toEqual([
        ['START', dailyRunId],
        ['COMPLETE', dailyRunId],
      ]);
      const ran = report.steps.filter((x) => x.status === 'succeeded');
      for (const step of ran) {
        const evs = received.filter((e) => e.job.name === jobOf(step));
        expect(
          evs.map((e) => e.eventType),
          jobOf(step),
        ).toEqual(['START', 'COMPLETE']);
        expect(evs[1]!.run.facets?.parent).toMatchObject({ run: { runId: dailyRunId } });
      }
      expect(received).toHaveLength(2 * ran.length + 2);
    } finally {
      await client.connection.close();
    }
  });

  it('a sink that is down fails no run: its failures are counted', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));

    const s = testSettings({ openlineageUrl: `http://127.0.0.1:${port}` });
    const lake = openLake(s.lake, s);
    await seed(lake);
    await lake.close();
    const before = await sinkDownFailures();
    const ctx = createStepContext(s);
    try {
      const report = await runDailyLocal(createSteps(ctx, IN_PROCESS), { date: DATE, families: ['user_features'] });
      expect(report.status).toBe('succeeded');
      const ran = report.steps.filter((x) => x.status === 'succeeded').length;
      expect(await sinkDownFailures()).toBe(before + 2 * ran + 2);
    } finally {
      await ctx.close();
    }
  });
});
