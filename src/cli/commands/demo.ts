import type { Command } from 'commander';
import { stackUp } from '../../dev/stack.js';
import { runDoctor } from '../../doctor/doctor.js';
import { engineOptions } from '../../engine/duckdb.js';
import { openLake } from '../../lake/index.js';
import { addDays } from '../../shared/dates.js';
import { generateSilver } from '../../silver/generator.js';
import { silverDates } from '../../silver/status.js';
import { connectClient } from '../../temporal/connection.js';
import { startDaily } from '../../temporal/workflows.js';
import { action, output, parsePositiveInt, settingsFrom } from '../context.js';
import { renderDailyReport, uiLink } from '../render.js';
import { renderStatus } from './dev.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description("the README's main job: the local stack up, a few days of synthetic silver, the daily gold workflow for the last one, a summary")
    .option('--days <n>', 'days of synthetic silver, ending yesterday (UTC)', parsePositiveInt('--days'), 7)
    .option('--events-per-day <n>', 'synthetic events per day', parsePositiveInt('--events-per-day'), 100_000)
    .action(
      action(async (o: { days: number; eventsPerDay: number }, cmd: Command) => {
        const s = settingsFrom(cmd);
        const log = (m: string) => process.stderr.write(`${m}\n`);
        const stack = await stackUp(s, log);
        const checks = await runDoctor(s);
        const failed = checks.filter((c) => !c.ok);
        if (failed.length > 0) throw new Error(`gold doctor: ${failed.map((c) => `${c.check}: ${c.detail}`).join('; ')}`);

        const to = addDays(new Date().toISOString().slice(0, 10), -1);
        const from = addDays(to, -(o.days - 1));
        const lake = openLake(s.lake, s);
        try {
          const have = new Set(await silverDates(lake));
          if (![...Array(o.days).keys()].every((i) => have.has(addDays(from, i)))) {
            log(`generating synthetic silver ${from}..${to} (${o.eventsPerDay} events/day) in ${lake.uri}`);
            await generateSilver(lake, engineOptions(s), {
              from,
              to,
              users: Math.max(500, Math.round(o.eventsPerDay / 40)),
              videos: 2000,
              eventsPerDay: o.eventsPerDay,
              seed: 1,
            });
          }
        } finally {
          await lake.close();
        }

        const client = await connectClient(s);
        try {
          const started = await startDaily(client, s, { date: to });
          log(`${started.started ? 'started' : 'found'} ${started.workflowId}: ${uiLink(s, started.workflowId)}`);
          const report = await started.result();
          output(cmd, { stack, checks, report, ui: uiLink(s, started.workflowId) }, () =>
            [renderStatus(stack), '', renderDailyReport(report), '', `Temporal Web UI: ${uiLink(s, started.workflowId)}`].join('\n'),
          );
          if (report.status !== 'succeeded') process.exitCode = 1;
        } finally {
          await client.connection.close();
        }
      }),
    );
}
