// A gold worker: one process polling the task queue, with every workflow and activity registered.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, createActivityContext } from '../activities/index.js';
import type { Settings } from '../src/config/settings.js';

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
}

export async function createGoldWorker(settings: Settings, opts: GoldWorkerOptions = {}): Promise<Worker> {
  const connection = opts.connection ?? (await NativeConnection.connect({ address: settings.temporalAddress }));
  const ctx = createActivityContext(settings);
  return Worker.create({
    connection,
    namespace: settings.temporalNamespace,
    taskQueue: settings.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: workflowsPath() }),
    activities: createActivities(ctx),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 4,
    shutdownGraceTime: '30 seconds',
  });
}
