// The steps of the daily DAG and of backfills over the pipeline core, for any host: the Temporal
// activities (activities/) and the in-process runner (local-runner.ts). They take lake paths and
// return references, counts and small reports.
import type { BackfillActivities, DailyActivities } from '../pipeline/types.js';
import { bookkeepingSteps } from './bookkeeping.js';
import { computeSteps } from './compute.js';
import type { StepContext } from './context.js';
import { landSteps } from './land.js';
import { withLineage } from './lineage.js';
import { planSteps } from './plan.js';
import type { StepRuntime } from './runtime.js';

export type PipelineSteps = DailyActivities & BackfillActivities;

export function createSteps(ctx: StepContext, rt: StepRuntime): PipelineSteps {
  const steps = { ...planSteps(ctx, rt), ...computeSteps(ctx, rt), ...landSteps(ctx, rt), ...bookkeepingSteps(ctx, rt) };
  // OpenLineage events around the daily run's steps (none unless configured).
  return { ...steps, ...withLineage(ctx, rt, steps) };
}

export { createStepContext, type StepContext } from './context.js';
export { IN_PROCESS, type StepRuntime } from './runtime.js';
