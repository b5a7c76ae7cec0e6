// Adding a windowed feature touches one family file (issue 18): a toy family declaring completes_7d in
// its `windows` and reading it from user_window, added to FAMILIES (as its declaration file and one line
// in families/index.ts would), grows the shared state by that column, and computes it right on random
// silver. The other families' columns are untouched; the state's SQL changes, so do the code versions
// of the families reading it (and only theirs).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Engine, parquetScan } from '../../src/engine/duckdb.js';
import { computeFamily } from '../../src/features/compute.js';
import type { FeatureContext } from '../../src/features/context.js';
import { FAMILIES, family } from '../../src/features/families/index.js';
import { ensurePartials } from '../../src/features/partials/build.js';
import { familyPartials, partialSql, WINDOW_PARTIALS } from '../../src/features/partials/windows.js';
import { familyCodeVersion } from '../../src/features/version.js';
import { committedFiles, openLake, paths } from '../../src/lake/index.js';
import { addDays } from '../../src/shared/dates.js';
import { tempDir } from '../support/env.js';
import { writeRandomSilver } from '../support/silver-fixture.js';

vi.mock('../../src/features/families/index.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/features/families/index.js')>();
  const { DAY_SECONDS } = await import('../../src/features/types.js');
  const toy: import('../../src/features/types.js').FamilyDecl = {
    name: 'toy_completes',
    description: 'complete events of a user over 7 days',
    owner: 'tests',
    version: 1,
    entity: 'user',
    keys: [{ name: 'user_id', type: 'VARCHAR' }],
    ttlSeconds: DAY_SECONDS,
    windowDays: 30,
    partials: {},
    // The whole change: the sum over a window, the feature, the SQL line reading it.
    windows: [{ from: 'user_day', column: 'completes', op: 'sum', windows: [7] }],
    dependsOn: [],
    features: [{ name: 'completes_7d', type: 'BIGINT', min: 0, windowDays: 7, description: 'complete events in 7d' }],
    sql: () => 'SELECT user_id, completes_7d FROM user_window',
  };
  const FAMILIES = [...original.FAMILIES, toy];
  return { ...original, FAMILIES, family: (name: string) => FAMILIES.find((f) => f.name === name) ?? original.family(name) };
});

const sha = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);
const START = '2026-01-01';
const DAYS = 20;

describe('a family adding a windowed feature in its own file', () => {
  it('grows the shared state by that column, after the columns it had', () => {
    const sums = WINDOW_PARTIALS.user_window!.sums;
    expect(Object.keys(sums)).toEqual([
      'watch_seconds_1d',
      'watch_seconds_7d',
      'watch_seconds_30d',
      'play_starts_1d',
      'play_starts_7d',
      'play_starts_30d',
      'completes_30d',
      'interactions_30d',
      'events_7d',
      'events_30d',
      'events_dow1_30d',
      'events_dow2_30d',
      'events_dow3_30d',
      'events_dow4_30d',
      'events_dow5_30d',
      'events_dow6_30d',
      'events_dow7_30d',
      'completes_7d',
    ]);
    expect(sums.completes_7d).toEqual({ expr: 'completes', type: 'BIGINT', days: 7 });
    expect(familyPartials(family('toy_completes'))).toEqual({ user_window: 1 });
  });

  it('changes the SQL of that state, and the code versions of the families reading it, only', () => {
    // Values before the toy family (test/unit/window-states.test.ts).
    expect(sha(partialSql('user_window'))).not.toBe('6b1fed9818a9853b');
    expect(sha(partialSql('user_hour_window'))).toBe('95f7f676dff65f73');
    expect(sha(partialSql('user_category_window'))).toBe('29d8a163769209c7');
    expect(sha(partialSql('video_window'))).toBe('176d99de8e4fa02c');
    const versions = Object.fromEntries(FAMILIES.map((f) => [f.name, familyCodeVersion(f)]));
    expect(versions.user_features).not.toBe('b9853ce27032faec');
    expect(versions.temporal_features).not.toBe('6945b8d2e9cf3d95');
    expect(versions).toMatchObject({
      item_features: 'aa170eec5a5541d6',
      session_features: '4de3f5ddae6d7954',
      user_embeddings: 'e250e7eed62f6ef7',
      video_embeddings: 'af76d95883a34bc3',
    });
  });

  describe('computed incrementally', () => {
    let db: Engine;
    const lake = openLake(tempDir(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    const ctx: FeatureContext = { lake, engine: { threads: 1, memoryLimit: '1GB' }, scratchDir: `${tempDir()}/s` };
    beforeAll(async () => {
      db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
      await writeRandomSilver(lake, db, { seed: 5, start: START, days: DAYS, sessions: 400, users: 20, videos: 20, emptyDays: [4] });
    });
    afterAll(() => db.close());

    it('equals complete events counted afresh over 7 days, for every user active in 30', async () => {
      await ensurePartials(ctx, addDays(START, DAYS - 1));
      let nonZero = 0;
      for (const offset of [0, 4, 6, 7, 12, 19]) {
        const date = addDays(START, offset);
        const r = await computeFamily(ctx, family('toy_completes'), date, 'toy');
        const files = await Promise.all((await committedFiles(lake, paths.staging('toy_completes', date, 'toy')))!.map((k) => lake.localFile(k)));
        expect(r.files.length).toBeGreaterThan(0);
        const actual = await db.all(`SELECT user_id, completes_7d FROM ${parquetScan(files)} ORDER BY user_id`);
        const expected =
          await db.all(`SELECT user_id, (count(*) FILTER (WHERE event_type = 'complete' AND event_date > DATE '${date}' - 7))::BIGINT AS completes_7d
          FROM all_events WHERE event_date > DATE '${date}' - 30 AND event_date <= DATE '${date}' GROUP BY user_id ORDER BY user_id`);
        expect({ date, rows: actual }).toEqual({ date, rows: expected });
        nonZero += expected.filter((x) => Number(x.completes_7d) > 0).length;
      }
      expect(nonZero).toBeGreaterThan(10);
    });
  });
});
