// Runs a numeric kernel's tasks either in the calling thread or on worker threads that share its state.
//
// Workers are started from source text (`eval: true`) built from the kernel factory itself rather than
// from a file: a .ts worker file cannot be loaded under vitest without a loader, and a .js file would
// not exist next to the sources. This way the identical kernel runs from src/ and from dist/. The
// factory must therefore be self-contained (no references outside its body, type imports aside).
import { Worker } from 'node:worker_threads';

export interface Kernel<Task> {
  run(task: Task): void;
}

export interface Executor<Task> {
  readonly threads: number;
  /** Runs at most `threads` tasks concurrently, one per thread, and resolves when all are done. */
  run(tasks: readonly Task[]): Promise<void>;
  close(): Promise<void>;
}

export function inThreadExecutor<State, Task>(createKernel: (state: State) => Kernel<Task>, state: State): Executor<Task> {
  const kernel = createKernel(state);
  return {
    threads: 1,
    async run(tasks) {
      for (const task of tasks) kernel.run(task);
    },
    async close() {},
  };
}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * `threads` workers, each running `createKernel(state)`. The state's typed arrays must be
 * SharedArrayBuffer-backed: they are shared with the workers, not copied.
 */
export function workerExecutor<State, Task>(createKernel: (state: State) => Kernel<Task>, state: State, threads: number): Executor<Task> {
  const source = `
const { parentPort, workerData } = require('node:worker_threads');
const kernel = (${createKernel.toString()})(workerData);
parentPort.on('message', (task) => { kernel.run(task); parentPort.postMessage(null); });
`;
  const pending: (Pending | null)[] = new Array(threads).fill(null);
  let failure: Error | null = null;
  let closing = false;
  const fail = (error: Error): void => {
    failure ??= error;
    for (let k = 0; k < threads; k++) {
      pending[k]?.reject(failure);
      pending[k] = null;
    }
  };
  const workers = Array.from({ length: threads }, (_, k) => {
    const worker = new Worker(source, { eval: true, workerData: state });
    worker.on('message', () => {
      const done = pending[k];
      pending[k] = null;
      done?.resolve();
    });
    worker.on('error', (error) => fail(new Error(`kernel worker ${k} failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => {
      if (!closing) fail(new Error(`kernel worker ${k} exited unexpectedly (code ${code})`));
    });
    return worker;
  });
  return {
    threads,
    run(tasks) {
      if (tasks.length > threads) return Promise.reject(new Error(`${tasks.length} tasks for ${threads} workers`));
      return Promise.all(
        tasks.map(
          (task, k) =>
            new Promise<void>((resolve, reject) => {
              if (failure) return reject(failure);
              pending[k] = { resolve, reject };
              workers[k].postMessage(task);
            }),
        ),
      ).then(() => undefined);
    },
    async close() {
      closing = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
