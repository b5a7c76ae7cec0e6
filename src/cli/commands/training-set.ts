import type { Command } from 'commander';
import { engineOptions } from '../../engine/duckdb.js';
import { openLake } from '../../lake/index.js';
import { getHistoricalFeatures } from '../../offline/training-set.js';
import { action, CliError, output, parseDate, settingsFrom } from '../context.js';

interface TrainingSetFlags {
  entities?: string;
  features: string[];
  out: string;
  fullNames?: boolean;
  asKnownAt?: boolean;
  from?: string;
  to?: string;
}

export function registerTrainingSet(program: Command): void {
  program
    .command('training-set')
    .description("a point-in-time correct training set from gold: the entity rows, in order, with the features as of each row's event_timestamp")
    .option('--entities <file>', 'entity rows: CSV or Parquet with the entity key column(s) and event_timestamp (other columns are kept)')
    .requiredOption('--features <refs>', 'comma-separated family:feature references', (v: string) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .requiredOption('--out <file>', 'output file: .parquet or .csv')
    .option('--full-names', 'name feature columns family__feature')
    .option('--as-known-at', 'only rows already created at event_timestamp (what was servable then)')
    .option('--from <date>', 'without --entities: every row of the views from this feature date', parseDate)
    .option('--to <date>', 'without --entities: ... to this feature date (inclusive)', parseDate)
    .action(
      action(async (opts: TrainingSetFlags, cmd: Command) => {
        if ((opts.from === undefined) !== (opts.to === undefined)) throw new CliError('--from and --to go together');
        if ((opts.entities === undefined) === (opts.from === undefined))
          throw new CliError('give --entities FILE, or --from D --to D for every row of the views in a range');
        const s = settingsFrom(cmd);
        const lake = openLake(s.lake, s);
        try {
          const r = await getHistoricalFeatures(lake, engineOptions(s), {
            ...(opts.entities !== undefined ? { entities: opts.entities } : { timeRange: { from: opts.from!, to: opts.to! } }),
            features: opts.features,
            fullFeatureNames: opts.fullNames === true,
            asKnownAt: opts.asKnownAt === true,
            out: opts.out,
          });
          output(
            cmd,
            { rows: r.rows, path: r.path, seconds: r.seconds, partitionsRead: r.partitionsRead, columns: r.columns },
            () => `${r.rows} rows -> ${r.path} (${r.seconds.toFixed(2)} s, ${r.partitionsRead} gold partitions read)`,
          );
        } finally {
          await lake.close();
        }
      }),
    );
}
