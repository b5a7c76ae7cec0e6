// A feature view as the online store and the feature server see it: the product describes each family
// with this (the registry or the family declarations are adapted to it), so that online code depends
// on nothing else.

export interface OnlineViewSpec {
  name: string;
  /** Schema version: part of every stored key, so that a new schema never reads old bytes. */
  version: number;
  /** Entity key columns, e.g. ['user_id']; composite keys allowed. */
  keys: string[];
  ttlSeconds: number;
  /** DuckDB types: BIGINT, DOUBLE, VARCHAR, TIMESTAMP, FLOAT[], VARCHAR[], ... */
  features: { name: string; type: string }[];
}

export class OnlineViewError extends Error {
  override name = 'OnlineViewError';
}

/** Scalar DuckDB types the online record format stores, and how each is encoded. */
const SCALAR_KINDS = {
  integer: ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'HUGEINT'],
  float: ['FLOAT', 'DOUBLE', 'REAL'],
  string: ['VARCHAR'],
  boolean: ['BOOLEAN'],
  timestamp: ['TIMESTAMP', 'TIMESTAMP_MS', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMPTZ'],
  date: ['DATE'],
} as const;

export type ScalarKind = keyof typeof SCALAR_KINDS;

/** A feature's type reduced to what encoding needs: a scalar kind, or a list of one. */
export interface ValueKind {
  scalar: ScalarKind;
  list: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses a DuckDB type name into its value kind; throws for a type the online store does not hold. */
export function valueKind(type: string): ValueKind {
  const t = type.trim().toUpperCase();
  const list = t.endsWith('[]');
  const base = list ? t.slice(0, -2) : t;
  const decimal = /^DECIMAL(\(\d+,\s*\d+\))?$/.test(base);
  for (const [kind, names] of Object.entries(SCALAR_KINDS) as [ScalarKind, readonly string[]][]) {
    if (names.includes(base)) return { scalar: kind, list };
  }
  if (decimal) return { scalar: 'float', list };
  throw new OnlineViewError(
    `type '${type}' cannot be served online (supported: integers, FLOAT, DOUBLE, DECIMAL, VARCHAR, BOOLEAN, TIMESTAMP, DATE and lists of these)`,
  );
}

/** Throws with the reason when a view cannot be stored or served. */
export function validateView(view: OnlineViewSpec): void {
  const where = `online view '${view.name}'`;
  if (!NAME.test(view.name)) throw new OnlineViewError(`${where}: the name must be an identifier (letters, digits, _)`);
  if (!Number.isInteger(view.version) || view.version < 1) throw new OnlineViewError(`${where}: version must be a whole number >= 1, got ${view.version}`);
  if (!(view.ttlSeconds > 0) || !Number.isFinite(view.ttlSeconds)) throw new OnlineViewError(`${where}: ttlSeconds must be > 0, got ${view.ttlSeconds}`);
  if (view.keys.length === 0) throw new OnlineViewError(`${where}: needs at least one entity key column`);
  if (view.features.length === 0) throw new OnlineViewError(`${where}: has no features`);
  const seen = new Set<string>();
  for (const name of [...view.keys, ...view.features.map((f) => f.name)]) {
    if (!NAME.test(name)) throw new OnlineViewError(`${where}: column name '${name}' must be an identifier`);
    if (seen.has(name)) throw new OnlineViewError(`${where}: column '${name}' appears twice`);
    seen.add(name);
  }
  for (const f of view.features) {
    try {
      valueKind(f.type);
    } catch (e) {
      throw new OnlineViewError(`${where}, feature '${f.name}': ${(e as Error).message}`);
    }
  }
}

/** Positions of the named features in the view's feature order; throws naming an unknown one. */
export function featurePositions(view: OnlineViewSpec, names: readonly string[]): number[] {
  return names.map((n) => {
    const i = view.features.findIndex((f) => f.name === n);
    if (i < 0) throw new OnlineViewError(`unknown feature '${n}' in view ${view.name} (features: ${view.features.map((f) => f.name).join(', ')})`);
    return i;
  });
}

export function ttlMs(view: OnlineViewSpec): number {
  return Math.round(view.ttlSeconds * 1000);
}
