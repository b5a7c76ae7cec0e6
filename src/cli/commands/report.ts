import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { openLake } from '../../lake/index.js';
import { buildDateReport } from '../../monitoring/report/data.js';
import { renderReportHtml } from '../../monitoring/report/html.js';
import { describeFilling } from '../../quality/report.js';
import { action, CliError, globals, output, parseDate, settingsFrom } from '../context.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'quality and drift report of a feature date, from its stored validation reports and run records: an HTML page with charts (and JSON with --json)',
    )
    .requiredOption('--date <date>', 'feature date (YYYY-MM-DD)', parseDate)
    .option('--out <file>', 'where to write the HTML page (default gold-report-<date>.html; with --json, only when given)')
    .action(
      action(async (opts: { date: string; out?: string }, cmd: Command) => {
        const s = settingsFrom(cmd);
        const lake = openLake(s.lake, s);
        try {
          // A mistyped --lake is an empty folder: say so rather than write a page of empty sections.
          if ((await lake.listDirs('')).length === 0) throw new CliError(`lake ${lake.uri} is empty: nothing to report (check --lake or GOLD_LAKE)`);
          const report = await buildDateReport(lake, opts.date);
          const json = globals(cmd).json;
          const out = opts.out ?? (json ? undefined : `gold-report-${opts.date}.html`);
          if (out) await writeFile(out, renderReportHtml(report));
          const validated = report.families.filter((f) => f.validation);
          output(cmd, report, () =>
            [
              `wrote ${resolve(out!)}`,
              ...report.families.map(
                (f) =>
                  `  ${f.family.padEnd(22)} ${f.validation ? `score ${f.validation.score.toFixed(3)}  ${f.validation.passed ? 'passed' : 'FAILED'}${f.validation.warned.length ? `, ${f.validation.warned.length} warning(s)` : ''}${describeFilling(f.validation) ? `; ${describeFilling(f.validation)}` : ''}` : 'no validation report'}`,
              ),
              ...report.runs
                .filter((r) => r.accepted)
                .map((r) => `  accepted in run ${r.runId}: ${r.accepted!.family} landed as it was staged, by ${r.accepted!.acceptedBy}: ${r.accepted!.reason}`),
              `${validated.length}/${report.families.length} views validated, ${report.alerts.length} alert(s), ${report.dlq.filter((e) => e.status === 'open').length} open DLQ entries`,
            ].join('\n'),
          );
        } finally {
          await lake.close();
        }
      }),
    );
}
