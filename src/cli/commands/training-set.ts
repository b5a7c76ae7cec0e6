import { type Command, InvalidArgumentError } from 'commander';
import { engineOptions } from '../../engine/duckdb.js';
import { openLake } from '../../lake/index.js';
import { isNormalizeMethod, NORMALIZE_METHODS, type NormalizeMethod } from '../../offline/normalize.js';
import { getHistoricalFeatures } from '../../offline/training-set.js';
import { action, CliError, output, parseDate, settingsFrom } from '../context.js';

interface TrainingSetFlags {
  entities?: string;
  features?: string[];
  featureService?: string;
  out: string;
  fullNames?: boolean;
  asKnownAt?: boolean;
  from?: string;
  to?: string;
  normalize?: NormalizeMethod;
}

function parseMethod(v: string): NormalizeMethod {
  if (!isNormalizeMethod(v)) throw new InvalidArgumentError(`expected ${NORMALIZE_METHODS.join(', ')}`);
  return v;
}

export function registerTrainingSet(program: Command): void {
  program
    .command('training-set')
    .description("a point-in-time correct training set from gold: the entity rows, in order, with the features as of each row's event_timestamp")
    .option('--entities <file>', 'entity rows: CSV or Parquet with the entity key column(s) and event_timestamp (other columns are kept)')
    .option('--features <refs>', 'comma-separated family:feature references (family:feature:zscore|minmax|robust normalizes that feature)', (v: string) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .option(
      '--feature-service <name>',
      "a feature service's features instead of --features, normalized as its refs declare (as the feature server serves them)",
    )
    .requiredOption('--out <file>', 'output file: .parquet or .csv')
    .option('--full-names', 'name feature columns family__feature')
    .option('--as-known-at', 'only rows already created at event_timestamp (what was servable then)')
    .option('--from <date>', 'without --entities: every row of the views from this feature date', parseDate)
    .option('--to <date>', 'without --entities: ... to this feature date (inclusive)', parseDate)
    .option(
      '--normalize <method>',
      "normalize every numeric feature (zscore, minmax or robust) with the statistical_features parameters of each value's feature date",
      parseMethod,
    )
    .action(
      action(async (opts: TrainingSetFlags, cmd: Command) => {
        if ((opts.features === undefined) === (opts.featureService === undefined))
          throw new CliError('give --features REFS or --feature-service NAME (one of them)');
        if ((opts.from === undefined) !== (opts.to === undefined)) throw new CliError('--from and --to go together');
        if ((opts.entities === undefined) === (opts.from === undefined))
          throw new CliError('give --entities FILE, or --from D --to D for every row of the views in a range');
        const s = settingsFrom(cmd);
        const lake = openLake(s.lake, s);
        try {
          const r = await getHistoricalFeatures(lake, engineOptions(s), {
            ...(opts.entities !== undefined ? { entities: opts.entities } : { timeRange: { from: opts.from!, to: opts.to! } }),
            ...(opts.featureService !== undefined ? { featureService: opts.featureService } : { features: opts.features! }),
            fullFeatureNames: opts.fullNames === true,
            asKnownAt: opts.asKnownAt === true,
            out: opts.out,
            ...(opts.normalize !== undefined ? { normalize: opts.normalize } : {}),
          });
          const missing = r.normalization.filter((n) => n.missingParameters > 0);
          output(
            cmd,
            { rows: r.rows, path: r.path, seconds: r.seconds, partitionsRead: r.partitionsRead, columns: r.columns, normalization: r.normalization },
            () =>
              [
                `${r.rows} rows -> ${r.path} (${r.seconds.toFixed(2)} s, ${r.partitionsRead} gold partitions read)`,
                ...(r.normalization.length > 0 ? [`normalized: ${r.normalization.map((n) => `${n.column} (${n.method})`).join(', ')}`] : []),
                ...missing.map((n) => `warning: ${n.missingParameters} value(s) of ${n.feature} have no normalization parameters for their date: null`),
              ].join('\n'),
          );
        } finally {
          await lake.close();
        }
      }),
    );
}
