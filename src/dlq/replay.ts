// Replaying a DLQ entry: the normal daily workflow for the entry's family and date, with the families
// that depend on it (its failure skipped them, and nothing else would bring them back), started
// through Temporal as a 'replay' run; the workflow closes the entry when they land. An accepted entry's
// replay lands the family's staged data as it is instead of recomputing it.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Settings } from '../config/settings.js';
import type { AcceptedStaging } from '../../workflows/types.js';
import { dependents } from '../dag/plan.js';
import { FAMILIES } from '../features/families/index.js';
import { connectClient } from '../temporal/connection.js';
import { FEATURE_DATE, RUN_KIND } from '../temporal/search-attributes.js';
import { shortDlqId, type DlqEntry } from './entries.js';

export interface ReplayStarted {
  workflowId: string;
  runId: string;
  /** The same replay was already running: that run is returned, nothing new started. */
  alreadyRunning: boolean;
}

export function replayWorkflowId(entry: Pick<DlqEntry, 'id' | 'family' | 'date'>): string {
  return `gold-replay-${entry.family}-${entry.date}-${shortDlqId(entry.id)}`;
}

/** The entry's family and every family depending on it, in declaration order. */
export function replayFamilies(name: string): string[] {
  const wanted = new Set([name, ...dependents(FAMILIES, name)]);
  return FAMILIES.map((f) => f.name).filter((n) => wanted.has(n));
}

export async function replayDlqEntry(settings: Pick<Settings, 'temporalAddress' | 'temporalNamespace' | 'taskQueue'>, entry: DlqEntry, accept?: AcceptedStaging): Promise<ReplayStarted> {
  if (entry.status === 'closed') throw new Error(`DLQ entry ${entry.id} is closed (by ${entry.closedBy ?? '?'} at ${entry.closedAt ?? '?'}): nothing to replay`);
  const workflowId = replayWorkflowId(entry);
  const client = await connectClient(settings);
  try {
    const handle = await client.workflow.start('dailyGoldWorkflow', {
      taskQueue: settings.taskQueue,
      workflowId,
      args: [{ date: entry.date, families: replayFamilies(entry.family), runKind: 'replay', dlqEntryId: entry.id, ...(accept ? { accept } : {}) }],
      // A replay that failed can be replayed again; one still running is not started twice.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: RUN_KIND, value: 'replay' },
        { key: FEATURE_DATE, value: entry.date },
      ],
      staticSummary: `${accept ? 'accepted ' : ''}replay of DLQ entry ${entry.id}`,
    });
    return { workflowId, runId: handle.firstExecutionRunId, alreadyRunning: false };
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    const d = await client.workflow.getHandle(workflowId).describe();
    return { workflowId, runId: d.runId, alreadyRunning: true };
  } finally {
    await client.connection.close();
  }
}
