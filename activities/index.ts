// All activities of the gold worker, bound to one context.
import { createStepContext, type StepContext } from '../src/steps/index.js';
import { smokeSteps } from '../src/steps/smoke.js';
import { createDailyActivities } from './daily.js';

export function createActivities(ctx: StepContext) {
  return {
    ...smokeSteps(ctx),
    ...createDailyActivities(ctx),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export { createStepContext, type StepContext };
