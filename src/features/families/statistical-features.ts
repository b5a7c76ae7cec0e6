import { sqlIdent, sqlStr } from '../../engine/sql.js';
import { DAY_SECONDS, type FamilyDecl, type FeatureDecl } from '../types.js';

const stat = (name: string, description: string, nullable = true): FeatureDecl => ({ name, type: 'DOUBLE', description, nullable, maxNullShare: 1 });

export const statisticalFeatures: FamilyDecl = {
  name: 'statistical_features',
  description:
    'Distribution of every numeric feature of the other families on the date; also the normalization parameters (z-score, min-max, robust) that training and serving share.',
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
  dependsOn: ['user_features', 'item_features', 'session_features', 'temporal_features'],
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
  sql: ({ dependencies }) =>
    dependencies
      .flatMap((fam) =>
        fam.features
          .filter((f) => f.type === 'BIGINT' || f.type === 'DOUBLE')
          .map(
            (f) => `SELECT ${sqlStr(fam.name)} AS family, ${sqlStr(f.name)} AS feature, n AS count, nulls AS null_count, mean,
              CASE WHEN n > 1 THEN (CASE WHEN min = max THEN 0 ELSE sqrt(s2 / (n - 1)) END) END AS stddev, min, max, p25, p50, p75, p95, p75 - p25 AS iqr,
              CASE WHEN n > 2 AND min < max THEN sqrt(n * (n - 1)) / (n - 2) * (s3 / n) / pow(s2 / n, 1.5) END AS skewness,
              CASE WHEN n > 3 AND min < max THEN (n - 1) * ((n + 1) * (s4 / n) / pow(s2 / n, 2) - 3 * (n - 1)) / ((n - 2) * (n - 3)) END AS kurtosis
            FROM (
              SELECT m.*, fsum(pow(x - mean, 2)) AS s2, fsum(pow(x - mean, 3)) AS s3, fsum(pow(x - mean, 4)) AS s4
              FROM (SELECT count(x)::BIGINT AS n, (count(*) - count(x))::BIGINT AS nulls, fsum(x) / nullif(count(x), 0) AS mean,
                  min(x) AS min, max(x) AS max, quantile_cont(x, 0.25) AS p25, quantile_cont(x, 0.5) AS p50,
                  quantile_cont(x, 0.75) AS p75, quantile_cont(x, 0.95) AS p95
                 FROM (SELECT ${sqlIdent(f.name)}::DOUBLE AS x FROM ${sqlIdent(fam.name)})) m
              LEFT JOIN (SELECT ${sqlIdent(f.name)}::DOUBLE AS x FROM ${sqlIdent(fam.name)}) v ON true
              GROUP BY ALL)`,
          ),
      )
      .join('\nUNION ALL\n'),
};
