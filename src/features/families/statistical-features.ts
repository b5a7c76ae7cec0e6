import { sqlIdent, sqlStr } from '../../engine/sql.js';
import { STATISTICS } from '../statistics/index.js';
import { DAY_SECONDS, type FamilyDecl, type FeatureDecl, type StatisticsDecl } from '../types.js';

const DESCRIBED = ['user_features', 'item_features', 'session_features', 'temporal_features'];

/** A row of statistical_features: the family, the row's feature name, the expression described. */
export interface DescribedColumn {
  family: string;
  feature: string;
  expr: string;
}

/**
 * What statistical_features describes: every numeric feature of each family, then the columns the
 * statistics declarations add to it. A declaration of a family not described, a name a family's
 * feature has, or a name declared twice is an error.
 */
export function describedColumns(dependencies: readonly FamilyDecl[], declarations: readonly StatisticsDecl[] = STATISTICS): DescribedColumn[] {
  for (const d of declarations)
    if (!DESCRIBED.includes(d.family)) throw new Error(`statistics declaration of ${d.family}: statistical_features describes only ${DESCRIBED.join(', ')}`);
  return dependencies.flatMap((fam) => {
    const own = fam.features
      .filter((f) => f.type === 'BIGINT' || f.type === 'DOUBLE')
      .map((f) => ({ family: fam.name, feature: f.name, expr: sqlIdent(f.name) }));
    const names = new Set(fam.features.map((f) => f.name));
    const declared = declarations
      .filter((d) => d.family === fam.name)
      .flatMap((d) => d.columns)
      .map((c) => {
        if (names.has(c.name))
          throw new Error(`statistics column ${c.name} of ${fam.name}: the family has a feature of that name, or it is declared twice (give it another name)`);
        names.add(c.name);
        return { family: fam.name, feature: c.name, expr: `(${c.sql})` };
      });
    return [...own, ...declared];
  });
}

/** The statistics of the columns, one row each, the same SQL for a feature and a declared column. */
export function statisticsSql(columns: readonly DescribedColumn[]): string {
  return columns
    .map(
      (c) => `SELECT ${sqlStr(c.family)} AS family, ${sqlStr(c.feature)} AS feature, n AS count, nulls AS null_count, mean,
              CASE WHEN n > 1 THEN (CASE WHEN min = max THEN 0 ELSE sqrt(s2 / (n - 1)) END) END AS stddev, min, max, p25, p50, p75, p95, p75 - p25 AS iqr,
              CASE WHEN n > 2 AND min < max THEN sqrt(n * (n - 1)) / (n - 2) * (s3 / n) / pow(s2 / n, 1.5) END AS skewness,
              CASE WHEN n > 3 AND min < max THEN (n - 1) * ((n + 1) * (s4 / n) / pow(s2 / n, 2) - 3 * (n - 1)) / ((n - 2) * (n - 3)) END AS kurtosis
            FROM (
              SELECT m.*, fsum(pow(x - mean, 2)) AS s2, fsum(pow(x - mean, 3)) AS s3, fsum(pow(x - mean, 4)) AS s4
              FROM (SELECT count(x)::BIGINT AS n, (count(*) - count(x))::BIGINT AS nulls, fsum(x) / nullif(count(x), 0) AS mean,
                  min(x) AS min, max(x) AS max, quantile_cont(x, 0.25) AS p25, quantile_cont(x, 0.5) AS p50,
                  quantile_cont(x, 0.75) AS p75, quantile_cont(x, 0.95) AS p95
                 FROM (SELECT ${c.expr}::DOUBLE AS x FROM ${sqlIdent(c.family)})) m
              LEFT JOIN (SELECT ${c.expr}::DOUBLE AS x FROM ${sqlIdent(c.family)}) v ON true
              GROUP BY ALL)`,
    )
    .join('\nUNION ALL\n');
}

const stat = (name: string, description: string, nullable = true): FeatureDecl => ({ name, type: 'DOUBLE', description, nullable, maxNullShare: 1 });

export const statisticalFeatures: FamilyDecl = {
  name: 'statistical_features',
  description:
    'Distribution of every numeric feature of the other families on the date, and of the columns declared in src/features/statistics/; also the normalization parameters (z-score, min-max, robust) that training and serving share.',
  owner: 'ml-platform',
  version: 1,
  entity: 'feature',
  keys: [
    { name: 'family', type: 'VARCHAR' },
    { name: 'feature', type: 'VARCHAR' },
  ],
  ttlSeconds: 7 * DAY_SECONDS,
  // Its values describe the other families' features, over windows of up to 30 days.
  windowDays: 30,
  // Its rows are features, not entities: values far from the others (a total beside a share) are its
  // nature, not a quality signal.
  severity: { outliers: 'off', skew: 'off' },
  partials: {},
  dependsOn: DESCRIBED,
  online: true,
  features: [
    { name: 'count', type: 'BIGINT', min: 0, description: 'non-null values' },
    { name: 'null_count', type: 'BIGINT', min: 0, description: 'null values' },
    stat('mean', 'mean (z-score centre)'),
    stat('stddev', 'sample standard deviation (z-score scale)'),
    stat('min', 'minimum (min-max scaling)'),
    stat('max', 'maximum (min-max scaling)'),
    stat('p25', '25th percentile (linear interpolation)'),
    stat('p50', 'median (robust scaling centre)'),
    stat('p75', '75th percentile'),
    stat('p95', '95th percentile'),
    stat('iqr', 'p75 - p25 (robust scaling scale)'),
    stat('skewness', 'sample skewness: sqrt(n(n-1))/(n-2) * m3 / m2^1.5 (as DuckDB skewness)'),
    stat('kurtosis', 'sample excess kurtosis: (n-1)((n+1) m4/m2^2 - 3(n-1)) / ((n-2)(n-3)) (as DuckDB kurtosis)'),
  ],
  rules: [
    {
      name: 'ordered_quantiles',
      description: 'min <= p25 <= p50 <= p75 <= p95 <= max',
      sql: 'count = 0 OR (min <= p25 AND p25 <= p50 AND p50 <= p75 AND p75 <= p95 AND p95 <= max)',
    },
  ],
  // Moments from compensated sums over the mean (two passes), so that a recomputation gives the same
  // bits whatever the thread scheduling; skewness and kurtosis with DuckDB's sample formulas. A constant
  // column has stddev 0 and no skewness or kurtosis (its computed mean can be an ulp off every value,
  // which would make rounding noise look like shape). An empty family still has a row per feature
  // (count 0): the values are joined to the aggregates, so that no values still give a row.
  sql: ({ dependencies }) => statisticsSql(describedColumns(dependencies)),
};
