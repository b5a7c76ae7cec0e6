// Replaying a DLQ entry: the normal daily workflow for the entry's family and date, with the families
// that depend on it (its failure skipped them, and nothing else would bring them back), started
// as a 'replay' run (src/temporal starts it); the workflow closes the entry when they land. An accepted
// entry's replay lands the family's staged data as it is instead of recomputing it.

import { FAMILIES } from '../features/families/index.js';
import { dependents } from '../pipeline/plan.js';
import type { AcceptedStaging } from '../pipeline/types.js';
import { type DlqEntry, shortDlqId } from './entries.js';

export function replayWorkflowId(entry: Pick<DlqEntry, 'id' | 'family' | 'date'>): string {
  return `gold-replay-${entry.family}-${entry.date}-${shortDlqId(entry.id)}`;
}

/** The entry's family and every family depending on it, in declaration order. */
export function replayFamilies(name: string): string[] {
  const wanted = new Set([name, ...dependents(FAMILIES, name)]);
  return FAMILIES.map((f) => f.name).filter((n) => wanted.has(n));
}

/** The replay's run of an entry (an accepted entry's lands its staged data as it is). */
export interface ReplayRun {
  workflowId: string;
  date: string;
  families: string[];
  dlqEntryId: string;
  accept?: AcceptedStaging;
  summary: string;
}

export function replayRun(entry: DlqEntry, accept?: AcceptedStaging): ReplayRun {
  if (entry.status === 'closed')
    throw new Error(`DLQ entry ${entry.id} is closed (by ${entry.closedBy ?? '?'} at ${entry.closedAt ?? '?'}): nothing to replay`);
  return {
    workflowId: replayWorkflowId(entry),
    date: entry.date,
    families: replayFamilies(entry.family),
    dlqEntryId: entry.id,
    ...(accept ? { accept } : {}),
    summary: `${accept ? 'accepted ' : ''}replay of DLQ entry ${entry.id}`,
  };
}
