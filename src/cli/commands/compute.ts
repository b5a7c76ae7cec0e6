import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { engineOptions } from '../../engine/duckdb.js';
import { computeRange } from '../../features/compute-range.js';
import type { PartialsDayReport } from '../../features/partials/build.js';
import { openLake } from '../../lake/index.js';
import { action, globals, output, parseDate, parseFamilies, parseRunId, requireRange, settingsFrom } from '../context.js';

export function registerCompute(program: Command): void {
  program
    .command('compute')
    .description('compute feature families for a date range in-process (no Temporal); stages results, does not commit gold')
    .requiredOption('--from <date>', 'first feature date (YYYY-MM-DD)', parseDate)
    .requiredOption('--to <date>', 'last feature date (YYYY-MM-DD)', parseDate)
    .option('--families <list>', 'comma-separated families (and what they depend on)', parseFamilies)
    .option('--run-id <id>', 'staging run id', parseRunId, 'compute')
    .action(
      action(async (opts: { from: string; to: string; families?: string[]; runId: string }, cmd: Command) => {
        requireRange(opts.from, opts.to);
        const s = settingsFrom(cmd);
        const lake = openLake(s.lake, s);
        const ctx = { lake, engine: engineOptions(s), scratchDir: join(tmpdir(), 'gold-compute') };
        const quiet = globals(cmd).json;
        try {
          const results = await computeRange(ctx, {
            ...opts,
            onPartials: (r) => quiet || process.stderr.write(`partials ${r.date}: ${partialKindsComputed(r)} (${r.seconds.toFixed(2)} s)\n`),
          });
          output(
            cmd,
            results.map((r) => ({ ...r, location: `${lake.uri}/${r.stagingPath}` })),
            () =>
              results
                .map((r) => `${r.date}  ${r.family.padEnd(22)} ${String(r.rows).padStart(9)} rows  ${r.seconds.toFixed(2)} s  ${lake.uri}/${r.stagingPath}`)
                .join('\n'),
          );
        } finally {
          await lake.close();
        }
      }),
    );
}

/** Which kinds of partials a day recomputed, e.g. "daily, history, windows, links". */
function partialKindsComputed(r: PartialsDayReport): string {
  return [r.dailyComputed && 'daily', r.historyComputed && 'history', r.windowsComputed && 'windows', r.linksComputed && 'links'].filter(Boolean).join(', ');
}
