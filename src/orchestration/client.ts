// Starting and following gold workflows from a client (the CLI, scripts, tests).
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Settings } from '../config/settings.js';
import { addDays } from '../shared/dates.js';
import { FEATURE_DATE, RUN_KIND } from '../temporal/search-attributes.js';
import type { BackfillInput, BackfillProgress, DailyInput, DailyReport } from '../../workflows/types.js';
import { backfillWorkflowId, dailyWorkflowId } from './ids.js';

export interface Started<T> {
  workflowId: string;
  /** False when the same work was already started (the existing run is returned). */
  started: boolean;
  handle: WorkflowHandle;
  result: () => Promise<T>;
}

/** GOLD_HEAVY_TASK_QUEUE routes the heavy activities to workers of their own (`gold worker --activities-only`). */
function heavyQueue(): { heavyTaskQueue?: string } {
  return process.env.GOLD_HEAVY_TASK_QUEUE ? { heavyTaskQueue: process.env.GOLD_HEAVY_TASK_QUEUE } : {};
}

/** The SLA default of the daily job: gold for D committed by 06:00 UTC on D + 1. */
export function defaultCommitBy(date: string): string {
  return `${addDays(date, 1)}T06:00:00.000Z`;
}

export async function startDaily(client: Client, s: Settings, input: DailyInput, opts: { rerun?: boolean } = {}): Promise<Started<DailyReport>> {
  const workflowId = dailyWorkflowId(input.date);
  const args: DailyInput = { runKind: 'daily', sla: { commitBy: defaultCommitBy(input.date) }, ...heavyQueue(), ...input };
  try {
    const handle = await client.workflow.start('dailyGoldWorkflow', {
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
    const handle = client.workflow.getHandle(workflowId);
    return { workflowId, started: false, handle, result: () => handle.result() };
  }
}

export async function startBackfill(client: Client, s: Settings, input: BackfillInput): Promise<Started<BackfillProgress>> {
  const workflowId = backfillWorkflowId(input.from, input.to, input.families, input.force ?? false);
  const handle = await client.workflow.start('backfillWorkflow', {
    taskQueue: s.taskQueue,
    workflowId,
    args: [{ ...heavyQueue(), ...input }],
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
