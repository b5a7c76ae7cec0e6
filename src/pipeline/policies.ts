// Timeouts and retry policies of the activities, per group. Never unlimited attempts. Pure: used by
// the workflows and by the in-process runner.
import type { ActivityPolicy, PolicyGroup } from './types.js';

const MIN = 60_000;

export const DEFAULT_POLICIES: Record<PolicyGroup, ActivityPolicy> = {
  plan: { startToCloseMs: 1 * MIN, maximumAttempts: 5, initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 30_000 },
  partials: { startToCloseMs: 60 * MIN, heartbeatMs: 30_000, maximumAttempts: 4, initialIntervalMs: 5000, backoffCoefficient: 2, maximumIntervalMs: 2 * MIN },
  compute: { startToCloseMs: 30 * MIN, heartbeatMs: 30_000, maximumAttempts: 4, initialIntervalMs: 5000, backoffCoefficient: 2, maximumIntervalMs: 2 * MIN },
  validate: { startToCloseMs: 15 * MIN, heartbeatMs: 30_000, maximumAttempts: 3, initialIntervalMs: 2000, backoffCoefficient: 2, maximumIntervalMs: MIN },
  commit: { startToCloseMs: 15 * MIN, heartbeatMs: 30_000, maximumAttempts: 5, initialIntervalMs: 2000, backoffCoefficient: 2, maximumIntervalMs: MIN },
  materialize: { startToCloseMs: 30 * MIN, heartbeatMs: 30_000, maximumAttempts: 5, initialIntervalMs: 2000, backoffCoefficient: 2, maximumIntervalMs: MIN },
  bookkeeping: { startToCloseMs: 2 * MIN, maximumAttempts: 5, initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 30_000 },
};

export function policyFor(group: PolicyGroup, overrides?: Partial<Record<PolicyGroup, Partial<ActivityPolicy>>>): ActivityPolicy {
  return { ...DEFAULT_POLICIES[group], ...(overrides?.[group] ?? {}) };
}

/** Which group each activity belongs to. */
export const ACTIVITY_GROUP = {
  planDaily: 'plan',
  buildPartials: 'partials',
  computeFeatureFamily: 'compute',
  stageAcceptedFamily: 'commit',
  validateFeatureFamily: 'validate',
  commitFeatureFamily: 'commit',
  materializeFeatureFamily: 'materialize',
  sendToDlq: 'bookkeeping',
  consistencySample: 'materialize',
  recordRun: 'bookkeeping',
  raiseAlert: 'bookkeeping',
  closeDlqEntry: 'bookkeeping',
} as const satisfies Record<string, PolicyGroup>;
