// Accepting a DLQ entry on the real Temporal dev server: a family that failed soft checks only is
// landed as it was staged (no recomputation) by `gold dlq replay --accept`, recorded in the entry, the
// run record and the report; hard failures, entries that are not validation failures, closed entries
// and staged data that is gone are refused with a message naming why.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDlqEntry, checkAcceptable, closeDlqEntry, getDlq, listDlq, replayWorkflowId } from '../../src/dlq/index.js';
import { Engine, parquetScan } from '../../src/engine/duckdb.js';
import { committedFiles, deletePartition, type Lake, openLake, paths, readManifest } from '../../src/lake/index.js';
import { readRunRecords, writeValidationReport } from '../../src/monitoring/run-records.js';
import type { DailyReport } from '../../src/pipeline/types.js';
import type { ValidationReport } from '../../src/quality/report.js';
import { addDays } from '../../src/shared/dates.js';
import { runGold } from '../support/cli.js';
import { testSettings } from '../support/env.js';
import { writeRandomSilver } from '../support/silver-fixture.js';
import { runDailyUnique, testClient, withWorker } from '../support/temporal.js';

const DATE = addDays(new Date().toISOString().slice(0, 10), -3);
const START = addDays(DATE, -2);
// Soft checks made to block: every numeric feature with an IQR "has outliers" at a threshold of 0.
const STRICT_OUTLIERS = { severity: { outliers: 'error' }, thresholds: { outlierShare: { warn: 0 } } } as const;

async function goldRows(lake: Lake, prefix: string): Promise<unknown[]> {
  const keys = await committedFiles(lake, prefix);
  if (!keys) return [];
  const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
  try {
    return await db.all(`SELECT * EXCLUDE (created_timestamp) FROM ${parquetScan(await Promise.all(keys.map((k) => lake.localFile(k))))} ORDER BY ALL`);
  } finally {
    db.close();
  }
}

describe('gold dlq replay --accept', () => {
  const s = testSettings();
  let lake: Lake;
  const gold = (...args: string[]) =>
    runGold('--lake', s.lake, '--temporal-address', s.temporalAddress, '--task-queue', s.taskQueue, '--log-level', 'error', ...args);

  beforeAll(async () => {
    lake = openLake(s.lake, s);
    const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
    await writeRandomSilver(lake, db, { seed: 9, start: START, days: 3, sessions: 400, users: 40, videos: 30, emptyDays: [] });
    db.close();
  });
  afterAll(async () => {
    await lake.close();
    rmSync(s.home, { recursive: true, force: true });
  });

  it('lands the staged data of a soft failure as it is, and records who accepted it and why', async () => {
    const client = await testClient(s);
    try {
      await withWorker(s, async () => {
        const failed = await runDailyUnique(client, s, { date: DATE, families: ['temporal_features'], quality: STRICT_OUTLIERS });
        expect(failed.status).toBe('failed');
        const [entry] = await listDlq(lake, { status: 'open', family: 'temporal_features', date: DATE });
        expect(entry?.reason).toBe('validation');
        const staged = paths.staging('temporal_features', DATE, entry!.runId);
        const stagedRows = await goldRows(lake, staged);
        expect(stagedRows.length).toBeGreaterThan(0);
        expect(await committedFiles(lake, paths.gold('temporal_features', DATE))).toBeNull();

        const noReason = await gold('dlq', 'replay', entry!.id, '--accept');
        expect(noReason.code).toBe(1);
        expect(noReason.err).toMatch(/--accept needs --reason/);

        const r = await gold('--json', 'dlq', 'replay', entry!.id, '--accept', '--reason', 'heavy tails checked by hand', '--by', 'alice');
        expect(r.err).toBe('');
        const started = JSON.parse(r.out) as { workflowId: string; accepted: { stagingPath: string; failedChecks: string[] } };
        expect(started.workflowId).toBe(replayWorkflowId(entry!));
        expect(started.accepted.stagingPath).toBe(staged);
        expect(started.accepted.failedChecks.every((m) => /outside the IQR fences/.test(m))).toBe(true);

        const landed = (await client.workflow.getHandle(started.workflowId).result()) as DailyReport;
        expect(landed.status).toBe('succeeded');
        // With the family that depends on it (and what that one needs), computed and validated as usual.
        expect(landed.familiesLanded).toEqual(expect.arrayContaining(['temporal_features', 'statistical_features']));
        expect(
          landed.steps
            .filter((x) => x.step === 'validate' && x.family !== 'temporal_features')
            .every((x) => x.status === 'succeeded' && !/accepted/.test(x.detail ?? '')),
        ).toBe(true);
        expect(landed.accepted).toMatchObject({
          family: 'temporal_features',
          acceptedBy: 'alice',
          reason: 'heavy tails checked by hand',
          dlqEntryId: entry!.id,
        });
        // No recomputation, no validation: the staged rows are the gold rows.
        expect(landed.steps.some((x) => x.step === 'validate' && x.family === 'temporal_features' && /accepted as it is by alice/.test(x.detail ?? ''))).toBe(
          true,
        );
        expect(await goldRows(lake, paths.gold('temporal_features', DATE))).toEqual(stagedRows);
        expect((await readManifest(lake, paths.staging('temporal_features', DATE, landed.runId)))?.meta.acceptedFrom).toBe(staged);

        const closed = await getDlq(lake, entry!.id);
        expect(closed).toMatchObject({
          status: 'closed',
          closedBy: landed.runId,
          accepted: { by: 'alice', reason: 'heavy tails checked by hand', workflowId: started.workflowId },
        });
        const record = (await readRunRecords(lake, DATE)).find((x) => x.runId === landed.runId);
        expect(record?.accepted).toMatchObject({ acceptedBy: 'alice', reason: 'heavy tails checked by hand' });
        const report = await gold('report', '--date', DATE, '--out', `${s.home}/report.html`);
        expect(report.out).toContain(`accepted in run ${landed.runId}: temporal_features landed as it was staged, by alice: heavy tails checked by hand`);

        // Closed now: a second acceptance is refused.
        const again = await gold('dlq', 'replay', entry!.id, '--accept', '--reason', 'again');
        expect(again.code).toBe(1);
        expect(again.err).toMatch(/cannot be accepted: it is closed/);
      });
    } finally {
      await client.connection.close();
    }
  });

  it('refuses hard failures, failures other than validation, and staged data that is gone', async () => {
    const date = '2024-05-01';
    const runId = 'run-hard';
    const entryId = await addDlqEntry(lake, { family: 'user_features', date, runId, reason: 'validation', error: 'range and psi' });
    const report = (failed: ValidationReport['failed']) =>
      ({
        family: 'user_features',
        version: 1,
        date,
        runId,
        validatedAt: new Date().toISOString(),
        passed: false,
        score: 0.5,
        rows: 1,
        badRowShare: 0,
        reference: { kind: 'same_weekday', dates: [], rows: 0 },
        checksRun: 2,
        thresholds: {},
        failed,
        warned: [],
        features: [],
        notes: [],
        seconds: 0,
      }) as unknown as ValidationReport;
    const psi = { check: 'psi', feature: 'watch_time_1d', severity: 'error', message: 'user_features.watch_time_1d: PSI 0.4' } as const;
    const range = { check: 'range', feature: 'watch_time_1d', severity: 'error', message: 'user_features.watch_time_1d: 3 row(s) outside [0, +inf)' } as const;
    await expect(checkAcceptable(lake, await getDlq(lake, entryId))).rejects.toThrow(/no validation report of run run-hard/);

    await writeValidationReport(lake, report([psi, range]));
    await expect(checkAcceptable(lake, await getDlq(lake, entryId))).rejects.toThrow(
      /hard checks failed, which are never landed as they are: user_features.watch_time_1d: 3 row\(s\) outside/,
    );

    await writeValidationReport(lake, report([psi]));
    await expect(checkAcceptable(lake, await getDlq(lake, entryId))).rejects.toThrow(
      /staged data .*staging\/user_features\/feature_date=2024-05-01\/run=run-hard is no longer there/,
    );

    const other = await addDlqEntry(lake, { family: 'user_features', date, runId: 'run-crash', reason: 'retries_exhausted', error: 'worker lost' });
    await expect(checkAcceptable(lake, await getDlq(lake, other))).rejects.toThrow(/failed with retries_exhausted, not validation/);
    const cli = await gold('dlq', 'replay', other, '--accept', '--reason', 'x');
    expect(cli.code).toBe(1);
    expect(cli.err).toMatch(/^gold: DLQ entry .* cannot be accepted: it failed with retries_exhausted/);
    await closeDlqEntry(lake, entryId, { closedBy: 'test' });
    await deletePartition(lake, paths.staging('user_features', date, runId));
  });
});
