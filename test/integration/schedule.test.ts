// The daily schedule through the real CLI: created, described, triggered by hand (the run computes the
// date derived from its scheduled time), paused and deleted.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { settingsEnv } from '../../src/config/settings.js';
import { Engine } from '../../src/engine/duckdb.js';
import { openLake, paths, readManifest } from '../../src/lake/index.js';
import type { DailyReport } from '../../src/pipeline/types.js';
import { addDays } from '../../src/shared/dates.js';
import { packageRoot } from '../../src/tools/binaries.js';
import { testSettings } from '../support/env.js';
import { writeRandomSilver } from '../support/silver-fixture.js';
import { testClient, withWorker } from '../support/temporal.js';

const run = promisify(execFile);
const LAG = 4; // other test files use the dates 1 and 2 days back: workflow ids stay distinct
const DATE = addDays(new Date().toISOString().slice(0, 10), -LAG);

describe('gold schedule', () => {
  it('a schedule triggered by hand runs the daily job for the right date', async () => {
    const s = testSettings();
    const lake = openLake(s.lake, s);
    const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
    await writeRandomSilver(lake, db, { seed: 3, start: addDays(DATE, -4), days: 5, sessions: 200, users: 20, videos: 15, emptyDays: [] });
    db.close();
    const id = `gold-test-schedule-${randomBytes(3).toString('hex')}`;
    const gold = (...args: string[]) =>
      run(process.execPath, [join(packageRoot, 'bin', 'gold.js'), ...args, '--json'], { env: { ...process.env, ...settingsEnv(s) } }).then((r) =>
        JSON.parse(r.stdout),
      );
    const created = await gold(
      'schedule',
      'create',
      '--id',
      id,
      '--cron',
      '0 2 * * *',
      '--timezone',
      'UTC',
      '--catchup-window',
      '1 day',
      '--overlap',
      'skip',
      '--lag-days',
      String(LAG),
      '--paused',
      '--drift-warn-only',
      '--quarantine-rows',
    );
    expect(created.paused).toBe(true);
    expect(created.spec.cronExpressions ?? created.spec.calendars).toBeDefined();
    const client = await testClient(s);
    try {
      await withWorker(s, async () => {
        await gold('schedule', 'unpause', '--id', id);
        await gold('schedule', 'trigger', '--id', id);
        let report: DailyReport | undefined;
        for (let i = 0; i < 600 && !report; i++) {
          try {
            report = await client.workflow.getHandle(`gold-daily-${DATE}`).result();
          } catch {
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        expect(report?.date).toBe(DATE);
        expect(report?.status).toBe('succeeded');
        expect(await readManifest(lake, paths.gold('user_features', DATE))).not.toBeNull();
        // The schedule's validation overrides reach every run it starts.
        const history = await client.workflow.getHandle(`gold-daily-${DATE}`).fetchHistory();
        const input = JSON.parse(Buffer.from(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!).toString('utf8')) as {
          quality?: unknown;
        };
        expect(input.quality).toEqual({ driftWarnOnly: true, quarantineRows: true });
        const described = await gold('schedule', 'describe', '--id', id);
        expect(described.recentActions.length).toBeGreaterThanOrEqual(1);
        expect(described.nextActionTimes.length).toBeGreaterThan(0);
        await gold('schedule', 'pause', '--id', id, '--note', 'test');
        expect((await gold('schedule', 'describe', '--id', id)).paused).toBe(true);
      });
    } finally {
      await gold('schedule', 'delete', '--id', id);
      await client.connection.close();
      await lake.close();
    }
    await expect(gold('schedule', 'describe', '--id', id)).rejects.toThrow(/no schedule/);
  });
});
