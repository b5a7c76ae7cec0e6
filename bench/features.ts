// Feature families benchmark: with 30 days of history at N events per day, computing all five
// families for day 31 against day 1 (window-length independence) and against the brute-force
// reference. Run: npm run bench -- features  (GOLD_BENCH_EVENTS_PER_DAY, default 5,000,000)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withEngine } from '../src/engine/duckdb.js';
import { computeFamily } from '../src/features/compute.js';
import type { FeatureContext } from '../src/features/context.js';
import { FAMILIES } from '../src/features/families/index.js';
import { ensurePartials } from '../src/features/partials/build.js';
import { REFERENCE_FAMILIES, referenceSql } from '../src/features/reference.js';
import { addDays } from '../src/features/time.js';
import { planStages } from '../src/dag/plan.js';
import { openLake } from '../src/lake/index.js';
import { generateSilver } from '../src/silver/generator.js';
import { readSilver } from '../src/silver/reader.js';
import { peakRss, report } from './util.js';

const eventsPerDay = Number(process.env.GOLD_BENCH_EVENTS_PER_DAY ?? 5_000_000);
const users = Number(process.env.GOLD_BENCH_USERS ?? Math.max(1000, Math.round(eventsPerDay / 25)));
const videos = Number(process.env.GOLD_BENCH_VIDEOS ?? 20_000);
const START = '2026-01-01';
const DAY31 = addDays(START, 30);

const root = mkdtempSync(join(tmpdir(), 'gold-bench-features-'));
const lake = openLake(join(root, 'lake'), { s3CacheDir: join(root, 'cache'), s3CacheMaxBytes: 1e10 });
const engine = { threads: 2, memoryLimit: '16GB', tempDir: join(root, 'spill') };
const ctx: FeatureContext = { lake, engine, scratchDir: join(root, 'scratch') };

async function allFamilies(date: string, runId: string): Promise<number> {
  const t0 = performance.now();
  for (const stage of planStages(FAMILIES)) for (const name of stage) await computeFamily(ctx, FAMILIES.find((f) => f.name === name)!, date, runId);
  return (performance.now() - t0) / 1000;
}

try {
  let t = performance.now();
  await generateSilver(lake, engine, { from: START, to: DAY31, users, videos, eventsPerDay, seed: 1 });
  const generateSeconds = (performance.now() - t) / 1000;

  t = performance.now();
  await ensurePartials(ctx, START);
  const day1Partials = (performance.now() - t) / 1000;
  const day1Families = await allFamilies(START, 'bench-day1');

  t = performance.now();
  await ensurePartials(ctx, addDays(DAY31, -1));
  const history = (performance.now() - t) / 1000;

  t = performance.now();
  await ensurePartials(ctx, DAY31);
  const day31Partials = (performance.now() - t) / 1000;
  const day31Families = await allFamilies(DAY31, 'bench-day31');

  t = performance.now();
  const refRows = await withEngine(engine, async (db) => {
    await readSilver(db, lake, { from: START, to: DAY31, table: 'events', quarantine: false });
    let rows = 0;
    for (const f of REFERENCE_FAMILIES) rows += (await db.one<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM (${referenceSql(f, DAY31)})`)).n;
    return rows;
  });
  const reference = (performance.now() - t) / 1000;

  const day1 = day1Partials + day1Families;
  const day31 = day31Partials + day31Families;
  report('features', {
    events_per_day: eventsPerDay,
    users,
    videos,
    generate_31_days_s: generateSeconds,
    day1_partials_s: day1Partials,
    day1_families_s: day1Families,
    day1_total_s: day1,
    partials_days_2_30_s: history,
    day31_partials_s: day31Partials,
    day31_families_s: day31Families,
    day31_total_s: day31,
    day31_over_day1: day31 / day1,
    reference_day31_4_families_s: reference,
    reference_rows: refRows,
    reference_over_day31: reference / day31,
    peak_rss_mb: peakRss(),
  });
} finally {
  await lake.close();
  rmSync(root, { recursive: true, force: true });
}
