// All activities of the gold worker, bound to one context.
import type { ActivityContext } from '../src/steps/context.js';
import { createDailyActivities } from './daily.js';
import { smokeActivities } from './smoke.js';

export function createActivities(ctx: ActivityContext) {
  return {
    ...smokeActivities(ctx),
    ...createDailyActivities(ctx),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export { createActivityContext, type ActivityContext } from '../src/steps/context.js';
