// A new user's first hour: the demo's week of synthetic silver, its daily run for the last date, then
// `gold backfill` over every demo date, on the real Temporal dev server. Every date lands (the 7- and
// 30-day windows are still filling, which is not drift), no DLQ entry is opened, and `gold report`
// shows the filling windows as such.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineOptions } from '../../src/engine/duckdb.js';
import { openLake } from '../../src/lake/index.js';
import type { BackfillProgress } from '../../src/pipeline/types.js';
import { addDays } from '../../src/shared/dates.js';
import { generateSilver } from '../../src/silver/generator.js';
import { runGold } from '../support/cli.js';
import { testSettings } from '../support/env.js';
import { runDailyUnique, testClient, withWorker } from '../support/temporal.js';

const TO = addDays(new Date().toISOString().slice(0, 10), -1);
const FROM = addDays(TO, -6);

describe('demo, then backfill over the demo dates', () => {
  const s = testSettings();
  const gold = (...args: string[]) =>
    runGold('--lake', s.lake, '--temporal-address', s.temporalAddress, '--task-queue', s.taskQueue, '--log-level', 'error', ...args);

  beforeAll(async () => {
    const lake = openLake(s.lake, s);
    // As `gold demo` makes it, at a tenth of its volume.
    await generateSilver(lake, engineOptions(s), { from: FROM, to: TO, users: 500, videos: 2000, eventsPerDay: 10_000, seed: 1 });
    await lake.close();
  });
  afterAll(() => rmSync(s.home, { recursive: true, force: true }));

  it('lands every date, opens no DLQ entry, and reports the windows as filling', async () => {
    const client = await testClient(s);
    try {
      await withWorker(s, async () => {
        const demo = await runDailyUnique(client, s, { date: TO });
        expect(demo.status).toBe('succeeded');

        const backfill = await gold('--json', 'backfill', '--from', FROM, '--to', TO, '--wait');
        expect(backfill.code).toBe(0);
        const progress = JSON.parse(backfill.out) as BackfillProgress;
        expect(progress.results.filter((r) => r.date !== TO).map((r) => r.status)).toEqual(Array(6).fill('succeeded'));
        expect(progress.results.find((r) => r.date === TO)?.status).toBe('skipped');
      });
    } finally {
      await client.connection.close();
    }
    expect((await gold('dlq', 'list')).out).toContain('no open DLQ entries');

    const first = await gold('report', '--date', FROM, '--out', join(s.home, 'first.html'));
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/user_features +score [0-9.]+ +passed.*; window filling: 1 of 30 days/);
    expect(first.out).toMatch(/session_features +score [0-9.]+ +passed.*; window filling: 1 of 2 days/);
    const last = await gold('--json', 'report', '--date', TO);
    const report = JSON.parse(last.out) as { families: { family: string; validation?: { notes: string[]; passed: boolean } }[] };
    const users = report.families.find((f) => f.family === 'user_features')!.validation!;
    expect(users.passed).toBe(true);
    expect(users.notes).toContain('window filling: 7 of 30 days, not compared for drift');
    // The demo ran this date first: its sessions (a complete 2-day window) had nothing to compare with yet.
    expect(report.families.find((f) => f.family === 'session_features')!.validation!.notes).toEqual([
      `no reference (no committed gold of session_features to compare with before ${TO}): drift checks skipped`,
    ]);
  });
});
