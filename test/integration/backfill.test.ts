// Backfills on the real dev server: a sliding window of child workflows, skipping what is committed,
// the progress query and the control signals.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/duckdb.js';
import { ensurePartials } from '../../src/features/partials/build.js';
import { commitPartition, type Lake, openLake, paths, readManifest } from '../../src/lake/index.js';
import type { BackfillProgress } from '../../src/pipeline/types.js';
import { addDays } from '../../src/shared/dates.js';
import { startBackfill } from '../../src/temporal/workflows.js';
import { tempDir, testSettings } from '../support/env.js';
import { writeRandomSilver } from '../support/silver-fixture.js';
import { testClient, withWorker } from '../support/temporal.js';

const START = '2026-04-01';
const DAYS = 8;

/** One more event on a date, as late data arrives: a like, committed into the date's silver. */
async function addLateEvent(lake: Lake, date: string, id: string): Promise<void> {
  const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
  const file = join(tempDir(), `${id}.parquet`);
  await db.run(`COPY (SELECT '${id}' AS event_id, TIMESTAMP '${date} 12:00:00' AS event_timestamp, 'late-user' AS user_id, 'late-session' AS session_id,
    'late-video' AS video_id, 'drama' AS category, 0.0::DOUBLE AS watch_seconds, 0.0::DOUBLE AS play_position_seconds, 60.0::DOUBLE AS video_duration_seconds,
    'tv' AS device_type, 'US' AS country) TO '${file}' (FORMAT parquet)`);
  db.close();
  await commitPartition(lake, paths.silverPartition(date, 'like'), [{ localPath: file }]);
}

describe('backfill workflow', () => {
  const s = testSettings();
  beforeAll(async () => {
    const lake = openLake(s.lake, s);
    const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
    await writeRandomSilver(lake, db, { seed: 9, start: START, days: DAYS, sessions: 300, users: 30, videos: 20, emptyDays: [] });
    db.close();
    await lake.close();
  });
  afterAll(() => undefined);

  it('runs every date with at most N at once, then skips committed dates on a second start', async () => {
    const client = await testClient(s);
    const from = addDays(START, 3);
    const to = addDays(START, DAYS - 1);
    const families = ['user_features', 'item_features'];
    await withWorker(
      s,
      async () => {
        const started = await startBackfill(client, s, { from, to, families, concurrency: 2 });
        let maxRunning = 0;
        const poll = setInterval(() => {
          started.handle.query<BackfillProgress>('progress').then(
            (p) => (maxRunning = Math.max(maxRunning, p.running.length)),
            () => undefined,
          );
        }, 100);
        const result = await started.result();
        clearInterval(poll);
        expect(result.results.map((r) => r.status)).toEqual(Array(5).fill('succeeded'));
        expect(result.results.map((r) => r.date).sort()).toEqual([0, 1, 2, 3, 4].map((i) => addDays(from, i)));
        expect(maxRunning).toBeLessThanOrEqual(2);
        const lake = openLake(s.lake, s);
        for (let i = 0; i < 5; i++) for (const f of families) expect(await readManifest(lake, paths.gold(f, addDays(from, i)))).not.toBeNull();
        expect(await readManifest(lake, paths.gold('session_features', from))).toBeNull();

        const again = await startBackfill(client, s, { from, to, families, concurrency: 2 });
        const second = await again.result();
        expect(second.results.every((r) => r.status === 'skipped')).toBe(true);

        const forced = await startBackfill(client, s, { from, to: from, families, concurrency: 1, force: true });
        expect((await forced.result()).results.map((r) => r.status)).toEqual(['succeeded']);

        // Late data for a date in the range: it and every later date run again, the dates before it not.
        const late = addDays(from, 2);
        const statuses = async () =>
          Object.fromEntries((await (await startBackfill(client, s, { from, to, families, concurrency: 2 })).result()).results.map((r) => [r.date, r.status]));
        const expected = Object.fromEntries([0, 1, 2, 3, 4].map((i) => [addDays(from, i), addDays(from, i) < late ? 'skipped' : 'succeeded']));
        await addLateEvent(lake, late, 'late-1');
        expect(await statuses()).toEqual(expected);
        // The same when something else (a daily run of a later date) rebuilt the partials first: the gold
        // of those dates was computed from partials that are no longer there.
        await addLateEvent(lake, late, 'late-2');
        await ensurePartials({ lake, engine: { threads: 1, memoryLimit: '1GB' }, scratchDir: tempDir() }, to);
        expect(await statuses()).toEqual(expected);
      },
      { maxConcurrentActivities: 4 },
    );
    await client.connection.close();
  });

  it('pauses, resumes and cancels on signals', async () => {
    const client = await testClient(s);
    await withWorker(s, async () => {
      const started = await startBackfill(client, s, { from: START, to: addDays(START, 4), families: ['temporal_features'], concurrency: 1, force: true });
      await started.handle.signal('pause');
      await new Promise((r) => setTimeout(r, 3000));
      const paused = await started.handle.query<BackfillProgress>('progress');
      expect(paused.paused).toBe(true);
      expect(paused.results.length + paused.running.length).toBeLessThanOrEqual(1);
      await started.handle.signal('resume');
      await new Promise((r) => setTimeout(r, 1000));
      await started.handle.signal('cancel');
      await expect(started.result()).rejects.toThrow();
      const final = await started.handle.query<BackfillProgress>('progress');
      expect(final.cancelled).toBe(true);
      expect(final.pending.length).toBeGreaterThan(0);
    });
    await client.connection.close();
  });

  it('answers --status and takes a cancel while it is still planning', async () => {
    const client = await testClient(s);
    let releasePlan!: () => void;
    const planning = new Promise<void>((r) => (releasePlan = r));
    let builtPartials = false;
    await withWorker(
      s,
      async () => {
        const started = await startBackfill(client, s, { from: START, to: addDays(START, 2), families: ['temporal_features'], concurrency: 1, force: true });
        let during: BackfillProgress | undefined;
        for (let i = 0; i < 100 && !during; i++) {
          during = await started.handle.query<BackfillProgress>('progress').catch(() => undefined);
          if (!during) await new Promise((r) => setTimeout(r, 100));
        }
        expect(during).toMatchObject({ total: 0, pending: [], results: [], cancelled: false });
        await started.handle.signal('cancel');
        releasePlan();
        await expect(started.result()).rejects.toMatchObject({ cause: { message: expect.stringMatching(/cancelled with 3 date/) } });
        const final = await started.handle.query<BackfillProgress>('progress');
        expect(final).toMatchObject({ total: 3, cancelled: true, results: [] });
        expect(builtPartials).toBe(false);
      },
      {
        overrideActivities: (acts) => ({
          async planBackfill(a) {
            await planning;
            return acts.planBackfill(a);
          },
          async buildPartials(a) {
            builtPartials = true;
            return acts.buildPartials(a);
          },
        }),
      },
    );
    await client.connection.close();
  });
});
