// What the Temporal Schedule starts: schedule arguments are static, so the feature date is derived
// from the scheduled start time (the run at 02:00 UTC on D+1 computes D), then the daily workflow for
// that date runs as a child with the conventional id, so that a manual run of the same date is found
// instead of duplicated.
import { defineSearchAttributeKey, SearchAttributeType, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { executeChild, ParentClosePolicy, workflowInfo } from '@temporalio/workflow';
import { dailyWorkflowId } from '../src/pipeline/ids.js';
import type { ScheduledDailyInput, ScheduledDailyResult } from '../src/pipeline/types.js';
import { addDays } from '../src/shared/dates.js';
import { dailyGoldWorkflow } from './daily.js';

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);
const SILVER_POLL_MS = 5 * 60_000;

export function featureDateFor(scheduledStart: Date, lagDays: number): string {
  return addDays(scheduledStart.toISOString().slice(0, 10), -lagDays);
}

export async function scheduledDailyWorkflow(input: ScheduledDailyInput = {}): Promise<ScheduledDailyResult> {
  const info = workflowInfo();
  const start = info.typedSearchAttributes.get(SCHEDULED_START) ?? info.startTime;
  const date = featureDateFor(start, input.lagDays ?? 1);
  const commitByMs = Date.parse(`${addDays(date, 1)}T00:00:00Z`) + (input.commitWithinHours ?? 6) * 3600_000;
  const commitBy = new Date(commitByMs).toISOString();
  // Silver that lands late is waited for, up to the deadline; after it, the run fails and says so.
  const silverWait = { maxWaitMs: Math.max(0, commitByMs - Date.now()), pollMs: SILVER_POLL_MS };
  try {
    return await executeChild(dailyGoldWorkflow, {
      workflowId: dailyWorkflowId(date),
      args: [{ date, runKind: 'daily', sla: { commitBy }, silverWait, policies: input.policies, quality: input.quality, heavyTaskQueue: input.heavyTaskQueue }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `scheduled daily gold ${date}`,
    });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) return { date, alreadyStarted: true };
    throw e;
  }
}
