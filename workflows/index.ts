// Workflow code only: deterministic, no I/O. Everything here is bundled for the Temporal sandbox.
import type { GoldWorkflows } from '../src/pipeline/workflows.js';
import { backfillWorkflow } from './backfill.js';
import { dailyGoldWorkflow } from './daily.js';
import { scheduledDailyWorkflow } from './scheduled.js';

// The signatures their starters (src/temporal/workflows.ts) call them with.
({ dailyGoldWorkflow, backfillWorkflow, scheduledDailyWorkflow }) satisfies GoldWorkflows;

export { smokeWorkflow } from './smoke.js';
export { backfillWorkflow, dailyGoldWorkflow, scheduledDailyWorkflow };
