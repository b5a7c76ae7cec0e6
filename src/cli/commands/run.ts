import type { Command } from 'commander';
import type { DailyReport } from '../../pipeline/types.js';
import { createStepContext } from '../../steps/context.js';
import { createSteps, IN_PROCESS } from '../../steps/index.js';
import { runDailyLocal } from '../../steps/local-runner.js';
import { connectClient } from '../../temporal/connection.js';
import { startDaily } from '../../temporal/workflows.js';
import { action, addQualityOptions, globals, output, parseDate, parseFamilies, qualityFrom, settingsFrom } from '../context.js';
import { renderDailyReport, uiLink } from '../render.js';

export function registerRun(program: Command): void {
  const run = program.command('run').description('run gold jobs');
  addQualityOptions(run.command('daily'))
    .description('start the daily gold workflow for a date (idempotent: one workflow id per date)')
    .requiredOption('--date <date>', 'feature date (YYYY-MM-DD)', parseDate)
    .option('--families <list>', 'only these families (and what they depend on)', parseFamilies)
    .option('--wait', 'wait for the result and print the run report')
    .option('--local', 'run the same DAG in this process, without Temporal')
    .option('--rerun', 'start a new run even if this date already ran')
    .action(
      action(
        async (
          opts: { date: string; families?: string[]; wait?: boolean; local?: boolean; rerun?: boolean; driftWarnOnly?: boolean; quarantineRows?: boolean },
          cmd: Command,
        ) => {
          const s = settingsFrom(cmd);
          const json = globals(cmd).json;
          const quality = qualityFrom(opts);
          let report: DailyReport;
          if (opts.local) {
            const ctx = createStepContext(s);
            try {
              report = await runDailyLocal(
                createSteps(ctx, IN_PROCESS),
                { date: opts.date, families: opts.families, runKind: 'daily', quality },
                (l) => json || process.stderr.write(`${l}\n`),
              );
            } finally {
              // The online store too: a Redis connection left open keeps the process from exiting.
              await ctx.close();
            }
          } else {
            const client = await connectClient(s);
            try {
              const started = await startDaily(client, s, { date: opts.date, families: opts.families, quality }, { rerun: opts.rerun });
              const link = uiLink(s, started.workflowId);
              if (!opts.wait) {
                output(
                  cmd,
                  { workflowId: started.workflowId, started: started.started, ui: link },
                  () => `${started.started ? 'started' : 'already started (same date)'}: ${started.workflowId}\nweb ui: ${link}`,
                );
                return;
              }
              if (!json) process.stderr.write(`${started.started ? 'started' : 'following existing run'} ${started.workflowId}\nweb ui: ${link}\n`);
              report = await started.result();
            } finally {
              await client.connection.close();
            }
          }
          output(cmd, report, () => renderDailyReport(report));
          if (report.status !== 'succeeded') process.exitCode = 1;
        },
      ),
    );
}
