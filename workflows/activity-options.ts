// A step policy (src/pipeline/policies.ts) in Temporal's terms: the one translation of timeouts,
// retries and task queue, used by the daily and the backfill workflow.
import type { ActivityOptions } from '@temporalio/workflow';
import { policyFor } from '../src/pipeline/policies.js';
import type { DailyInput, PolicyGroup } from '../src/pipeline/types.js';

/** Groups that run on the heavy task queue when there is one; planning and bookkeeping stay with the workflow's workers. */
const HEAVY: ReadonlySet<PolicyGroup> = new Set(['partials', 'compute', 'validate', 'commit', 'materialize']);

export function activityOptions(group: PolicyGroup, input: Pick<DailyInput, 'policies' | 'heavyTaskQueue'>): ActivityOptions {
  const p = policyFor(group, input.policies);
  return {
    ...(HEAVY.has(group) && input.heavyTaskQueue ? { taskQueue: input.heavyTaskQueue } : {}),
    startToCloseTimeout: p.startToCloseMs,
    ...(p.heartbeatMs ? { heartbeatTimeout: p.heartbeatMs } : {}),
    retry: {
      maximumAttempts: p.maximumAttempts,
      initialInterval: p.initialIntervalMs,
      backoffCoefficient: p.backoffCoefficient,
      maximumInterval: p.maximumIntervalMs,
    },
  };
}
