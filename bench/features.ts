// Feature families benchmark: with 30 days of history at N events per day, computing the five
// aggregate families (user, item, session, temporal, statistical) for day 31 against day 1 (window-length
// independence) and against the brute-force reference; then the embeddings families of day 31 (ALS
// training on the 30-day window), timed apart. Run: npm run bench -- features  (GOLD_BENCH_EVENTS_PER_DAY, default
// 5,000,000; GOLD_BENCH_START, the first date, default 2026-01-05)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withEngine } from '../src/engine/duckdb.js';
import { computeFamily } from '../src/features/compute.js';
import type { FeatureContext } from '../src/features/context.js';
import { FAMILIES } from '../src/features/families/index.js';
import { ensurePartials } from '../src/features/partials/build.js';
import { REFERENCE_FAMILIES, referenceSql } from '../src/features/reference.js';
import { openLake } from '../src/lake/index.js';
import { planStages } from '../src/pipeline/plan.js';
import { addDays } from '../src/shared/dates.js';
import { generateSilver } from '../src/silver/generator.js';
import { readSilver } from '../src/silver/reader.js';
import { peakRss, report } from './util.js';

const eventsPerDay = Number(process.env.GOLD_BENCH_EVENTS_PER_DAY ?? 5_000_000);
const users = Number(process.env.GOLD_BENCH_USERS ?? Math.max(1000, Math.round(eventsPerDay / 25)));
const videos = Number(process.env.GOLD_BENCH_VIDEOS ?? 20_000);
// A Monday: day 31 is then a Wednesday, whose volume in the synthetic weekly rhythm is within 1 % of a
// Monday's (WEEKDAY_VOLUME), so that day 31 over day 1 measures the window, not the weekday.
const START = process.env.GOLD_BENCH_START ?? '2026-01-05';
const DAY31 = addDays(START, 30);

const root = mkdtempSync(join(tmpdir(), 'gold-bench-features-'));
const lake = openLake(join(root, 'lake'), { s3CacheDir: join(root, 'cache'), s3CacheMaxBytes: 1e10 });
const engine = { threads: 2, memoryLimit: '16GB', tempDir: join(root, 'spill') };
const ctx: FeatureContext = { lake, engine, scratchDir: join(root, 'scratch') };

const AGGREGATES = FAMILIES.filter((f) => !f.models?.length);
const EMBEDDINGS = FAMILIES.filter((f) => f.models?.length);

/** Seconds per family and in all, in DAG order. */
async function computeAll(families: typeof FAMILIES, date: string, runId: string): Promise<{ total: number; each: Record<string, number> }> {
  const each: Record<string, number> = {};
  const t0 = performance.now();
  for (const stage of planStages(families)) {
    for (const name of stage) {
      const t = performance.now();
      await computeFamily(ctx, FAMILIES.find((f) => f.name === name)!, date, runId);
      each[name] = (performance.now() - t) / 1000;
    }
  }
  return { total: (performance.now() - t0) / 1000, each };
}

try {
  let t = performance.now();
  await generateSilver(lake, engine, { from: START, to: DAY31, users, videos, eventsPerDay, seed: 1 });
  const generateSeconds = (performance.now() - t) / 1000;
  // The peak is the process's so far: taken here and after day 31, the latter bounds the day's own work
  // whenever it is above the generation's.
  const rssAfterGenerate = peakRss();

  t = performance.now();
  const day1Events = (await ensurePartials(ctx, START))[0]!.silver!.rowsRead;
  const day1Partials = (performance.now() - t) / 1000;
  const day1Families = (await computeAll(AGGREGATES, START, 'bench-day1')).total;

  t = performance.now();
  await ensurePartials(ctx, addDays(DAY31, -1));
  const history = (performance.now() - t) / 1000;

  t = performance.now();
  const day31Events = (await ensurePartials(ctx, DAY31))[0]!.silver!.rowsRead;
  const day31Partials = (performance.now() - t) / 1000;
  const day31 = await computeAll(AGGREGATES, DAY31, 'bench-day31');
  const day31Families = day31.total;
  const rssThroughDay31 = peakRss();
  const embeddings = await computeAll(EMBEDDINGS, DAY31, 'bench-day31');

  t = performance.now();
  const refRows = await withEngine(engine, async (db) => {
    await readSilver(db, lake, { from: START, to: DAY31, table: 'events', quarantine: false });
    let rows = 0;
    for (const f of REFERENCE_FAMILIES) rows += (await db.one<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM (${referenceSql(f, DAY31)})`)).n;
    return rows;
  });
  const reference = (performance.now() - t) / 1000;

  const day1Total = day1Partials + day1Families;
  const day31Total = day31Partials + day31Families;
  report('features', {
    events_per_day: eventsPerDay,
    users,
    videos,
    generate_31_days_s: generateSeconds,
    day1_date: START,
    day1_events: day1Events,
    day31_date: DAY31,
    day31_events: day31Events,
    day1_partials_s: day1Partials,
    day1_families_s: day1Families,
    day1_total_s: day1Total,
    partials_days_2_30_s: history,
    day31_partials_s: day31Partials,
    day31_families_s: day31Families,
    ...Object.fromEntries(Object.entries(day31.each).map(([k, v]) => [`day31_${k}_s`, v])),
    day31_total_s: day31Total,
    day31_over_day1: day31Total / day1Total,
    reference_day31_4_families_s: reference,
    reference_rows: refRows,
    reference_over_day31: reference / day31Total,
    ...Object.fromEntries(Object.entries(embeddings.each).map(([k, v]) => [`day31_${k}_s (ALS model included once)`, v])),
    peak_rss_mb_after_generate: rssAfterGenerate,
    peak_rss_mb_through_day31: rssThroughDay31,
    peak_rss_mb: peakRss(),
  });
} finally {
  await lake.close();
  rmSync(root, { recursive: true, force: true });
}
