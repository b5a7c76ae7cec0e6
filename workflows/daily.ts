// The daily gold workflow (`gold-daily-<D>`): the shared DAG with durable activities, a progress
// query, current details for the Web UI, search attributes, and SLA timers that alert without
// stopping the run.
import {
  ActivityFailure,
  type ActivityFunctionWithOptions,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { type DagHost, newReport, runDailyDag, SilverNotReadyError } from '../src/pipeline/daily-dag.js';
import { ACTIVITY_GROUP } from '../src/pipeline/policies.js';
import type { DailyActivities, DailyInput, DailyReport, PolicyGroup, SlaMiss } from '../src/pipeline/types.js';
import { FEATURE_DATE, RUN_KIND } from '../src/temporal/search-attributes.js';
import { activityOptions } from './activity-options.js';

export const dailyProgressQuery = defineQuery<DailyReport>('progress');

/** Activities as durable proxies, one per policy group, each call with its summary for the Web UI. */
function durableActivities(input: DailyInput): DailyActivities {
  const proxies = new Map<PolicyGroup, Record<string, ActivityFunctionWithOptions<(a: unknown) => Promise<unknown>>>>();
  const proxyOf = (group: PolicyGroup) => {
    if (!proxies.has(group)) proxies.set(group, proxyActivities(activityOptions(group, input)));
    return proxies.get(group)!;
  };
  const call = <K extends keyof DailyActivities>(name: K, summary: (a: Parameters<DailyActivities[K]>[0]) => string) =>
    ((a: Parameters<DailyActivities[K]>[0]) => proxyOf(ACTIVITY_GROUP[name])[name]!.executeWithOptions({ summary: summary(a) }, [a])) as DailyActivities[K];
  return {
    planDaily: call('planDaily', (a) => `plan ${a.date}`),
    buildPartials: call('buildPartials', (a) => `daily partials up to ${a.date}`),
    computeFeatureFamily: call('computeFeatureFamily', (a) => `compute ${a.family} ${a.date}`),
    stageAcceptedFamily: call('stageAcceptedFamily', (a) => `stage accepted ${a.family} ${a.date}`),
    validateFeatureFamily: call('validateFeatureFamily', (a) => `validate ${a.family} ${a.date}`),
    commitFeatureFamily: call('commitFeatureFamily', (a) => `commit gold ${a.family} ${a.date}`),
    materializeFeatureFamily: call('materializeFeatureFamily', (a) => `materialize ${a.family} ${a.date} online`),
    sendToDlq: call('sendToDlq', (a) => `DLQ ${a.family} ${a.date}: ${a.reason}`),
    consistencySample: call('consistencySample', (a) => `consistency sample ${a.date}`),
    recordRun: call('recordRun', (a) => `run record ${a.report.date}`),
    raiseAlert: call('raiseAlert', (a) => `alert ${a.kind} ${a.date}`),
    closeDlqEntry: call('closeDlqEntry', (a) => `close DLQ entry ${a.id}`),
  };
}

export function describeActivityFailure(err: unknown): { message: string; attempts: number; retriesExhausted: boolean } {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    const details = cause instanceof ApplicationFailure ? (cause.details?.[0] as { attempt?: number } | undefined) : undefined;
    const exhausted = err.retryState === 'MAXIMUM_ATTEMPTS_REACHED' || err.retryState === 'TIMEOUT';
    const message = cause ? `${cause.message}${exhausted ? ' (retries exhausted)' : ''}` : err.message;
    return { message, attempts: details?.attempt ?? 1, retriesExhausted: exhausted };
  }
  return { message: err instanceof Error ? err.message : String(err), attempts: 1, retriesExhausted: false };
}

function progressMarkdown(r: DailyReport, line: string): string {
  const done = r.steps.filter((s) => s.status === 'succeeded').length;
  const failed = r.steps.filter((s) => s.status === 'failed').length;
  return `**gold ${r.runKind} ${r.date}**: ${line}\n\n${done} steps done, ${failed} failed, ${r.familiesLanded.length} families landed${r.dlqEntries.length ? `, ${r.dlqEntries.length} in the DLQ` : ''}`;
}

export async function dailyGoldWorkflow(input: DailyInput): Promise<DailyReport> {
  const info = workflowInfo();
  upsertSearchAttributes([
    { key: FEATURE_DATE, value: input.date },
    { key: RUN_KIND, value: input.runKind ?? 'daily' },
  ]);
  const acts = durableActivities(input);
  const host: DagHost = {
    runId: info.runId,
    workflowId: info.workflowId,
    now: () => Date.now(),
    sleep: (ms) => sleep(ms),
    progress: (r, line) => setCurrentDetails(progressMarkdown(r, line)),
    describeFailure: describeActivityFailure,
    isCancellation,
  };
  const report = newReport(input, host);
  setHandler(dailyProgressQuery, () => report);

  const missed = async (m: Omit<SlaMiss, 'at'>): Promise<void> => {
    report.slaMisses.push({ ...m, at: Date.now() });
    await acts.raiseAlert({ date: input.date, runId: info.runId, kind: `sla_${m.kind}`, detail: m.detail });
  };
  const sla = new CancellationScope();
  const watchers: Promise<void>[] = [];
  const watch = (fn: () => Promise<void>) =>
    watchers.push(
      sla.run(fn).catch((e) => {
        if (!isCancellation(e)) throw e;
      }),
    );
  const commitBy = input.sla?.commitBy ? Date.parse(input.sla.commitBy) : undefined;
  /** Every planned family's gold committed (what the commit_by deadline is about, not the whole run). */
  const allCommitted = () => report.planned?.every((f) => report.steps.some((s) => s.step === 'commit' && s.family === f && s.status === 'succeeded'));
  if (commitBy !== undefined && commitBy > Date.now()) {
    watch(async () => {
      await sleep(commitBy - Date.now());
      if (!allCommitted()) await missed({ kind: 'commit_by', detail: `gold for ${input.date} not committed by ${input.sla!.commitBy}` });
    });
  }
  /** A run ending before the deadline without its gold will miss it: say so now, not never. */
  const endedShort = async () => {
    if (commitBy !== undefined && Date.now() < commitBy && !allCommitted()) {
      await missed({ kind: 'commit_by', detail: `gold for ${input.date} will not be committed by ${input.sla!.commitBy}: the run ended ${report.status}` });
    }
  };
  if (input.sla?.maxRunMs) {
    const maxRunMs = input.sla.maxRunMs;
    watch(async () => {
      await sleep(maxRunMs);
      await missed({ kind: 'max_run', detail: `run for ${input.date} still going after ${maxRunMs / 1000}s` });
    });
  }
  if (input.sla?.maxStepMs) {
    const maxStepMs = input.sla.maxStepMs;
    watch(async () => {
      const alerted = new Set<number>();
      for (;;) {
        await sleep(Math.max(1000, maxStepMs / 2));
        for (const [i, s] of report.steps.entries()) {
          if (s.status === 'running' && s.startedAt !== undefined && Date.now() - s.startedAt > maxStepMs && !alerted.has(i)) {
            alerted.add(i);
            await missed({ kind: 'max_step', detail: `${s.step}${s.family ? ` ${s.family}` : ''} running for more than ${maxStepMs / 1000}s` });
          }
        }
      }
    });
  }

  try {
    return await runDailyDag(acts, input, { ...host, beforeRecord: endedShort }, report);
  } catch (e) {
    if (isCancellation(e)) {
      // The run record still says what landed before the cancel; the workflow ends cancelled.
      report.status = 'cancelled';
      report.finishedAt = Date.now();
      await CancellationScope.nonCancellable(() => acts.recordRun({ report })).catch(() => undefined);
      throw e;
    }
    if (e instanceof SilverNotReadyError) {
      report.status = 'failed';
      report.finishedAt = Date.now();
      await endedShort();
      await acts.recordRun({ report }).catch(() => undefined);
      throw ApplicationFailure.nonRetryable(e.message, 'SilverNotReady', report);
    }
    throw e;
  } finally {
    sla.cancel();
    await Promise.all(watchers);
  }
}
