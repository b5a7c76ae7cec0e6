// OpenLineage events of every step kind, built around stand-in steps and validated against the
// vendored spec; run ids, dataset naming, the emitter's transports and its failures.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings, SettingsError } from '../../src/config/settings.js';
import type { Lake } from '../../src/lake/index.js';
import { LakeNotFoundError } from '../../src/lake/lake.js';
import { createLineageEmitter, type LineageEmitter, lineageEndpoint } from '../../src/lineage/emitter.js';
import { lakeDataset, lineageRunId, type RunEvent, runEvent, withQuality } from '../../src/lineage/events.js';
import { goldMetrics } from '../../src/monitoring/metrics.js';
import type { DailyActivities, DailyReport } from '../../src/pipeline/types.js';
import type { StepContext } from '../../src/steps/context.js';
import { withLineage } from '../../src/steps/lineage.js';
import { IN_PROCESS, localRun } from '../../src/steps/runtime.js';
import { openLineageErrors } from '../support/openlineage.js';

const DATE = '2026-03-10';
const WF = { runId: 'wf-run-1', workflowId: 'gold-daily-2026-03-10' };

/** A lake of a few objects in memory. */
function memoryLake(uri: string, objects: Record<string, string> = {}): Lake {
  const m = new Map(Object.entries(objects));
  return {
    uri,
    kind: uri.startsWith('s3://') ? 's3' : 'local',
    read: async (k: string) => {
      if (!m.has(k)) throw new LakeNotFoundError(k, uri);
      return Buffer.from(m.get(k)!);
    },
    write: async (k: string, d: Buffer | string) => void m.set(k, d.toString()),
    objects: m,
  } as unknown as Lake;
}

const report = (status: DailyReport['status']): DailyReport => ({
  date: DATE,
  runId: WF.runId,
  runKind: 'daily',
  status,
  startedAt: 0,
  steps: [],
  slaMisses: [],
  dlqEntries: [],
  familiesLanded: status === 'failed' ? [] : ['user_features'],
});

/** Stand-in steps returning what the real ones return. */
const stubs = (failing: Partial<Record<keyof DailyActivities, Error>> = {}): DailyActivities => {
  const ok =
    <R>(name: keyof DailyActivities, r: R) =>
    async () => {
      if (failing[name]) throw failing[name];
      return r;
    };
  return {
    planDaily: ok('planDaily', { stages: [['user_features']], dependencies: {}, silverReady: true, missing: [], attempt: 1 }),
    buildPartials: ok('buildPartials', { daysComputed: 1, rowsRead: 10, rowsAccepted: 9, rowsQuarantined: 1, attempt: 1 }),
    computeFeatureFamily: ok('computeFeatureFamily', { stagingPath: `staging/user_features/feature_date=${DATE}/run=wf-run-1`, rows: 3, attempt: 1 }),
    stageAcceptedFamily: ok('stageAcceptedFamily', { stagingPath: `staging/user_features/feature_date=${DATE}/run=wf-run-1`, rows: 3, attempt: 1 }),
    validateFeatureFamily: ok('validateFeatureFamily', {
      passed: true,
      qualityScore: 0.9,
      errors: [],
      warnings: [],
      stagingPath: 'x',
      reportPath: 'reports/v.json',
      sampleRows: [],
      attempt: 1,
    }),
    commitFeatureFamily: ok('commitFeatureFamily', { goldPath: `gold/user_features/feature_date=${DATE}`, rows: 3, skipped: false, attempt: 1 }),
    materializeFeatureFamily: ok('materializeFeatureFamily', { rows: 3, written: 3, skippedOlder: 0, attempt: 1 }),
    sendToDlq: ok('sendToDlq', { entryId: 'e1' }),
    consistencySample: ok('consistencySample', { checked: 3, mismatches: 0, missing: 0 }),
    recordRun: ok('recordRun', { path: 'runs/x' }),
    raiseAlert: ok('raiseAlert', undefined),
    closeDlqEntry: ok('closeDlqEntry', undefined),
  } as unknown as DailyActivities;
};

const VALIDATION = {
  rows: 40,
  score: 0.87,
  passed: true,
  features: [
    { name: 'watch_time_7d', nullShare: 0.25 },
    { name: 'sessions_30d', nullShare: 0 },
  ],
};

function capture(): LineageEmitter & { events: RunEvent[] } {
  const events: RunEvent[] = [];
  return { enabled: true, namespace: 'gold', events, emit: async (e) => void events.push(e) };
}

async function runAll(acts: DailyActivities, status: DailyReport['status'] = 'succeeded') {
  const stage = `staging/user_features/feature_date=${DATE}/run=wf-run-1`;
  await acts.planDaily({ date: DATE });
  await acts.buildPartials({ date: DATE, runTime: `${DATE}T01:00:00Z` });
  await acts.computeFeatureFamily({ family: 'user_features', date: DATE, runId: WF.runId, createdAt: `${DATE}T01:00:00Z` });
  await acts.validateFeatureFamily({ family: 'user_features', date: DATE, runId: WF.runId, stagingPath: stage });
  await acts.commitFeatureFamily({ family: 'user_features', date: DATE, runId: WF.runId, stagingPath: stage });
  await acts.materializeFeatureFamily({ family: 'user_features', date: DATE, goldPath: `gold/user_features/feature_date=${DATE}` });
  await acts.consistencySample({ date: DATE, families: ['user_features'], sample: 10 });
  await acts.recordRun({ report: report(status) });
}

describe('OpenLineage events of the steps', () => {
  const lake = memoryLake('s3://bucket/lake', { 'reports/v.json': JSON.stringify(VALIDATION) });
  const ctx = (lineage: LineageEmitter) => ({ lake, lineage }) as unknown as StepContext;

  it('START and COMPLETE of every step, the daily run around them, every event valid', async () => {
    const lineage = capture();
    await localRun.run(WF, () => runAll(withLineage(ctx(lineage), IN_PROCESS, stubs())));
    for (const e of lineage.events) expect(openLineageErrors(e), `${e.job.name} ${e.eventType}`).toEqual([]);

    const daily = lineageRunId('gold.daily', WF.runId);
    const byJob = (job: string) => lineage.events.filter((e) => e.job.name === job).map((e) => e.eventType);
    expect(byJob('gold.daily')).toEqual(['START', 'COMPLETE']);
    for (const job of ['gold.plan', 'gold.partials', 'gold.compute.user_features', 'gold.validate.user_features', 'gold.commit.user_features']) {
      expect(byJob(job), job).toEqual(['START', 'COMPLETE']);
    }
    for (const e of lineage.events.filter((x) => x.job.name !== 'gold.daily')) {
      expect(e.run.facets?.parent).toMatchObject({ run: { runId: daily }, job: { namespace: 'gold', name: 'gold.daily' } });
      expect(e.run.facets?.nominalTime).toMatchObject({ nominalStartTime: `${DATE}T00:00:00.000Z`, nominalEndTime: '2026-03-11T00:00:00.000Z' });
    }
    // A retry reports the same run: the id depends on the workflow run, the job and the date only.
    const compute = lineage.events.filter((e) => e.job.name === 'gold.compute.user_features');
    expect(compute[0]!.run.runId).toBe(compute[1]!.run.runId);
    expect(compute[0]!.run.runId).toBe(lineageRunId('gold.compute.user_features', WF.runId, DATE));

    const done = (job: string) => lineage.events.find((e) => e.job.name === job && e.eventType === 'COMPLETE')!;
    expect(done('gold.partials').inputs).toEqual([{ namespace: 's3://bucket', name: 'lake/silver/events' }]);
    expect(done('gold.partials').outputs.map((d) => d.name)).toContain('lake/partials/user_day');
    const commit = done('gold.commit.user_features');
    expect(commit.inputs.map((d) => d.name)).toEqual(['lake/staging/user_features']);
    expect(commit.outputs[0]).toMatchObject({ namespace: 's3://bucket', name: 'lake/gold/user_features' });
    const fields = (commit.outputs[0]!.facets!.schema as unknown as { fields: { name: string }[] }).fields.map((f) => f.name);
    expect(fields).toEqual(expect.arrayContaining(['user_id', 'feature_timestamp', 'created_timestamp']));
    const validated = done('gold.validate.user_features').inputs[0]!;
    expect(validated.inputFacets?.dataQualityMetrics).toMatchObject({
      rowCount: 40,
      columnMetrics: { watch_time_7d: { nullCount: 10 }, sessions_30d: { nullCount: 0 } },
    });
    expect(validated.inputFacets?.goldQuality).toMatchObject({ score: 0.87, passed: true });
    expect(done('gold.daily').outputs.map((d) => d.name)).toEqual(['lake/gold/user_features']);
  });

  it('a failing step ends with FAIL and still throws its own error; a failed run ends with FAIL', async () => {
    const lineage = capture();
    const acts = withLineage(ctx(lineage), IN_PROCESS, stubs({ commitFeatureFamily: new Error('disk full') }));
    await expect(localRun.run(WF, () => runAll(acts, 'failed'))).rejects.toThrow('disk full');
    const commit = lineage.events.filter((e) => e.job.name === 'gold.commit.user_features');
    expect(commit.map((e) => e.eventType)).toEqual(['START', 'FAIL']);
    expect(commit[1]!.run.facets?.errorMessage).toMatchObject({ message: 'disk full', programmingLanguage: 'TypeScript' });
    const lineage2 = capture();
    const acts2 = withLineage(ctx(lineage2), IN_PROCESS, stubs());
    await localRun.run(WF, () => acts2.recordRun({ report: report('failed') }));
    expect(lineage2.events.filter((e) => e.job.name === 'gold.daily').map((e) => e.eventType)).toEqual(['FAIL']);
    for (const e of [...lineage.events, ...lineage2.events]) expect(openLineageErrors(e)).toEqual([]);
  });

  it('the DLQ and an accepted staging have their events too', async () => {
    const lineage = capture();
    const acts = withLineage(ctx(lineage), IN_PROCESS, stubs());
    await localRun.run(WF, async () => {
      await acts.sendToDlq({ family: 'user_features', date: DATE, runId: WF.runId, workflowId: WF.workflowId, reason: 'validation', error: 'bad' });
      await acts.stageAcceptedFamily({ family: 'user_features', date: DATE, runId: WF.runId, fromPath: 'staging/user_features/feature_date=x/run=y' });
    });
    expect(lineage.events.map((e) => `${e.job.name} ${e.eventType}`)).toEqual([
      'gold.dlq.user_features START',
      'gold.dlq.user_features COMPLETE',
      'gold.compute.user_features START',
      'gold.compute.user_features COMPLETE',
    ]);
    for (const e of lineage.events) expect(openLineageErrors(e)).toEqual([]);
  });

  it('without a URL or a lake log, the steps are left as they are', () => {
    const acts = stubs();
    const none = { enabled: false, namespace: 'gold', emit: async () => undefined };
    expect(withLineage(ctx(none), IN_PROCESS, acts)).toBe(acts);
  });
});

describe('OpenLineage naming and ids', () => {
  it('names datasets by the OpenLineage rules', () => {
    expect(lakeDataset('s3://b/some/prefix/', 'gold/f')).toEqual({ namespace: 's3://b', name: 'some/prefix/gold/f' });
    expect(lakeDataset('s3://b', 'gold/f')).toEqual({ namespace: 's3://b', name: 'gold/f' });
    expect(lakeDataset('/data/lake', 'gold/f')).toEqual({ namespace: 'file', name: '/data/lake/gold/f' });
    expect(lakeDataset('file:///data/lake', 'gold/f')).toEqual({ namespace: 'file', name: '/data/lake/gold/f' });
  });

  it('run ids are version 5 UUIDs, stable for the same parts', () => {
    const id = lineageRunId('gold.commit.user_features', 'run', DATE);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(lineageRunId('gold.commit.user_features', 'run', DATE)).toBe(id);
    expect(lineageRunId('gold.commit.user_features', 'run2', DATE)).not.toBe(id);
  });

  it('the validator catches what is not OpenLineage', () => {
    const e = runEvent('START', { namespace: 'gold', job: 'gold.plan', runId: 'not-a-uuid', date: DATE });
    expect(openLineageErrors(e).join('\n')).toMatch(/uuid/);
    // A facet is checked against its own schema, found by its _schemaURL.
    const bad = withQuality(lakeDataset('/lake', 'staging/f'), { rows: 1.5, score: 1, passed: true, nulls: {} });
    const ok = runEvent('COMPLETE', { namespace: 'gold', job: 'gold.validate.f', runId: lineageRunId('y'), date: DATE }, { inputs: [bad] });
    expect(openLineageErrors(ok).join('\n')).toMatch(/dataQualityMetrics\/rowCount: must be integer/);
  });

  it('the endpoint is /api/v1/lineage unless the URL has a path', () => {
    expect(lineageEndpoint('http://marquez:5000')).toBe('http://marquez:5000/api/v1/lineage');
    expect(lineageEndpoint('https://x.example/custom/path')).toBe('https://x.example/custom/path');
  });
});

describe('the emitter', () => {
  let server: Server;
  let url: string;
  const received: { auth?: string; body: RunEvent }[] = [];
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ auth: req.headers.authorization, body: JSON.parse(body) });
        res.writeHead(req.url === '/api/v1/lineage' ? 201 : 404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const event = () => runEvent('START', { namespace: 'gold', job: 'gold.plan', runId: lineageRunId('x'), date: DATE });
  const count = async (transport: string, result: string) =>
    (await goldMetrics().lineageEvents.get()).values.find((v) => v.labels.transport === transport && v.labels.result === result)?.value ?? 0;

  it('POSTs to the endpoint with the API key, and appends JSON lines to the lake', async () => {
    const lake = memoryLake('/lake');
    const em = createLineageEmitter({ url, apiKey: 's3cret', namespace: 'gold', lakeLog: true }, lake);
    const sent = await count('http', 'sent');
    await em.emit(event(), DATE);
    await em.emit(event(), DATE);
    expect(received.at(-1)).toMatchObject({ auth: 'Bearer s3cret', body: { eventType: 'START' } });
    expect(await count('http', 'sent')).toBe(sent + 2);
    const lines = (await lake.read(`lineage/feature_date=${DATE}/${lineageRunId('x')}.jsonl`)).toString().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(openLineageErrors(JSON.parse(lines[0]!))).toEqual([]);
  });

  it('a sink that refuses, answers an error or is slow is counted, never thrown', async () => {
    const failed = await count('http', 'failed');
    await createLineageEmitter({ url: 'http://127.0.0.1:1', namespace: 'gold' }).emit(event(), DATE);
    await createLineageEmitter({ url: `${url}/wrong`, namespace: 'gold' }).emit(event(), DATE);
    const slow = createServer(() => undefined);
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const t0 = Date.now();
    await createLineageEmitter({ url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`, namespace: 'gold', timeoutMs: 200 }).emit(event(), DATE);
    expect(Date.now() - t0).toBeLessThan(2000);
    slow.closeAllConnections();
    slow.close();
    expect(await count('http', 'failed')).toBe(failed + 3);
  });
});

describe('OpenLineage settings', () => {
  it('defaults, values, and a refused API key never shown', () => {
    expect(loadSettings({}, {})).toMatchObject({ openlineageNamespace: 'gold', openlineageLakeLog: false });
    expect(loadSettings({}, { GOLD_OPENLINEAGE_URL: 'http://marquez:5000', GOLD_OPENLINEAGE_LAKE_LOG: '1' })).toMatchObject({
      openlineageUrl: 'http://marquez:5000',
      openlineageLakeLog: true,
    });
    expect(() => loadSettings({}, { GOLD_OPENLINEAGE_URL: 'marquez:5000' })).toThrow('invalid setting GOLD_OPENLINEAGE_URL=');
    expect(() => loadSettings({}, { GOLD_OPENLINEAGE_LAKE_LOG: 'yes' })).toThrow('invalid setting GOLD_OPENLINEAGE_LAKE_LOG=');
    const bad = () => loadSettings({}, { GOLD_OPENLINEAGE_API_KEY: 'top secret' });
    expect(bad).toThrow(SettingsError);
    expect(bad).toThrow('invalid setting GOLD_OPENLINEAGE_API_KEY="***"');
  });
});
