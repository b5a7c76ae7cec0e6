// The ALS model of a date on a small real lake: a day without plays, and the warm start as an input.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/duckdb.js';
import type { FeatureContext } from '../../src/features/context.js';
import { alsModelCurrent, ensureAlsModel } from '../../src/features/models/als-model.js';
import { ensurePartials } from '../../src/features/partials/build.js';
import { openLake } from '../../src/lake/index.js';
import { addDays } from '../../src/shared/dates.js';
import { tempDir } from '../support/env.js';
import { writeRandomSilver } from '../support/silver-fixture.js';

const START = '2026-03-01';
const DAYS = 8;
const LAST = addDays(START, DAYS - 1);

describe('ALS model of a date', () => {
  const lake = openLake(tempDir(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
  const ctx: FeatureContext = { lake, engine: { threads: 1, memoryLimit: '1GB' }, scratchDir: join(tempDir(), 'scratch') };
  beforeAll(async () => {
    const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
    // The last day has no events at all.
    await writeRandomSilver(lake, db, { seed: 3, start: START, days: DAYS, sessions: 300, users: 30, videos: 25, emptyDays: [DAYS - 1] });
    db.close();
    await ensurePartials(ctx, LAST);
  });
  afterAll(() => lake.close());

  it("trains on a day without plays, with nothing to evaluate the day before's model on", async () => {
    await ensureAlsModel(ctx, addDays(LAST, -1));
    const r = await ensureAlsModel(ctx, LAST);
    expect(r.reused).toBe(false);
    expect(r.report.warmStartedUsers).toBeGreaterThan(0);
    expect(r.report.heldOut).toBeNull();
    expect((await ensureAlsModel(ctx, LAST)).reused).toBe(true);
  });

  it('trains a date again once the day before has a model: the warm start is one of its inputs', async () => {
    const d = addDays(START, 3);
    const cold = await ensureAlsModel(ctx, d);
    expect(cold.report.warmStartedUsers).toBe(0);
    expect(await alsModelCurrent(lake, d)).toBe(true);
    await ensureAlsModel(ctx, addDays(d, -1));
    // What a backfill asks before skipping the date: its model is no longer current.
    expect(await alsModelCurrent(lake, d)).toBe(false);
    const warm = await ensureAlsModel(ctx, d);
    expect(warm.reused).toBe(false);
    expect(warm.report.warmStartedUsers).toBeGreaterThan(0);
    expect(await alsModelCurrent(lake, d)).toBe(true);
  });
});
