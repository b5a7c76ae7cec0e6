// Normalization end to end on the real pipeline: silver for three days, `gold run daily --local` for
// two dates (every family, statistical_features included, committed and materialized to the embedded
// store), then `gold training-set --normalize` over both dates and `gold features online --normalize`
// for every user: each user's online value (its newest row) equals the training set's row of the same
// entity and date, for the three methods.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Engine, sqlStr } from '../../src/engine/duckdb.js';
import { userFeatures } from '../../src/features/families/user-features.js';
import { openLake } from '../../src/lake/index.js';
import { isNormalizable, NORMALIZE_METHODS } from '../../src/offline/normalize.js';
import type { OnlineFeaturesResponse } from '../../src/serving/online-features.js';
import { addDays } from '../../src/shared/dates.js';
import { runGold } from '../support/cli.js';
import { tempDir } from '../support/env.js';
import { writeRandomSilver } from '../support/silver-fixture.js';

const START = addDays(new Date().toISOString().slice(0, 10), -4);
const D1 = addDays(START, 1);
const D2 = addDays(START, 2);
const numeric = userFeatures.features.filter((f) => isNormalizable(f.type)).map((f) => f.name);

describe('normalization on the real pipeline', () => {
  const home = tempDir('gold-normalize-home-');
  const lakeDir = join(home, 'lake');
  const gold = (...args: string[]) => runGold('--lake', lakeDir, '--online-store', 'embedded', '--log-level', 'error', ...args);

  beforeAll(async () => {
    vi.stubEnv('GOLD_HOME', home);
    const lake = openLake(lakeDir, { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
    await writeRandomSilver(lake, db, { seed: 25, start: START, days: 3, sessions: 300, users: 30, videos: 20, emptyDays: [] });
    db.close();
    await lake.close();
    for (const date of [D1, D2]) {
      const r = await gold('run', 'daily', '--local', '--date', date);
      expect(r.code, r.err).toBe(0);
    }
  });
  afterAll(() => {
    vi.unstubAllEnvs();
    rmSync(home, { recursive: true, force: true });
  });

  it.each(NORMALIZE_METHODS)('serves each user the normalized value of its training-set row (%s)', async (method) => {
    const out = join(home, `set-${method}.parquet`);
    const refs = numeric.map((f) => `user_features:${f}`);
    const t = await gold('--json', 'training-set', '--from', D1, '--to', D2, '--features', refs.join(','), '--normalize', method, '--out', out);
    expect(t.code, t.err).toBe(0);
    const summary = JSON.parse(t.out) as { normalization: { column: string; method: string; missingParameters: number }[] };
    expect(summary.normalization.map((n) => [n.column, n.method, n.missingParameters])).toEqual(numeric.map((f) => [f, method, 0]));
    // Each user's newest row in the range: what the online store holds.
    const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
    const rows = await db.all<Record<string, unknown>>(
      `SELECT * FROM read_parquet(${sqlStr(out)}) QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY event_timestamp DESC) = 1 ORDER BY user_id`,
    );
    db.close();
    expect(rows.length).toBeGreaterThan(10);
    // (user_features has a row for every user known in its windows, so these are all of D2; an entity
    // whose newest online row is older than the newest parameters is tested in normalize.test.ts.)

    const args = rows.flatMap((r) => ['--entity', `user_id=${r.user_id as string}`]);
    const o = await gold('--json', 'features', 'online', ...args, '--features', refs.join(','), '--normalize', method);
    expect(o.code, o.err).toBe(0);
    const body = JSON.parse(o.out) as OnlineFeaturesResponse;
    expect(body.results[0]!.values).toEqual(rows.map((r) => r.user_id));
    expect(body.results[1]!.event_timestamps).toEqual(rows.map((r) => (r.event_timestamp as Date).toISOString()));
    numeric.forEach((f, j) => {
      expect(body.results[1 + j]!.values, f).toEqual(rows.map((r) => r[f] ?? null));
    });
    if (method === 'zscore') {
      const bad = await gold('training-set', '--from', D1, '--to', D2, '--features', refs[0]!, '--normalize', 'scale', '--out', out);
      expect(bad.code).not.toBe(0);
      expect(bad.err).toMatch(/--normalize.*expected zscore, minmax, robust/);
      const badOnline = await gold('features', 'online', '--entity', 'user_id=x', '--normalize', 'unit');
      expect(badOnline.err).toMatch(/--normalize.*expected zscore, minmax, robust/);
    }
    // Normalized, not raw: a z-scored or robust-scaled column is centred, min-max within [0, 1] on its date.
    const values = rows.map((r) => r[numeric[0]!]).filter((v): v is number => typeof v === 'number');
    if (method === 'minmax') expect(values.every((v) => v >= 0 && v <= 1)).toBe(true);
  });
});
