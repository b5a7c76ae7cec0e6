// Orchestration benchmark: a backfill of N days (default 31) at E events per day (default 1,000,000),
// all families, validation, gold commits and online writes (embedded store), run twice on the same
// silver: once through Temporal (dev server + a worker process, as `gold dev up` starts them) and once
// with the in-process runner (`--local`: the same DAG and activities, no Temporal), both with the same
// number of dates at once. The share of time spent in orchestration is the Temporal run's extra wall
// time over the in-process run. Also printed: per-step activity time and the share of the Temporal
// date runs' span during which no activity was running.
// Run: npm run bench -- orchestration
// (GOLD_BENCH_DAYS default 31; GOLD_BENCH_EVENTS_PER_DAY default 1,000,000; GOLD_BENCH_CONCURRENCY
//  default 2; GOLD_BENCH_TEMPORAL_PORT default 17233, its Web UI on 18233.)
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadSettings, type Settings } from '../src/config/settings.js';
import { stackDown, stackUp } from '../src/dev/stack.js';
import { openLake } from '../src/lake/index.js';
import type { DailyReport, StepReport } from '../src/pipeline/types.js';
import { addDays, dateRange } from '../src/shared/dates.js';
import { generateSilver } from '../src/silver/generator.js';
import { createStepContext } from '../src/steps/context.js';
import { createSteps, IN_PROCESS } from '../src/steps/index.js';
import { runDailyLocal } from '../src/steps/local-runner.js';
import { connectClient } from '../src/temporal/connection.js';
import { startBackfill } from '../src/temporal/workflows.js';
import { peakRss, report } from './util.js';

const days = Number(process.env.GOLD_BENCH_DAYS ?? 31);
const eventsPerDay = Number(process.env.GOLD_BENCH_EVENTS_PER_DAY ?? 1_000_000);
const concurrency = Number(process.env.GOLD_BENCH_CONCURRENCY ?? 2);
const temporalPort = Number(process.env.GOLD_BENCH_TEMPORAL_PORT ?? 17233);
const FROM = '2026-01-01';
const TO = addDays(FROM, days - 1);

const root = mkdtempSync(join(tmpdir(), 'gold-bench-orchestration-'));

function settingsFor(name: string): Settings {
  const home = join(root, name);
  // The worker gets as many activity slots as the in-process runner can have steps running (2 dates x 7
  // families and their commits), so that both runs the same steps at once and only orchestration differs.
  return loadSettings({
    lake: join(home, 'lake'),
    home,
    temporalAddress: `127.0.0.1:${temporalPort}`,
    onlineStore: 'embedded',
    metricsPort: 0,
    logLevel: 'warn',
    workerMaxActivities: 8 * concurrency,
  });
}

/** Seconds per step kind, summed over every date's report. */
function stepSeconds(reports: DailyReport[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const st of reports.flatMap((r) => r.steps)) out[st.step] = (out[st.step] ?? 0) + (st.seconds ?? 0);
  return out;
}

/** Share of the span of the date runs (first step start to last step end) with no step running. */
function idleShare(steps: StepReport[]): number {
  const iv = steps
    .filter((s) => s.startedAt !== undefined && s.seconds !== undefined)
    .map((s) => [s.startedAt!, s.startedAt! + s.seconds! * 1000] as const)
    .sort((a, b) => a[0] - b[0]);
  let busy = 0;
  let cur: [number, number] | undefined;
  for (const [a, b] of iv) {
    if (cur && a <= cur[1]) cur[1] = Math.max(cur[1], b);
    else {
      if (cur) busy += cur[1] - cur[0];
      cur = [a, b];
    }
  }
  if (cur) busy += cur[1] - cur[0];
  const span = Math.max(...iv.map((x) => x[1])) - iv[0]![0];
  return 1 - busy / span;
}

function failures(reports: DailyReport[]): string[] {
  return reports
    .filter((r) => r.status !== 'succeeded')
    .map(
      (r) =>
        `${r.date}: ${r.status} ${r.steps
          .filter((s) => s.status === 'failed')
          .map((s) => `${s.family ?? s.step} ${s.error ?? ''}`)
          .join('; ')}`,
    );
}

async function runLocal(s: Settings): Promise<{ seconds: number; partialsSeconds: number; reports: DailyReport[] }> {
  const ctx = createStepContext(s);
  const acts = createSteps(ctx, IN_PROCESS);
  const t = performance.now();
  try {
    // As the backfill workflow does: every date's partials first, in date order, then dates in parallel.
    await acts.buildPartials({ date: TO, runTime: new Date().toISOString() });
    const partialsSeconds = (performance.now() - t) / 1000;
    const queue = dateRange(FROM, TO);
    const reports: DailyReport[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let d = queue.shift(); d; d = queue.shift()) reports.push(await runDailyLocal(acts, { date: d, runKind: 'backfill' }));
      }),
    );
    return { seconds: (performance.now() - t) / 1000, partialsSeconds, reports };
  } finally {
    await ctx.close();
  }
}

async function runTemporal(s: Settings): Promise<{ seconds: number; reports: DailyReport[] }> {
  await stackUp(s);
  const client = await connectClient(s);
  try {
    const t = performance.now();
    const started = await startBackfill(client, s, { from: FROM, to: TO, concurrency, force: true });
    await started.result();
    const seconds = (performance.now() - t) / 1000;
    const reports = await Promise.all(dateRange(FROM, TO).map((d) => client.workflow.getHandle(`${started.workflowId}-${d}`).result() as Promise<DailyReport>));
    return { seconds, reports };
  } finally {
    await client.connection.close();
    await stackDown(s);
  }
}

try {
  const load = loadavg()[0]!;
  const silver = settingsFor('silver');
  const genStart = performance.now();
  const gen = await generateSilver(
    openLake(silver.lake, silver),
    { threads: 2, memoryLimit: '4GB', tempDir: join(root, 'spill') },
    {
      from: FROM,
      to: TO,
      users: Math.max(1000, Math.round(eventsPerDay / 20)),
      videos: Math.max(200, Math.round(eventsPerDay / 200)),
      eventsPerDay,
      seed: 7,
    },
  );
  const generateSeconds = (performance.now() - genStart) / 1000;

  const local = settingsFor('local');
  const temporal = settingsFor('temporal');
  for (const s of [local, temporal]) cpSync(join(silver.lake, 'silver'), join(s.lake, 'silver'), { recursive: true });

  const l = await runLocal(local);
  const tr = await runTemporal(temporal);
  const bad = [...failures(l.reports), ...failures(tr.reports)];
  if (bad.length > 0) process.stderr.write(`dates that did not succeed:\n  ${bad.join('\n  ')}\n`);

  const stepsT = stepSeconds(tr.reports);
  const stepsL = stepSeconds(l.reports);
  report('orchestration', {
    'load average at start (2 cores)': load,
    days,
    'events generated': gen.rows,
    'generate seconds': generateSeconds,
    'dates at once': concurrency,
    'worker activity slots': 8 * concurrency,
    'temporal backfill wall seconds': tr.seconds,
    'in-process wall seconds': l.seconds,
    'in-process partials seconds': l.partialsSeconds,
    'orchestration share (vs in-process)': (tr.seconds - l.seconds) / tr.seconds,
    'no activity running share (date runs)': idleShare(tr.reports.flatMap((r) => r.steps)),
    ...Object.fromEntries(Object.entries(stepsT).map(([k, v]) => [`temporal ${k} step seconds`, v])),
    ...Object.fromEntries(Object.entries(stepsL).map(([k, v]) => [`in-process ${k} step seconds`, v])),
    'dates not succeeded': bad.length,
    'peak RSS MB (this process)': peakRss(),
  });
} finally {
  rmSync(root, { recursive: true, force: true });
}
