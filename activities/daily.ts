// The activities of the daily DAG and of backfills: the pipeline's steps (src/steps) on Temporal's
// runtime, their failures classified for retries.
import { createSteps, type PipelineSteps, type StepContext } from '../src/steps/index.js';
import { classified } from './errors.js';
import { TEMPORAL_RUNTIME } from './runtime.js';

export function createDailyActivities(ctx: StepContext): PipelineSteps {
  return classified(createSteps(ctx, TEMPORAL_RUNTIME));
}
