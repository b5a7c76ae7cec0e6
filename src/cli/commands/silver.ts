import { type Command, InvalidArgumentError } from 'commander';
import { engineOptions, withEngine } from '../../engine/duckdb.js';
import { openLake } from '../../lake/index.js';
import { type GeneratedDate, generateSilver } from '../../silver/generator.js';
import { readSilver } from '../../silver/reader.js';
import { action, globals, output, parseDate, parsePositiveInt, requireRange, settingsFrom } from '../context.js';

function parseInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`invalid ${name}: expected a whole number`);
    return n;
  };
}

function parseRate(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n < 1)) throw new InvalidArgumentError('invalid bad row rate: expected a number from 0 up to (not including) 1');
  return n;
}

function parseHours(value: string): [number, number] {
  const m = /^(\d{1,2})-(\d{1,2})$/.exec(value);
  const range: [number, number] | null = m ? [Number(m[1]), Number(m[2])] : null;
  if (!range || range[0] >= range[1] || range[1] > 24)
    throw new InvalidArgumentError('invalid hours: expected START-END with 0 <= START < END <= 24, e.g. 18-22');
  return range;
}

function parseInstant(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError('invalid time: expected an ISO 8601 time such as 2024-03-02T06:00:00Z');
  return d;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const dateLine = (d: GeneratedDate): string =>
  `${d.date}  ${String(d.rows).padStart(11)} rows (${d.badRows} bad)  ${d.files} files  ${mb(d.bytes).padStart(9)}  ${d.seconds.toFixed(1)} s`;

export function registerSilver(program: Command): void {
  const silver = program.command('silver').description('the silver event layer: synthetic data and validation');

  silver
    .command('generate')
    .description('write synthetic silver events for a date range (replacing those dates), deterministic for a seed')
    .requiredOption('--from <date>', 'first date (YYYY-MM-DD)', parseDate)
    .requiredOption('--to <date>', 'last date (YYYY-MM-DD)', parseDate)
    .option('--users <n>', 'user population', parsePositiveInt('users'), 10_000)
    .option('--videos <n>', 'video catalogue size', parsePositiveInt('videos'), 2_000)
    .option('--events-per-day <n>', 'events per day (weekly average)', parsePositiveInt('events per day'), 100_000)
    .option('--seed <n>', 'random seed', parseInteger('seed'), 42)
    .option('--bad-rows <rate>', 'share of extra rows breaking the silver rules (e.g. 0.01)', parseRate, 0)
    .action(
      action(async (opts: { from: string; to: string; users: number; videos: number; eventsPerDay: number; seed: number; badRows: number }, cmd: Command) => {
        requireRange(opts.from, opts.to);
        const s = settingsFrom(cmd);
        const lake = openLake(s.lake, s);
        const json = globals(cmd).json === true;
        try {
          const report = await generateSilver(lake, engineOptions(s), {
            ...opts,
            badRowRate: opts.badRows,
            onDate: (d) => json || process.stdout.write(`${dateLine(d)}\n`),
          });
          output(
            cmd,
            report,
            () => `${report.rows} rows (${report.badRows} bad) in ${report.files} files, ${mb(report.bytes)}, ${report.seconds.toFixed(1)} s -> ${lake.uri}`,
          );
        } finally {
          await lake.close();
        }
      }),
    );

  silver
    .command('validate')
    .description('read silver for a date range, check every rule, quarantine bad rows and print the counts')
    .requiredOption('--from <date>', 'first date (YYYY-MM-DD)', parseDate)
    .requiredOption('--to <date>', 'last date (YYYY-MM-DD)', parseDate)
    .option('--hours <start-end>', 'only these UTC hours of each date, e.g. 18-22 (no quarantine then)', parseHours)
    .option('--run-time <time>', 'the run time for the rule against future timestamps (default: now)', parseInstant)
    .option('--no-quarantine', 'count bad rows without writing them to the quarantine')
    .option('--allow-missing', 'read the dates that are there instead of failing on missing ones')
    .action(
      action(
        async (opts: { from: string; to: string; hours?: [number, number]; runTime?: Date; quarantine: boolean; allowMissing?: boolean }, cmd: Command) => {
          requireRange(opts.from, opts.to);
          const s = settingsFrom(cmd);
          const lake = openLake(s.lake, s);
          try {
            const report = await withEngine(engineOptions(s), (db) =>
              readSilver(db, lake, { ...opts, quarantine: opts.hours ? false : opts.quarantine, allowMissing: opts.allowMissing === true }),
            );
            output(cmd, report, () =>
              [
                `dates ${report.dates.length}, partitions ${report.partitionsRead}, files ${report.filesRead}, ${mb(report.bytesRead)}`,
                `rows read ${report.rowsRead} = accepted ${report.rowsAccepted} + quarantined ${report.rowsQuarantined}`,
                ...Object.entries(report.quarantinedByRule).map(([rule, n]) => `  ${rule.padEnd(28)} ${n}`),
                ...(report.extraColumns.length ? [`extra columns ignored: ${report.extraColumns.join(', ')}`] : []),
                ...report.missing.map((m) => `${m.reason}: ${m.date}`),
                ...report.emptyDates.map((d) => `empty (complete, no file): ${d}`),
                ...report.quarantineKeys.map((k) => `quarantine: ${lake.uri}/${k}`),
              ].join('\n'),
            );
          } finally {
            await lake.close();
          }
        },
      ),
    );
}
