// A partitioned, resumable backfill: one child daily workflow per date, at most N running at once (a
// sliding window; the SDK has no built-in limit), oldest first, with pause/resume/cancel signals, a
// progress query, and continue-as-new before the history grows large. Dates whose gold is already
// committed with the same code and schema are skipped unless forced.
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BackfillActivities, BackfillInput, BackfillProgress, DailyReport } from '../src/pipeline/types.js';
import { FEATURE_DATE, RUN_KIND } from '../src/temporal/search-attributes.js';
import { activityOptions } from './activity-options.js';
import { dailyGoldWorkflow } from './daily.js';

export const backfillProgressQuery = defineQuery<BackfillProgress>('progress');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const cancelSignal = defineSignal('cancel');

/** Start no new child past this many history events; finish the running ones and continue as new. */
const HISTORY_LIMIT = 8000;

export async function backfillWorkflow(input: BackfillInput): Promise<BackfillProgress> {
  const info = workflowInfo();
  upsertSearchAttributes([
    { key: FEATURE_DATE, value: input.from },
    { key: RUN_KIND, value: 'backfill' },
  ]);
  const acts = proxyActivities<BackfillActivities>(activityOptions('plan', input));
  const partialActs = proxyActivities<BackfillActivities>({ ...activityOptions('partials', input), summary: `daily partials up to ${input.to}` });

  let progress: BackfillProgress = input.carried
    ? { ...input.carried, running: [], runs: input.carried.runs + 1 }
    : { total: 0, startedAt: Date.now(), pending: [], running: [], results: [], paused: false, cancelled: false, runs: 1 };
  // Handlers first: planning and the partials can take long, and --status, --pause and --cancel must
  // work meanwhile (a pause or cancel sent then carries over into the planned progress).
  setHandler(backfillProgressQuery, () => progress);
  setHandler(pauseSignal, () => void (progress.paused = true));
  setHandler(resumeSignal, () => void (progress.paused = false));
  setHandler(cancelSignal, () => void (progress.cancelled = true));
  if (!input.carried) {
    const p = await acts.planBackfill({ from: input.from, to: input.to, families: input.families, force: input.force });
    progress = {
      ...progress,
      total: p.toRun.length + p.skipped.length,
      pending: p.toRun,
      results: p.skipped.map((date) => ({ date, status: 'skipped', detail: 'already committed with the same code and schema' })),
    };
    // Partials fold history forward one day at a time: build them all first, in order, so that the
    // dates can then run in parallel on inputs that exist.
    if (p.toRun.length > 0 && !progress.cancelled) await partialActs.buildPartials({ date: p.toRun[p.toRun.length - 1]!, runTime: new Date().toISOString() });
  }

  const details = () => {
    const done = progress.results.filter((r) => r.status === 'succeeded' || r.status === 'skipped').length;
    const failed = progress.results.filter((r) => r.status === 'failed' || r.status === 'partial').length;
    setCurrentDetails(
      `**backfill ${input.from}..${input.to}**: ${done}/${progress.total} done, ${failed} failed, ${progress.running.length} running${progress.paused ? ' (paused)' : ''}${progress.cancelled ? ' (cancelled)' : ''}`,
    );
  };

  const runDate = async (date: string): Promise<void> => {
    progress.running.push(date);
    details();
    const t0 = Date.now();
    try {
      const r: DailyReport = await executeChild(dailyGoldWorkflow, {
        workflowId: `${info.workflowId}-${date}`,
        args: [{ date, families: input.families, runKind: 'backfill', policies: input.policies, quality: input.quality, heavyTaskQueue: input.heavyTaskQueue }],
        staticSummary: `backfill ${date}`,
      });
      progress.results.push({
        date,
        status: r.status === 'running' || r.status === 'cancelled' ? 'failed' : r.status,
        seconds: (Date.now() - t0) / 1000,
        detail: r.dlqEntries.length ? `${r.dlqEntries.length} DLQ entries` : undefined,
      });
    } catch (e) {
      progress.results.push({
        date,
        status: 'failed',
        seconds: (Date.now() - t0) / 1000,
        detail: e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e),
      });
    } finally {
      progress.running = progress.running.filter((d) => d !== date);
      details();
    }
  };

  const inFlight = new Set<Promise<void>>();
  while (progress.pending.length > 0 && !progress.cancelled) {
    const now = workflowInfo();
    if (now.historyLength > HISTORY_LIMIT || now.continueAsNewSuggested) break;
    await condition(() => progress.cancelled || (!progress.paused && inFlight.size < input.concurrency));
    if (progress.cancelled) break;
    const date = progress.pending.shift()!;
    const p = runDate(date).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);

  if (progress.pending.length > 0 && !progress.cancelled) {
    await continueAsNew<typeof backfillWorkflow>({ ...input, carried: progress });
  }
  details();
  if (progress.cancelled)
    throw ApplicationFailure.nonRetryable(`backfill cancelled with ${progress.pending.length} date(s) not started`, 'BackfillCancelled', progress);
  return progress;
}
