// A family's schema as the registry records it: what readers of gold can rely on (keys, features with
// types, nullability, rules and descriptions, owner, TTL), derived from the family declaration.
import type { FamilyDecl, FeatureType, Severity } from '../features/types.js';

export interface KeySchema {
  name: string;
  type: 'VARCHAR';
}

/** The checks declared on a feature (src/quality reads the same fields from the declaration). */
export interface FeatureRules {
  min?: number;
  max?: number;
  allowed?: string[];
  maxNullShare?: number;
  severity?: Partial<Record<string, Severity | 'off'>>;
}

export interface FeatureSchema {
  name: string;
  type: FeatureType;
  nullable: boolean;
  description: string;
  rules: FeatureRules;
}

export interface RowRuleSchema {
  name: string;
  description: string;
  sql: string;
  severity?: Severity;
}

export interface FamilySchema {
  family: string;
  /** The declaration's own `version`: bumped by its author to allow a breaking change. */
  declarationVersion: number;
  entity: string;
  description: string;
  owner: string;
  ttlSeconds: number;
  keys: KeySchema[];
  features: FeatureSchema[];
  rules: RowRuleSchema[];
}

/** Columns every gold partition has besides the keys and the features. */
export const TIMESTAMP_COLUMNS = ['feature_timestamp', 'created_timestamp'] as const;

/** Names a key or feature may not take: the timestamps, and DuckDB's row id, which such a column would hide from the SQL reading gold. */
const RESERVED_COLUMNS = [...TIMESTAMP_COLUMNS, 'rowid'];

export class InvalidDeclarationError extends Error {
  override name = 'InvalidDeclarationError';
  readonly nonRetryable = true;
}

/** Drops undefined fields so that a schema built from a declaration equals one read back from JSON. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function validate(decl: FamilyDecl): void {
  const where = `family '${decl.name}'`;
  if (!/^[a-z][a-z0-9_]*$/.test(decl.name)) throw new InvalidDeclarationError(`${where}: the name must be lower-case letters, digits and '_'`);
  if (!Number.isInteger(decl.version) || decl.version < 1)
    throw new InvalidDeclarationError(`${where}: version must be a whole number >= 1, got ${decl.version}`);
  if (!(decl.ttlSeconds > 0)) throw new InvalidDeclarationError(`${where}: ttlSeconds must be > 0, got ${decl.ttlSeconds}`);
  if (decl.keys.length === 0) throw new InvalidDeclarationError(`${where}: at least one key is required`);
  if (decl.features.length === 0) throw new InvalidDeclarationError(`${where}: at least one feature is required`);
  const seen = new Set<string>(RESERVED_COLUMNS);
  for (const name of [...decl.keys.map((k) => k.name), ...decl.features.map((f) => f.name)]) {
    // Names appear unquoted in feature references (family:feature); '__' is kept for internal columns.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name.startsWith('__'))
      throw new InvalidDeclarationError(`${where}: column name '${name}' must be letters, digits and '_', not starting with '__'`);
    // DuckDB and Parquet readers match column names case-insensitively.
    const lower = name.toLowerCase();
    if (seen.has(lower)) throw new InvalidDeclarationError(`${where}: column '${name}' is declared twice or is reserved (${RESERVED_COLUMNS.join(', ')})`);
    seen.add(lower);
  }
}

export function schemaFromDecl(decl: FamilyDecl): FamilySchema {
  validate(decl);
  return {
    family: decl.name,
    declarationVersion: decl.version,
    entity: decl.entity,
    description: decl.description,
    owner: decl.owner,
    ttlSeconds: decl.ttlSeconds,
    keys: decl.keys.map((k) => ({ name: k.name, type: k.type })),
    features: decl.features.map((f) => ({
      name: f.name,
      type: f.type,
      nullable: f.nullable === true,
      description: f.description,
      rules: defined({
        min: f.min,
        max: f.max,
        allowed: f.allowed ? [...f.allowed] : undefined,
        maxNullShare: f.maxNullShare,
        severity: f.severity ? { ...f.severity } : undefined,
      }),
    })),
    rules: (decl.rules ?? []).map((r) => defined({ name: r.name, description: r.description, sql: r.sql, severity: r.severity })),
  };
}

/** JSON with object keys sorted, so that equal schemas give equal text whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export function sameSchema(a: FamilySchema, b: FamilySchema): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
