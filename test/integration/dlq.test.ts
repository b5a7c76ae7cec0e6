// The dead-letter queue: entries round trip on a local lake and on S3, survive reopening the lake, are
// idempotent per family/date/run; replay starts the daily workflow on the real Temporal dev server; the
// CLI lists, shows, replays and closes them.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { addDlqEntry, closeDlqEntry, type DlqEntryInput, DlqEntryNotFoundError, dlqEntryId, getDlq, listDlq, replayWorkflowId } from '../../src/dlq/index.js';
import { type Lake, openLake, paths } from '../../src/lake/index.js';
import { goldMetrics } from '../../src/monitoring/metrics.js';
import { setLogLevel } from '../../src/shared/logger.js';
import { connectClient, withClient } from '../../src/temporal/connection.js';
import { FEATURE_DATE, RUN_KIND } from '../../src/temporal/search-attributes.js';
import { startReplay } from '../../src/temporal/workflows.js';
import { runGold } from '../support/cli.js';
import { s3LakeUri, tempDir, testSettings } from '../support/env.js';

setLogLevel('error');
const dirs: string[] = [];
const lakes: Lake[] = [];
afterAll(async () => {
  for (const l of lakes) await l.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function localLake(root = tempDir('gold-dlq-')): Lake {
  dirs.push(root);
  const l = openLake(root, { s3CacheDir: join(root, '.cache'), s3CacheMaxBytes: 1e8 });
  lakes.push(l);
  return l;
}

const input = (over: Partial<DlqEntryInput> = {}): DlqEntryInput => ({
  family: 'user_features',
  date: '2024-03-01',
  runId: 'run-1',
  workflowId: 'gold-daily-2024-03-01',
  reason: 'validation',
  error: 'user_features.watch_time_7d: 3 row(s) outside [0, +inf)',
  sampleRows: [{ user_id: 'u1', watch_time_7d: -1 }],
  dataPath: 'staging/user_features/feature_date=2024-03-01/run=run-1',
  ...over,
});

const kinds: [string, () => Lake][] = [
  ['local', () => localLake()],
  [
    's3',
    () => {
      const l = openLake(s3LakeUri(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e8 });
      lakes.push(l);
      return l;
    },
  ],
];

describe.each(kinds)('DLQ on a %s lake', (_kind, make) => {
  it('adds, lists, shows and closes entries', async () => {
    const lake = make();
    const id = await addDlqEntry(lake, input());
    expect(id).toBe(dlqEntryId('user_features', '2024-03-01', 'run-1'));
    expect(id).toMatch(/^user_features-2024-03-01-[0-9a-f]{10}$/);
    const other = await addDlqEntry(
      lake,
      input({ family: 'item_features', runId: 'run-2', reason: 'retries_exhausted', sampleRows: undefined, dataPath: undefined }),
    );

    const open = await listDlq(lake, { status: 'open' });
    expect(open.map((e) => e.id).sort()).toEqual([id, other].sort());
    const e = await getDlq(lake, id);
    expect(e).toMatchObject({ ...input(), id, status: 'open', replays: [] });
    expect(Date.parse(e.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(await listDlq(lake, { family: 'item_features' })).toHaveLength(1);
    expect(await listDlq(lake, { date: '2024-03-02' })).toHaveLength(0);

    const closed = await closeDlqEntry(lake, id, { closedBy: 'run-replay-1' });
    expect(closed).toMatchObject({ status: 'closed', closedBy: 'run-replay-1' });
    expect((await listDlq(lake, { status: 'open' })).map((x) => x.id)).toEqual([other]);
    expect((await listDlq(lake, { status: 'closed' })).map((x) => x.id)).toEqual([id]);
    // closing again changes nothing
    const again = await closeDlqEntry(lake, id, { closedBy: 'someone-else' });
    expect(again).toEqual(closed);
  });

  it('writes one entry per family, date and run, whatever the retries', async () => {
    const lake = make();
    const first = await addDlqEntry(lake, input());
    const second = await addDlqEntry(lake, input({ error: 'a retry with another message' }));
    expect(second).toBe(first);
    expect((await lake.list(paths.dlq)).filter((x) => x.key.endsWith('.json'))).toHaveLength(1);
    expect((await getDlq(lake, first)).error).toBe(input().error);
    expect(await addDlqEntry(lake, input({ runId: 'run-9' }))).not.toBe(first);
  });
});

describe('DLQ entries', () => {
  it('survive reopening the lake (a restart)', async () => {
    const root = tempDir('gold-dlq-');
    const id = await addDlqEntry(localLake(root), input());
    const reopened = localLake(root);
    expect((await getDlq(reopened, id)).status).toBe('open');
  });

  it('keep at most 5 JSON-safe sample rows of bounded size', async () => {
    const lake = localLake();
    const rows = Array.from({ length: 9 }, (_, i) => ({ id: BigInt(i) * 10n ** 20n, blob: 'x'.repeat(i === 4 ? 20_000 : 10) }));
    const id = await addDlqEntry(lake, input({ sampleRows: rows }));
    const e = await getDlq(lake, id);
    expect(e.sampleRows).toEqual([0, 1, 2, 3].map((i) => ({ id: (BigInt(i) * 10n ** 20n).toString(), blob: 'x'.repeat(10) })));
  });

  it('count in the metrics when created, not when repeated', async () => {
    const lake = localLake();
    const counter = goldMetrics().dlqEntries;
    const before = (await counter.get()).values.find((v) => v.labels.family === 'session_features')?.value ?? 0;
    await addDlqEntry(lake, input({ family: 'session_features' }));
    await addDlqEntry(lake, input({ family: 'session_features' }));
    expect((await counter.get()).values.find((v) => v.labels.family === 'session_features')?.value).toBe(before + 1);
  });

  it('refuse bad input and unknown ids with clear errors', async () => {
    const lake = localLake();
    await expect(addDlqEntry(lake, input({ family: '../etc' }))).rejects.toThrow(/invalid DLQ family/);
    await expect(addDlqEntry(lake, input({ date: '2024-02-30' }))).rejects.toThrow(/invalid date/);
    await expect(addDlqEntry(lake, input({ reason: 'oops' as never }))).rejects.toThrow(/invalid DLQ reason 'oops'/);
    await expect(addDlqEntry(lake, input({ error: ' ' }))).rejects.toThrow(/needs an error/);
    await expect(getDlq(lake, 'nope-2024-03-01-0000000000')).rejects.toThrow(DlqEntryNotFoundError);
    await expect(getDlq(lake, '../../x')).rejects.toThrow(/invalid DLQ entry id/);
    await expect(closeDlqEntry(lake, 'nope', { closedBy: 'me' })).rejects.toThrow(/no DLQ entry 'nope'/);
    const id = await addDlqEntry(lake, input());
    await expect(closeDlqEntry(lake, id, { closedBy: '' })).rejects.toThrow(/needs closedBy/);
    await lake.write(paths.dlqEntry('broken'), '{not json');
    await expect(listDlq(lake)).rejects.toThrow(/corrupt DLQ entry dlq\/broken\.json/);
  });
});

describe('DLQ replay through Temporal', () => {
  it("starts the daily workflow for the entry's family and date, once, as a replay", async () => {
    const s = testSettings();
    const lake = localLake();
    const entry = await getDlq(lake, await addDlqEntry(lake, input()));
    const started = await withClient(s, (client) => startReplay(client, s, entry));
    expect(started.workflowId).toBe(`gold-replay-user_features-2024-03-01-${entry.id.slice(-10)}`);
    expect(started.workflowId).toBe(replayWorkflowId(entry));
    expect(started.alreadyRunning).toBe(false);

    const client = await connectClient(s);
    try {
      const handle = client.workflow.getHandle(started.workflowId);
      const d = await handle.describe();
      expect(d.type).toBe('dailyGoldWorkflow');
      expect(d.taskQueue).toBe(s.taskQueue);
      expect(d.typedSearchAttributes.get(RUN_KIND)).toBe('replay');
      expect(d.typedSearchAttributes.get(FEATURE_DATE)).toBe('2024-03-01');
      const history = await handle.fetchHistory();
      const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      // With the family that depends on it: user_features' failure skipped statistical_features.
      expect(JSON.parse(Buffer.from(payload.data!).toString('utf8'))).toEqual({
        date: '2024-03-01',
        families: ['user_features', 'statistical_features'],
        runKind: 'replay',
        dlqEntryId: entry.id,
      });

      const again = await withClient(s, (client) => startReplay(client, s, entry));
      expect(again).toEqual({ workflowId: started.workflowId, runId: started.runId, alreadyRunning: true });
      await handle.terminate('test done');
    } finally {
      await client.connection.close();
    }

    const closed = await closeDlqEntry(lake, entry.id, { closedBy: 'test' });
    await expect(withClient(s, (client) => startReplay(client, s, closed))).rejects.toThrow(/is closed .*nothing to replay/);
  });
});

describe('gold dlq (CLI)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = 0;
  });

  async function gold(lakeRoot: string, ...args: string[]) {
    const s = testSettings();
    return runGold('--lake', lakeRoot, '--temporal-address', s.temporalAddress, '--task-queue', s.taskQueue, '--log-level', 'error', ...args);
  }

  it('lists, shows, replays and closes entries; fails in one line on an unknown id', async () => {
    const root = tempDir('gold-dlq-cli-');
    const lake = localLake(root);
    const id = await addDlqEntry(lake, input());

    const list = await gold(root, 'dlq', 'list');
    expect(list.code).toBe(0);
    expect(list.out).toContain(id);
    expect(list.out).toContain('validation');
    expect(JSON.parse((await gold(root, '--json', 'dlq', 'list')).out)).toHaveLength(1);

    const show = await gold(root, 'dlq', 'show', id);
    expect(show.out).toContain('user_features');
    expect(show.out).toContain('data kept   staging/user_features/feature_date=2024-03-01/run=run-1');
    expect(show.out).toContain('{"user_id":"u1","watch_time_7d":-1}');

    const replay = await gold(root, '--json', 'dlq', 'replay', id);
    expect(replay.err).toBe('');
    const started = JSON.parse(replay.out) as { workflowId: string; alreadyRunning: boolean };
    expect(started).toMatchObject({ workflowId: replayWorkflowId({ id, family: 'user_features', date: '2024-03-01' }), alreadyRunning: false });
    expect((await getDlq(lake, id)).replays.map((r) => r.workflowId)).toEqual([started.workflowId]);
    const client = await connectClient(testSettings());
    await client.workflow.getHandle(started.workflowId).terminate('test done');
    await client.connection.close();

    const close = await gold(root, 'dlq', 'close', id, '--by', 'alice');
    expect(close.out).toMatch(/^closed user_features-2024-03-01-\w+ \(by alice at 20/);
    expect((await gold(root, 'dlq', 'list')).out).toContain('no open DLQ entries');
    expect((await gold(root, 'dlq', 'list', '--status', 'closed')).out).toContain(id);

    const missing = await gold(root, 'dlq', 'show', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.err).toBe(`gold: no DLQ entry 'nope' in lake ${root} (gold dlq list shows them)\n`);
    const bad = await gold(root, 'dlq', 'list', '--status', 'maybe').catch((e: Error) => ({ out: '', err: e.message, code: 1 }));
    expect(bad.err).toMatch(/invalid --status 'maybe'/);
  });
});
