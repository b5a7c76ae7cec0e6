// Workflow ids (interfaces.md): one per date for the daily job, one per (range, families, force) for a
// backfill, so that a second start of the same work finds the first.
import { createHash } from 'node:crypto';

export const dailyWorkflowId = (date: string): string => `gold-daily-${date}`;

export function backfillWorkflowId(from: string, to: string, families: string[] | undefined, force: boolean): string {
  const hash = createHash('sha256').update(JSON.stringify({ families: [...(families ?? [])].sort(), force })).digest('hex').slice(0, 8);
  return `gold-backfill-${from}-${to}-${hash}`;
}

export const SCHEDULE_ID = 'gold-daily-schedule';
