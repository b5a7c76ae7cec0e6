import type { Command } from 'commander';
import { createGoldWorker } from '../../../workers/worker.js';
import { logger } from '../../monitoring/logger.js';
import { action, parsePositiveInt, settingsFrom } from '../context.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a worker on the task queue until SIGINT/SIGTERM (finishes or hands back running activities)')
    .option('--max-concurrent-activities <n>', 'activities run at once', parsePositiveInt('--max-concurrent-activities'))
    .action(
      action(async (opts: { maxConcurrentActivities?: number }, cmd: Command) => {
        const s = settingsFrom(cmd);
        const worker = await createGoldWorker(s, { maxConcurrentActivities: opts.maxConcurrentActivities });
        logger().info({ taskQueue: s.taskQueue, address: s.temporalAddress, namespace: s.temporalNamespace }, 'worker started');
        // The SDK installs SIGINT/SIGTERM handlers that shut the worker down gracefully.
        await worker.run();
        logger().info('worker stopped');
      }),
    );
}
