// Workflow code only: deterministic, no I/O. Everything here is bundled for the Temporal sandbox.
export { smokeWorkflow } from './smoke.js';
export { dailyGoldWorkflow } from './daily.js';
export { backfillWorkflow } from './backfill.js';
export { scheduledDailyWorkflow } from './scheduled.js';
