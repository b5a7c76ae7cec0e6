// The gold workflows by name and signature: the one place their names are written. workflows/
// implements these signatures (checked where they are registered, workflows/index.ts) and
// src/temporal starts them through these references, typed, without importing workflow code.
import type { BackfillInput, BackfillProgress, DailyInput, DailyReport, ScheduledDailyInput, ScheduledDailyResult } from './types.js';

export interface GoldWorkflows {
  dailyGoldWorkflow(input: DailyInput): Promise<DailyReport>;
  backfillWorkflow(input: BackfillInput): Promise<BackfillProgress>;
  scheduledDailyWorkflow(input?: ScheduledDailyInput): Promise<ScheduledDailyResult>;
}

export type GoldWorkflowName = keyof GoldWorkflows;

export const WORKFLOW = {
  daily: 'dailyGoldWorkflow',
  backfill: 'backfillWorkflow',
  scheduled: 'scheduledDailyWorkflow',
} as const satisfies Record<string, GoldWorkflowName>;
