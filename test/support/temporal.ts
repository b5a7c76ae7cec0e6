// Running gold workflows against the shared dev server: a bundle built once per file, in-process
// workers on unique task queues, and worker processes (the real `gold worker` CLI) for crash tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { type Settings, settingsEnv } from '../../src/config/settings.js';
import type { DailyInput, DailyReport } from '../../src/pipeline/types.js';
import { type GoldWorkflows, WORKFLOW } from '../../src/pipeline/workflows.js';
import { packageRoot } from '../../src/tools/binaries.js';
import { createGoldWorker, type GoldWorkerOptions, workflowsPath } from '../../workers/worker.js';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    logger: {
      log: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: console.error,
      debug: () => undefined,
      trace: () => undefined,
    } as never,
  });
  return bundle;
}

export async function testClient(s: Settings): Promise<Client> {
  const connection = await Connection.connect({ address: s.temporalAddress });
  return new Client({ connection, namespace: s.temporalNamespace });
}

/**
 * Runs the daily workflow for a date under a workflow id of its own (not gold-daily-<date>), so that
 * test files running at once on the shared server never meet each other's runs of the same date.
 */
export async function runDailyUnique(client: Client, s: Settings, input: DailyInput): Promise<DailyReport> {
  const handle = await client.workflow.start<GoldWorkflows['dailyGoldWorkflow']>(WORKFLOW.daily, {
    taskQueue: s.taskQueue,
    workflowId: `test-daily-${input.date}-${randomBytes(4).toString('hex')}`,
    args: [{ runKind: 'daily', ...input }],
  });
  return handle.result();
}

/** Runs fn with an in-process worker polling the settings' task queue. */
export async function withWorker<T>(s: Settings, fn: (worker: Worker) => Promise<T>, opts: GoldWorkerOptions = {}): Promise<T> {
  const connection = await NativeConnection.connect({ address: s.temporalAddress });
  const { worker, close } = await createGoldWorker(s, { connection, workflowBundle: await workflowBundle(), ...opts });
  try {
    return await worker.runUntil(fn(worker));
  } finally {
    await close();
    await connection.close();
  }
}

/** The real `gold worker` command as a child process (for crash and restart tests). */
export function spawnWorkerProcess(s: Settings, logName = 'worker.log', extraEnv: Record<string, string> = {}): ChildProcess {
  const out = openSync(join(s.home, logName), 'a');
  return spawn(process.execPath, [join(packageRoot, 'bin', 'gold.js'), 'worker'], {
    env: { ...process.env, ...settingsEnv(s), GOLD_METRICS_PORT: '0', ...extraEnv },
    stdio: ['ignore', out, out],
  });
}
