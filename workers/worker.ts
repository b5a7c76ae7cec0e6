// A gold worker: one process polling the task queue, with every workflow and activity registered.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { type Activities, createActivities, createStepContext } from '../activities/index.js';
import type { Settings } from '../src/config/settings.js';
import type { StepContext } from '../src/steps/context.js';

/** The workflows entry, compiled (dist) or source (tests run TypeScript directly). */
export function workflowsPath(): string {
  const js = fileURLToPath(new URL('../workflows/index.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
}

export interface GoldWorkerOptions {
  connection?: NativeConnection;
  /** A pre-built bundle (tests bundle once per file). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxConcurrentActivities?: number;
  maxConcurrentWorkflowTasks?: number;
  /** Poll activities only (a heavy-activity worker on its own queue), no workflows. */
  activitiesOnly?: boolean;
  /** Replace some activities (tests inject failures this way). */
  overrideActivities?: (acts: Activities) => Partial<Activities>;
}

/** A worker, and the release of what its activities hold open (online store connections, the lake's clients). */
export interface GoldWorker {
  worker: Worker;
  /** What the activities share (the lake, the online store); the worker's freshness export reads them too. */
  context: StepContext;
  /** Call after the worker has stopped: an open Redis connection would keep the process alive. */
  close(): Promise<void>;
}

export async function createGoldWorker(settings: Settings, opts: GoldWorkerOptions = {}): Promise<GoldWorker> {
  const connection = opts.connection ?? (await NativeConnection.connect({ address: settings.temporalAddress }));
  const ctx = createStepContext(settings);
  const acts = createActivities(ctx);
  const worker = await Worker.create({
    connection,
    namespace: settings.temporalNamespace,
    taskQueue: settings.taskQueue,
    ...(opts.activitiesOnly ? {} : opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: workflowsPath() }),
    activities: { ...acts, ...(opts.overrideActivities?.(acts) ?? {}) },
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? settings.workerMaxActivities,
    maxConcurrentWorkflowTaskExecutions: opts.maxConcurrentWorkflowTasks ?? 10,
    shutdownGraceTime: '30 seconds',
  }).catch(async (e: unknown) => {
    await ctx.close();
    throw e;
  });
  return { worker, context: ctx, close: () => ctx.close() };
}

/** Installs the SDK runtime once per process, with its Prometheus metrics on host:port (port 0: off), next to gold's own. */
export function installRuntime(sdkMetricsPort: number, host = '127.0.0.1'): void {
  const bindAddress = `${host.includes(':') ? `[${host}]` : host}:${sdkMetricsPort}`;
  Runtime.install({
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    ...(sdkMetricsPort > 0 ? { telemetryOptions: { metrics: { prometheus: { bindAddress } } } } : {}),
  });
}
