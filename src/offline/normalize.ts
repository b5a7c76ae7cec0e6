// Normalization as a declared transformation: the one definition of the formulas, evaluated in DuckDB
// SQL for training sets (normalizeSql) and in TypeScript for the feature server (normalizeValue). The
// parameters are the statistical_features gold row (family, feature) of the same feature date as the
// value (point in time: the statistics of the rows the value belongs to).
//
//   zscore  (x - mean) / stddev
//   minmax  (x - min) / (max - min)
//   robust  (x - p50) / iqr
//
// x null -> null. Parameters absent (no row for the feature and date) or null (a feature with fewer
// than two values has no stddev) -> null, reported as "no parameters". A zero scale (a constant
// feature: stddev 0, max = min; or an IQR of 0) -> 0: the value sits at the centre, and the scale
// says nothing about how far from it. Otherwise the IEEE double operations above, in that order, on x
// cast to DOUBLE: both evaluations give the same bits (a property test checks it).

export const NORMALIZE_METHODS = ['zscore', 'minmax', 'robust'] as const;
export type NormalizeMethod = (typeof NORMALIZE_METHODS)[number];

/** The family whose gold rows hold the parameters, keyed (family, feature). */
export const PARAMETERS_FAMILY = 'statistical_features';
/** Its columns the formulas read. */
export const PARAMETER_COLUMNS = ['mean', 'stddev', 'min', 'max', 'p50', 'iqr'] as const;
export type ParameterColumn = (typeof PARAMETER_COLUMNS)[number];
export type NormalizationParameters = Record<ParameterColumn, number | null>;

/** Feature types that can be normalized (those statistical_features describes). */
export const NORMALIZABLE_TYPES = ['BIGINT', 'DOUBLE'] as const;

export function isNormalizable(type: string): boolean {
  return (NORMALIZABLE_TYPES as readonly string[]).includes(type.trim().toUpperCase());
}

export function isNormalizeMethod(m: unknown): m is NormalizeMethod {
  return typeof m === 'string' && (NORMALIZE_METHODS as readonly string[]).includes(m);
}

export function unknownMethodMessage(m: unknown): string {
  return `unknown normalization ${JSON.stringify(m)}: expected ${NORMALIZE_METHODS.join(', ')}`;
}

/** The centre and scale of a method, as expressions over the parameter columns (col gives each column's expression). */
function centreScale<T>(method: NormalizeMethod, col: (c: ParameterColumn) => T, minus: (a: T, b: T) => T): [T, T] {
  switch (method) {
    case 'zscore':
      return [col('mean'), col('stddev')];
    case 'minmax':
      return [col('min'), minus(col('max'), col('min'))];
    case 'robust':
      return [col('p50'), col('iqr')];
  }
}

/** Whether the parameters let the method normalize a value (present and not null). */
export function hasParameters(method: NormalizeMethod, p: NormalizationParameters | undefined): boolean {
  if (!p) return false;
  const [c, s] = centreScale<number | null>(
    method,
    (k) => p[k],
    (a, b) => (a === null || b === null ? null : a - b),
  );
  return c !== null && s !== null;
}

/** The normalized value in TypeScript (see the module comment). */
export function normalizeValue(method: NormalizeMethod, x: number | null, p: NormalizationParameters | undefined): number | null {
  if (x === null || !p) return null;
  const [c, s] = centreScale<number | null>(
    method,
    (k) => p[k],
    (a, b) => (a === null || b === null ? null : a - b),
  );
  if (c === null || s === null) return null;
  if (s === 0) return 0;
  return (x - c) / s;
}

/**
 * The normalized value in DuckDB SQL: `x` an expression of the value, `col` the expression of each
 * parameter column (null when the parameters are absent).
 */
export function normalizeSql(method: NormalizeMethod, x: string, col: (c: ParameterColumn) => string): string {
  const [c, s] = centreScale<string>(
    method,
    (k) => `(${col(k)})::DOUBLE`,
    (a, b) => `(${a} - ${b})`,
  );
  return `(CASE WHEN (${x}) IS NULL OR ${c} IS NULL OR ${s} IS NULL THEN NULL WHEN ${s} = 0 THEN 0::DOUBLE ELSE ((${x})::DOUBLE - ${c}) / ${s} END)`;
}

/** SQL: whether the parameters are there for the method (the complement of "no parameters"). */
export function hasParametersSql(method: NormalizeMethod, col: (c: ParameterColumn) => string): string {
  const [c, s] = centreScale<string>(
    method,
    (k) => `(${col(k)})::DOUBLE`,
    (a, b) => `(${a} - ${b})`,
  );
  return `(${c} IS NOT NULL AND ${s} IS NOT NULL)`;
}
