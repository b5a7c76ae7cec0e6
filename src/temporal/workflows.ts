// Every start of a gold workflow: the daily job, a backfill, a DLQ replay and the schedule's action,
// typed by the workflows' signatures (src/pipeline/workflows.ts), each with its id, search attributes
// and the heavy task queue of the settings.
import { createHash } from 'node:crypto';
import { type Client, type ScheduleOptionsStartWorkflowAction, WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import type { Settings } from '../config/settings.js';
import { type DlqEntry, replayRun } from '../dlq/index.js';
import { dailyWorkflowId } from '../pipeline/ids.js';
import type { AcceptedStaging, BackfillInput, BackfillProgress, DailyInput, DailyReport, ScheduledDailyInput } from '../pipeline/types.js';
import { type GoldWorkflows, WORKFLOW } from '../pipeline/workflows.js';
import { addDays } from '../shared/dates.js';
import { FEATURE_DATE, RUN_KIND } from './search-attributes.js';

export interface Started<T> {
  workflowId: string;
  /** False when the same work was already started (the existing run is returned). */
  started: boolean;
  handle: WorkflowHandle;
  result: () => Promise<T>;
}

/** One id per (range, families, force): a second start of the same backfill finds the first. */
export function backfillWorkflowId(from: string, to: string, families: string[] | undefined, force: boolean): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ families: [...(families ?? [])].sort(), force }))
    .digest('hex')
    .slice(0, 8);
  return `gold-backfill-${from}-${to}-${hash}`;
}

/** The settings' heavy task queue routes the heavy activities to workers of their own (`gold worker --activities-only`). */
function heavyQueue(s: Pick<Settings, 'heavyTaskQueue'>): { heavyTaskQueue?: string } {
  return s.heavyTaskQueue ? { heavyTaskQueue: s.heavyTaskQueue } : {};
}

/** The SLA default of the daily job: gold for D committed by 06:00 UTC on D + 1. */
export function defaultCommitBy(date: string): string {
  return `${addDays(date, 1)}T06:00:00.000Z`;
}

export async function startDaily(client: Client, s: Settings, input: DailyInput, opts: { rerun?: boolean } = {}): Promise<Started<DailyReport>> {
  const workflowId = dailyWorkflowId(input.date);
  const args: DailyInput = { runKind: 'daily', sla: { commitBy: defaultCommitBy(input.date) }, ...heavyQueue(s), ...input };
  try {
    const handle = await client.workflow.start<GoldWorkflows['dailyGoldWorkflow']>(WORKFLOW.daily, {
      taskQueue: s.taskQueue,
      workflowId,
      args: [args],
      workflowIdReusePolicy: opts.rerun ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: FEATURE_DATE, value: input.date },
        { key: RUN_KIND, value: args.runKind ?? 'daily' },
      ],
      staticSummary: `daily gold ${input.date}`,
    });
    return { workflowId, started: true, handle, result: () => handle.result() };
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    const handle = client.workflow.getHandle<GoldWorkflows['dailyGoldWorkflow']>(workflowId);
    return { workflowId, started: false, handle, result: () => handle.result() };
  }
}

export async function startBackfill(client: Client, s: Settings, input: BackfillInput): Promise<Started<BackfillProgress>> {
  const workflowId = backfillWorkflowId(input.from, input.to, input.families, input.force ?? false);
  const handle = await client.workflow.start<GoldWorkflows['backfillWorkflow']>(WORKFLOW.backfill, {
    taskQueue: s.taskQueue,
    workflowId,
    args: [{ ...heavyQueue(s), ...input }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [
      { key: FEATURE_DATE, value: input.from },
      { key: RUN_KIND, value: 'backfill' },
    ],
    staticSummary: `backfill ${input.from}..${input.to}`,
  });
  return { workflowId, started: true, handle, result: () => handle.result() };
}

export interface ReplayStarted {
  workflowId: string;
  runId: string;
  /** The same replay was already running: that run is returned, nothing new started. */
  alreadyRunning: boolean;
}

/** A DLQ entry's replay (src/dlq/replay.ts): the daily workflow for its date and families, as a 'replay' run. */
export async function startReplay(client: Client, s: Settings, entry: DlqEntry, accept?: AcceptedStaging): Promise<ReplayStarted> {
  const r = replayRun(entry, accept);
  try {
    const handle = await client.workflow.start<GoldWorkflows['dailyGoldWorkflow']>(WORKFLOW.daily, {
      taskQueue: s.taskQueue,
      workflowId: r.workflowId,
      args: [{ date: r.date, families: r.families, runKind: 'replay', dlqEntryId: r.dlqEntryId, ...(r.accept ? { accept: r.accept } : {}), ...heavyQueue(s) }],
      // A replay that failed can be replayed again.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: RUN_KIND, value: 'replay' },
        { key: FEATURE_DATE, value: r.date },
      ],
      staticSummary: r.summary,
    });
    return { workflowId: r.workflowId, runId: handle.firstExecutionRunId, alreadyRunning: false };
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    return { workflowId: r.workflowId, runId: (await client.workflow.getHandle(r.workflowId).describe()).runId, alreadyRunning: true };
  }
}

/** What a Temporal Schedule starts: the scheduled daily workflow, with the heavy task queue of the settings. */
export function scheduledDailyAction(
  s: Settings,
  scheduleId: string,
  input: ScheduledDailyInput,
): ScheduleOptionsStartWorkflowAction<GoldWorkflows['scheduledDailyWorkflow']> {
  return {
    type: 'startWorkflow',
    workflowType: WORKFLOW.scheduled,
    workflowId: `${scheduleId}-run`,
    taskQueue: s.taskQueue,
    args: [{ ...heavyQueue(s), ...input }],
  };
}
