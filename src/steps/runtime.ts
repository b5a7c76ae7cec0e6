// What a step needs of the host running it: the attempt it runs as, staying alive while it works (on
// Temporal: heartbeats, which also bring the run's cancellation), and a checkpoint that survives a
// crash so that the next attempt resumes instead of starting over.
import { AsyncLocalStorage } from 'node:async_hooks';

/** The workflow run a step runs for (the daily run's lineage parent). */
export interface WorkflowRun {
  runId: string;
  workflowId: string;
}

export interface StepRuntime {
  attempt(): number;
  keepAlive<T>(fn: () => Promise<T>, details?: () => unknown): Promise<T>;
  /** The checkpoint the previous attempt saved, if any. */
  lastCheckpoint<T>(): T | undefined;
  checkpoint(details: unknown): void;
  /** The workflow run calling the step, when known. */
  workflowRun(): WorkflowRun | undefined;
}

/** The in-process runner's current run, for the steps it calls (see local-runner.ts). */
export const localRun = new AsyncLocalStorage<WorkflowRun>();

/** In process: the runner counts attempts itself, nothing watches for liveness, no checkpoint outlives the process. */
export const IN_PROCESS: StepRuntime = {
  attempt: () => 1,
  keepAlive: (fn) => fn(),
  lastCheckpoint: () => undefined,
  checkpoint: () => undefined,
  workflowRun: () => localRun.getStore(),
};
