// The worker pool the embeddings kernels run on: shared memory, and failures surfacing as errors.
import { describe, expect, it } from 'vitest';
import { inThreadExecutor, type Kernel, workerExecutor } from '../../src/features/embeddings/worker-pool.js';

interface State {
  out: Int32Array;
}
interface Task {
  index: number;
  value: number;
}

// Kernel factories must be self-contained: their source text is what the workers run.
function writeKernel(state: State): Kernel<Task> {
  return {
    run(task) {
      if (task.value < 0) throw new Error(`negative value ${task.value}`);
      if (task.value === 0) process.exit(3);
      state.out[task.index] = task.value;
    },
  };
}

describe('kernel executors', () => {
  it('workers write into the shared arrays of the state', async () => {
    const state = { out: new Int32Array(new SharedArrayBuffer(12)) };
    const exec = workerExecutor(writeKernel, state, 3);
    try {
      await exec.run([
        { index: 0, value: 7 },
        { index: 1, value: 8 },
        { index: 2, value: 9 },
      ]);
      await exec.run([{ index: 0, value: 10 }]);
    } finally {
      await exec.close();
    }
    expect(Array.from(state.out)).toEqual([10, 8, 9]);
  });

  it('the in-thread executor runs the same kernel', async () => {
    const state = { out: new Int32Array(2) };
    const exec = inThreadExecutor(writeKernel, state);
    await exec.run([
      { index: 0, value: 1 },
      { index: 1, value: 2 },
    ]);
    expect(Array.from(state.out)).toEqual([1, 2]);
    expect(exec.threads).toBe(1);
  });

  it('rejects when a task throws, and keeps rejecting afterwards', async () => {
    const exec = workerExecutor(writeKernel, { out: new Int32Array(new SharedArrayBuffer(8)) }, 2);
    try {
      await expect(
        exec.run([
          { index: 0, value: 1 },
          { index: 1, value: -5 },
        ]),
      ).rejects.toThrow(/kernel worker 1 failed: negative value -5/);
      await expect(exec.run([{ index: 0, value: 1 }])).rejects.toThrow(/kernel worker 1 failed/);
    } finally {
      await exec.close();
    }
  });

  it('rejects when a worker exits', async () => {
    const exec = workerExecutor(writeKernel, { out: new Int32Array(new SharedArrayBuffer(8)) }, 2);
    try {
      await expect(exec.run([{ index: 0, value: 0 }])).rejects.toThrow(/kernel worker 0 exited unexpectedly \(code 3\)/);
    } finally {
      await exec.close();
    }
  });

  it('refuses more tasks than threads', async () => {
    const exec = workerExecutor(writeKernel, { out: new Int32Array(new SharedArrayBuffer(8)) }, 1);
    try {
      await expect(
        exec.run([
          { index: 0, value: 1 },
          { index: 1, value: 1 },
        ]),
      ).rejects.toThrow(/2 tasks for 1 workers/);
    } finally {
      await exec.close();
    }
  });
});
