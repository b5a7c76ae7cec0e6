// The types and values of the on-demand expression language (docs/on-demand.md).

/** Types of values in an expression: request fields, stored features, and results. */
export type ExprType = 'DOUBLE' | 'BIGINT' | 'BOOLEAN' | 'VARCHAR' | 'TIMESTAMP' | 'DOUBLE[]' | 'FLOAT[]' | 'VARCHAR[]';

export const EXPR_TYPES: readonly ExprType[] = ['DOUBLE', 'BIGINT', 'BOOLEAN', 'VARCHAR', 'TIMESTAMP', 'DOUBLE[]', 'FLOAT[]', 'VARCHAR[]'];

/** Types an on-demand feature can have. */
export type ResultType = 'DOUBLE' | 'BIGINT' | 'BOOLEAN' | 'VARCHAR';

/**
 * A value in the JavaScript evaluator: numbers for DOUBLE and BIGINT (BIGINT as the nearest double,
 * as JSON parsing of an online record gives), TIMESTAMP as whole microseconds since the Unix epoch
 * (UTC), arrays whose elements may be null, and null.
 */
export type Value = number | boolean | string | readonly (number | null)[] | readonly (string | null)[] | null;

export function isNumeric(t: ExprType): t is 'DOUBLE' | 'BIGINT' {
  return t === 'DOUBLE' || t === 'BIGINT';
}

export function isVector(t: ExprType): t is 'DOUBLE[]' | 'FLOAT[]' {
  return t === 'DOUBLE[]' || t === 'FLOAT[]';
}

/** An expression that does not parse or type-check. */
export class ExpressionError extends Error {
  override name = 'ExpressionError';
  readonly nonRetryable = true;
}
