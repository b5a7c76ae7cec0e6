// The schema check: every declared key and feature present with its declared type, the two timestamps
// of the gold layout present, nothing else. Pure: works on the column list DuckDB describes.
import type { FamilyDecl, FeatureDecl } from '../features/types.js';

export const TIMESTAMP_COLUMNS = ['feature_timestamp', 'created_timestamp'] as const;

export interface Column {
  name: string;
  type: string;
}

export interface SchemaComparison {
  /** One line per problem; empty when the schema matches. */
  problems: string[];
  /** Features present with their declared type: the ones the other checks can look at. */
  usable: FeatureDecl[];
  /** Every key present with its declared type. */
  keysUsable: boolean;
}

export function compareSchema(f: FamilyDecl, columns: readonly Column[]): SchemaComparison {
  const actual = new Map(columns.map((c) => [c.name, c.type]));
  const problems: string[] = [];
  const expect = (name: string, type: string, what: string): boolean => {
    const t = actual.get(name);
    if (t === undefined) problems.push(`${what} ${name} is missing`);
    else if (t !== type) problems.push(`${what} ${name} is ${t}, declared ${type}`);
    return t === type;
  };
  const keysUsable = f.keys.map((k) => expect(k.name, k.type, 'key')).every(Boolean);
  const usable = f.features.filter((x) => expect(x.name, x.type, 'feature'));
  for (const c of TIMESTAMP_COLUMNS) expect(c, 'TIMESTAMP', 'column');
  const declared = new Set<string>([...f.keys.map((k) => k.name), ...f.features.map((x) => x.name), ...TIMESTAMP_COLUMNS]);
  const extra = columns.filter((c) => !declared.has(c.name));
  if (extra.length > 0) problems.push(`undeclared column(s): ${extra.map((c) => `${c.name} ${c.type}`).join(', ')}`);
  return { problems, usable, keysUsable };
}
