// The steps' runtime on Temporal: the activity's attempt, heartbeats while a step works (which bring
// the run's cancellation, interrupting the step's DuckDB queries), and checkpoints as heartbeat details.
import { Context } from '@temporalio/activity';
import { withCancellation } from '../src/engine/cancellation.js';
import type { StepRuntime } from '../src/steps/runtime.js';

/**
 * Heartbeats every few seconds while fn runs, so that a dead worker is noticed within the heartbeat
 * timeout; the heartbeats also bring the activity's cancellation (the run cancelled, the worker
 * shutting down), which interrupts fn's DuckDB queries, and the activity ends as cancelled.
 */
export async function withHeartbeat<T>(fn: () => Promise<T>, details?: () => unknown): Promise<T> {
  const ctx = Context.current();
  const signal = ctx.cancellationSignal;
  const timer = setInterval(() => ctx.heartbeat(details?.()), 2000);
  try {
    return await withCancellation(signal, fn);
  } catch (e) {
    throw signal.aborted ? signal.reason : e;
  } finally {
    clearInterval(timer);
  }
}

export const TEMPORAL_RUNTIME: StepRuntime = {
  attempt: () => Context.current().info.attempt,
  keepAlive: withHeartbeat,
  lastCheckpoint: <T>() => Context.current().info.heartbeatDetails as T | undefined,
  checkpoint: (details) => Context.current().heartbeat(details),
  workflowRun: () => {
    const w = Context.current().info.workflowExecution;
    return w && { runId: w.runId, workflowId: w.workflowId };
  },
};
