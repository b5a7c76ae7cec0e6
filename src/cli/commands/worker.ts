import type { Command } from 'commander';
import { createGoldWorker, installRuntime } from '../../../workers/worker.js';
import { goldMetrics, startMetricsServer } from '../../monitoring/metrics.js';
import { ViewFreshness } from '../../monitoring/view-freshness.js';
import { onlineViews } from '../../online/views.js';
import { logger } from '../../shared/logger.js';
import { action, parsePositiveInt, settingsFrom } from '../context.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a worker on the task queue until SIGINT/SIGTERM (running activities get 30 s to finish, then are handed back for retry)')
    .option(
      '--max-concurrent-activities <n>',
      'activities run at once (default: GOLD_WORKER_MAX_ACTIVITIES, 8)',
      parsePositiveInt('--max-concurrent-activities'),
    )
    .option('--max-concurrent-workflow-tasks <n>', 'workflow tasks run at once', parsePositiveInt('--max-concurrent-workflow-tasks'))
    .option('--activities-only', 'poll activities only (a heavy-activity worker, e.g. on its own task queue with --task-queue)')
    .action(
      action(async (opts: { maxConcurrentActivities?: number; maxConcurrentWorkflowTasks?: number; activitiesOnly?: boolean }, cmd: Command) => {
        const s = settingsFrom(cmd);
        // Until the worker runs (bundling the workflows takes seconds), a stop signal is noted here, and
        // the worker stops as soon as it runs, instead of the process dying halfway through its start;
        // once it runs, the SDK's handlers drain it.
        let stopBeforeRun = false;
        const stopEarly = () => {
          stopBeforeRun = true;
        };
        process.once('SIGINT', stopEarly);
        process.once('SIGTERM', stopEarly);
        logger().info({ taskQueue: s.taskQueue }, 'worker starting');
        // gold's metrics on GOLD_METRICS_PORT, the SDK's own runtime metrics on the next port; 0 turns both off.
        installRuntime(s.metricsPort > 0 ? s.metricsPort + 1 : 0, s.metricsHost);
        const metrics = s.metricsPort > 0 ? await startMetricsServer(s.metricsPort, s.metricsHost) : undefined;
        const { worker, context, close } = await createGoldWorker(s, {
          maxConcurrentActivities: opts.maxConcurrentActivities,
          maxConcurrentWorkflowTasks: opts.maxConcurrentWorkflowTasks,
          activitiesOnly: opts.activitiesOnly,
        });
        process.off('SIGINT', stopEarly);
        process.off('SIGTERM', stopEarly);
        const { lake, online } = context;
        // Next to gold's metrics: the views' freshness, exported whether or not this worker runs anything.
        const freshness = metrics
          ? new ViewFreshness(goldMetrics().registry, {
              lake,
              online: { store: online(), views: () => onlineViews(lake) },
              slaSeconds: s.freshnessSlaSeconds,
              refreshSeconds: s.freshnessRefreshSeconds,
            })
          : undefined;
        logger().info(
          { taskQueue: s.taskQueue, address: s.temporalAddress, namespace: s.temporalNamespace, metricsPort: s.metricsPort || undefined },
          'worker started',
        );
        try {
          const running = worker.run();
          // A signal during the start: the worker stops as soon as it runs, through the usual shutdown.
          if (stopBeforeRun) {
            logger().info('stop signal received while starting: stopping');
            worker.shutdown();
          }
          await running;
        } finally {
          await freshness?.stop();
          await close();
          await metrics?.close();
        }
        logger().info('worker stopped');
      }),
    );
}
