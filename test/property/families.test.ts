// Incremental families (daily partials, history and window states, links) against the brute-force
// reference, on random silver over 45 days: every feature, every entity, many dates, to 1e-9 relative;
// and every window state against its window summed afresh.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, parquetScan } from '../../src/engine/duckdb.js';
import { computeFamily } from '../../src/features/compute.js';
import type { FeatureContext } from '../../src/features/context.js';
import { FAMILIES, family } from '../../src/features/families/index.js';
import { ensurePartials, partitionLocalFiles } from '../../src/features/partials/build.js';
import type { WindowPartial } from '../../src/features/partials/definitions.js';
import { WINDOW_PARTIALS } from '../../src/features/partials/windows.js';
import { REFERENCE_FAMILIES, referenceSql } from '../../src/features/reference.js';
import { STATISTICS } from '../../src/features/statistics/index.js';
import { committedFiles, type Lake, openLake, paths, readManifest } from '../../src/lake/index.js';
import { addDays } from '../../src/shared/dates.js';
import { compareRows } from '../support/compare.js';
import { tempDir } from '../support/env.js';
import { writeRandomSilver, writeSilver } from '../support/silver-fixture.js';

const START = '2026-01-01';
const DAYS = 45;
const CHECK_OFFSETS = [0, 1, 3, 4, 9, 10, 17, 19, 24, 25, 29, 30, 31, 38, 44];

async function stagedRows(ctx: FeatureContext, db: Engine, fam: string, date: string, runId: string): Promise<Record<string, unknown>[]> {
  const keys = (await committedFiles(ctx.lake, paths.staging(fam, date, runId)))!;
  const files = await Promise.all(keys.map((k) => ctx.lake.localFile(k)));
  return db.all(`SELECT * FROM ${parquetScan(files)}`);
}

function makeCtx(): { lake: Lake; ctx: FeatureContext } {
  const lake = openLake(tempDir(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
  return { lake, ctx: { lake, engine: { threads: 1, memoryLimit: '1GB' }, scratchDir: `${tempDir()}/s` } };
}

async function expectMatchesReference(ctx: FeatureContext, db: Engine, dates: string[], runId: string): Promise<number> {
  let compared = 0;
  for (const date of dates) {
    for (const fam of REFERENCE_FAMILIES) {
      const decl = family(fam);
      await computeFamily(ctx, decl, date, runId);
      const actual = await stagedRows(ctx, db, fam, date, runId);
      const expected = await db.all(referenceSql(fam, date));
      // The reference computes every declared feature (a feature it left out would compare as missing, not as a mismatch).
      if (expected.length > 0)
        expect(Object.keys(expected[0]!).sort(), fam).toEqual([...decl.keys.map((k) => k.name), ...decl.features.map((f) => f.name)].sort());
      const diff = compareRows(
        actual,
        expected,
        decl.keys.map((k) => k.name),
        decl.features.map((f) => f.name),
      );
      expect({ date, fam, ...diff, mismatches: diff.mismatches.slice(0, 5) }).toEqual({ date, fam, mismatches: [], missing: [], extra: [] });
      compared += actual.length * decl.features.length;
    }
  }
  return compared;
}

describe.each([11, 22, 33])('incremental families equal the reference (seed %i)', (seed) => {
  let db: Engine;
  const { ctx } = makeCtx();
  beforeAll(async () => {
    db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
    await writeRandomSilver(ctx.lake, db, { seed, start: START, days: DAYS, sessions: 700, users: 25, videos: 30, emptyDays: [3, 17, 18] });
    await db.run('CREATE VIEW events AS SELECT * FROM all_events');
  });
  afterAll(() => db.close());

  it('for every feature, entity and checked date', async () => {
    await ensurePartials(ctx, addDays(START, DAYS - 1));
    const compared = await expectMatchesReference(
      ctx,
      db,
      CHECK_OFFSETS.map((o) => addDays(START, o)),
      'prop',
    );
    expect(compared).toBeGreaterThan(5000);
  });

  it('window states equal their windows summed afresh from the daily partials, on every date', async () => {
    await ensurePartials(ctx, addDays(START, DAYS - 1));
    for (const w of Object.values(WINDOW_PARTIALS) as WindowPartial[]) {
      const longest = Math.max(...Object.values(w.sums).map((c) => c.days));
      const keys = w.keys.join(', ');
      for (let i = 0; i < DAYS; i++) {
        const date = addDays(START, i);
        const days = Array.from({ length: Math.min(i + 1, longest) }, (_, k) => addDays(date, -k));
        const daily = (await Promise.all(days.map((d) => partitionLocalFiles(ctx.lake, paths.partials(w.from, d))))).flat();
        const sums = Object.entries(w.sums).map(([n, c]) => `coalesce(sum(${c.expr}) FILTER (WHERE day > DATE '${date}' - ${c.days}), 0)::${c.type} AS ${n}`);
        const fresh = `SELECT DATE '${date}' AS day, ${keys}, ${sums.join(', ')}, count(*)::BIGINT AS days_present FROM ${parquetScan(daily)} GROUP BY ${keys}`;
        const stored = `SELECT * FROM ${parquetScan(await partitionLocalFiles(ctx.lake, paths.partials(w.name, date)))}`;
        const diff = await db.one(`SELECT (SELECT count(*) FROM (${stored} EXCEPT ALL ${fresh}))::INT AS extra,
          (SELECT count(*) FROM (${fresh} EXCEPT ALL ${stored}))::INT AS missing, (SELECT count(*) FROM (${fresh}))::INT AS rows`);
        expect({ window: w.name, date, extra: diff.extra, missing: diff.missing }).toEqual({ window: w.name, date, extra: 0, missing: 0 });
        if (i === 20) expect(diff.rows).toBeGreaterThan(10);
      }
    }
  });

  it('statistical features describe the other families of the date', async () => {
    const date = addDays(START, 31);
    for (const f of FAMILIES.filter((x) => x.name !== 'statistical_features')) await computeFamily(ctx, f, date, 'stats');
    await computeFamily(ctx, family('statistical_features'), date, 'stats');
    const stats = await stagedRows(ctx, db, 'statistical_features', date, 'stats');
    const described = family('statistical_features').dependsOn.map((n) => family(n));
    const numeric = described.flatMap((f) => f.features.filter((x) => x.type === 'BIGINT' || x.type === 'DOUBLE').map((x) => `${f.name}:${x.name}`));
    const declared = STATISTICS.flatMap((d) => d.columns.map((c) => `${d.family}:${c.name}`));
    expect(declared).toContain('user_features:log_watch_time_30d');
    expect(stats.map((r) => `${r.family}:${r.feature}`).sort()).toEqual([...numeric, ...declared].sort());
    // The declared example, against its values computed in JS from the family's rows.
    const logWatch = (await stagedRows(ctx, db, 'user_features', date, 'stats')).map((r) => Math.log1p(r.watch_time_30d as number)).sort((a, b) => a - b);
    const row = stats.find((r) => r.family === 'user_features' && r.feature === 'log_watch_time_30d')!;
    expect(row.count).toBe(logWatch.length);
    expect(row.mean as number).toBeCloseTo(logWatch.reduce((a, b) => a + b, 0) / logWatch.length, 9);
    expect(row.min as number).toBeCloseTo(logWatch[0]!, 12);
    expect(row.max as number).toBeCloseTo(logWatch.at(-1)!, 12);
    // Independent check in plain JS for one feature of each family.
    for (const [fam, feat] of [
      ['user_features', 'watch_time_30d'],
      ['item_features', 'completion_rate_30d'],
      ['session_features', 'duration_seconds'],
      ['temporal_features', 'events_30d'],
    ]) {
      const values = (await stagedRows(ctx, db, fam!, date, 'stats')).map((r) => r[feat!] as number | null);
      const xs = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
      const n = xs.length;
      const mean = xs.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
      const q = (p: number) => {
        const h = (n - 1) * p;
        return xs[Math.floor(h)]! + (h - Math.floor(h)) * (xs[Math.ceil(h)]! - xs[Math.floor(h)]!);
      };
      const row = stats.find((r) => r.family === fam && r.feature === feat)!;
      expect(row.count).toBe(n);
      expect(row.null_count).toBe(values.length - n);
      expect(row.mean as number).toBeCloseTo(mean, 9);
      expect(row.stddev as number).toBeCloseTo(sd, 9);
      expect(row.min).toBe(xs[0]);
      expect(row.max).toBe(xs[n - 1]);
      for (const [col, p] of [
        ['p25', 0.25],
        ['p50', 0.5],
        ['p75', 0.75],
        ['p95', 0.95],
      ] as const)
        expect(row[col] as number).toBeCloseTo(q(p), 9);
    }
  });
});

describe('point in time and lineage', () => {
  let db: Engine;
  const { ctx, lake } = makeCtx();
  const D = addDays(START, 20);
  beforeAll(async () => {
    db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
    await writeRandomSilver(lake, db, { seed: 7, start: START, days: 25, sessions: 400, users: 20, videos: 20, emptyDays: [] });
    await db.run('CREATE VIEW events AS SELECT * FROM all_events');
  });
  afterAll(() => db.close());

  it('events at or after as_of(D) never change the features of D', async () => {
    await ensurePartials(ctx, addDays(D, 1));
    const before: Record<string, unknown[]> = {};
    for (const fam of REFERENCE_FAMILIES) {
      await computeFamily(ctx, family(fam), D, 'before', { createdAt: new Date('2026-02-01T00:00:00Z') });
      before[fam] = await stagedRows(ctx, db, fam, D, 'before');
    }
    // New events exactly at as_of(D) and later on D + 1, for existing and new users, videos and sessions.
    await db.run(`CREATE TABLE late AS SELECT * REPLACE ('late-' || event_id AS event_id,
        TIMESTAMP '${addDays(D, 1)} 00:00:00' + to_microseconds((row_number() OVER () % 5) * 3600e6::BIGINT) AS event_timestamp,
        DATE '${addDays(D, 1)}' AS event_date)
      FROM all_events WHERE event_date = DATE '${D}'`);
    await db.run(
      `INSERT INTO late SELECT * REPLACE ('new-' || event_id AS event_id, 'new-' || user_id AS user_id, 'new-' || session_id AS session_id, 'new-' || video_id AS video_id) FROM late`,
    );
    await db.run(`CREATE TABLE plus_late AS SELECT * FROM all_events UNION ALL SELECT * FROM late`);
    await lake.deletePrefix(paths.silverDate(addDays(D, 1)));
    await writeSilver(lake, db, 'plus_late', [addDays(D, 1)]);
    const recomputed = await ensurePartials(ctx, addDays(D, 1));
    expect(recomputed.map((r) => r.date)).toEqual([addDays(D, 1)]);
    for (const fam of REFERENCE_FAMILIES) {
      await computeFamily(ctx, family(fam), D, 'after', { createdAt: new Date('2026-02-01T00:00:00Z') });
      expect(await stagedRows(ctx, db, fam, D, 'after')).toEqual(before[fam]);
    }
    // Put D + 1 back as it was, for the next test.
    await lake.deletePrefix(paths.silverDate(addDays(D, 1)));
    await writeSilver(lake, db, 'all_events', [addDays(D, 1)]);
  });

  it('a change of silver recomputes that date, and the history and window states and links after it, nothing else', async () => {
    const last = addDays(START, 24);
    await ensurePartials(ctx, last);
    const X = addDays(START, 12);
    const untouchedBefore = (await readManifest(lake, paths.partials('user_day', addDays(X, -1))))!.commitId;
    const untouchedAfter = (await readManifest(lake, paths.partials('user_day', addDays(X, 1))))!.commitId;
    await db.run(`CREATE TABLE changed AS SELECT * FROM all_events WHERE NOT (event_date = DATE '${X}' AND hash(event_id) % 3 = 0)`);
    await lake.deletePrefix(paths.silverDate(X));
    await writeSilver(lake, db, 'changed', [X]);
    const reports = await ensurePartials(ctx, last);
    expect(reports.filter((r) => r.dailyComputed).map((r) => r.date)).toEqual([X]);
    expect(reports.filter((r) => r.historyComputed).map((r) => r.date)).toEqual(Array.from({ length: 13 }, (_, i) => addDays(X, i)));
    // Window states fold forward from the day before, like history states.
    expect(reports.filter((r) => r.windowsComputed).map((r) => r.date)).toEqual(Array.from({ length: 13 }, (_, i) => addDays(X, i)));
    // Links look back 29 days: every later date here read X's partials.
    expect(reports.filter((r) => r.linksComputed).map((r) => r.date)).toEqual(Array.from({ length: 13 }, (_, i) => addDays(X, i)));
    expect((await readManifest(lake, paths.partials('user_day', addDays(X, -1))))!.commitId).toBe(untouchedBefore);
    expect((await readManifest(lake, paths.partials('user_day', addDays(X, 1))))!.commitId).toBe(untouchedAfter);
    // And the results follow the changed silver.
    await db.run(`CREATE OR REPLACE VIEW events AS SELECT * FROM all_events WHERE NOT (event_date = DATE '${X}' AND hash(event_id) % 3 = 0)`);
    await expectMatchesReference(ctx, db, [X, addDays(X, 5), last], 'changed');
    expect(await ensurePartials(ctx, last)).toEqual([]);
  });

  it('silver trimmed of its oldest dates restarts the states from the new first date', async () => {
    const last = addDays(START, 24);
    const first = addDays(START, 3);
    await ensurePartials(ctx, last);
    for (let d = START; d < first; d = addDays(d, 1)) await lake.deletePrefix(paths.silverDate(d));
    const reports = await ensurePartials(ctx, last);
    // The new first date has no state before it; every later state folds from it.
    expect(reports.filter((r) => r.historyComputed).map((r) => r.date)).toEqual(Array.from({ length: 22 }, (_, i) => addDays(first, i)));
    expect(reports.filter((r) => r.windowsComputed).map((r) => r.date)).toEqual(Array.from({ length: 22 }, (_, i) => addDays(first, i)));
    const X = addDays(START, 12); // changed by the test before
    await db.run(`CREATE OR REPLACE VIEW events AS SELECT * FROM all_events
      WHERE event_date >= DATE '${first}' AND NOT (event_date = DATE '${X}' AND hash(event_id) % 3 = 0)`);
    await expectMatchesReference(ctx, db, [first, addDays(first, 6), last], 'trimmed');
  });

  it('counts are 0 and never null; ratios are null exactly when their denominator is 0', async () => {
    await computeFamily(ctx, family('user_features'), D, 'nulls');
    const rows = await stagedRows(ctx, db, 'user_features', D, 'nulls');
    expect(rows.length).toBeGreaterThan(5);
    for (const r of rows) {
      for (const f of family('user_features').features.filter((x) => x.type === 'BIGINT')) expect(r[f.name]).not.toBeNull();
      expect(r.completion_rate_30d === null).toBe(r.video_count_30d === 0);
    }
    expect(rows.some((r) => r.video_count_1d === 0)).toBe(true);
  });
});
