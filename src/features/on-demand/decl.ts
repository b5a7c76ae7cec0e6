// The declaration of an on-demand feature: an expression over request data and stored features of
// the request's entities, computed when it is asked for (the feature server in JavaScript, training
// sets in SQL), from one parse tree. Checked at load: a bad expression is an error naming the feature.
import type { FamilyDecl } from '../types.js';
import { compileJs, type Evaluator } from './compile-js.js';
import { type ColumnOf, compileSql } from './compile-sql.js';
import { check, type Expr, parse, refs } from './expression.js';
import { EXPR_TYPES, ExpressionError, type ExprType, type ResultType } from './types.js';

export interface OnDemandFeatureDecl {
  /** The feature's name; served as `on_demand:<name>`. */
  name: string;
  description: string;
  /** The result's type; the expression must have it (BIGINT is accepted where DOUBLE is declared). */
  type: ResultType;
  /** Request fields the expression reads, with their types (`request_time` is the request's time). */
  request?: Readonly<Record<string, ExprType>>;
  /** Stored features the expression reads: a local name to 'family:feature'. */
  inputs?: Readonly<Record<string, string>>;
  /** The expression (docs/on-demand.md). */
  expr: string;
}

/** The family of on-demand refs: `on_demand:<name>`. */
export const ON_DEMAND = 'on_demand';

export class InvalidOnDemandFeatureError extends Error {
  override name = 'InvalidOnDemandFeatureError';
  readonly nonRetryable = true;
}

export interface StoredInput {
  /** The local name in the expression. */
  name: string;
  family: string;
  feature: string;
  type: ExprType;
}

/** A checked on-demand feature, compiled both ways. */
export interface OnDemandFeature {
  decl: OnDemandFeatureDecl;
  tree: Expr;
  request: { name: string; type: ExprType }[];
  inputs: StoredInput[];
  /** The JavaScript path: the value for one row of named values. */
  evaluate: Evaluator;
  /** The SQL path: an expression of the declared type, reading names through `col`. */
  sql(col: ColumnOf): string;
}

const NAME = /^[a-z][a-z0-9_]*$/;

export function checkOnDemandFeature(decl: OnDemandFeatureDecl, families: readonly FamilyDecl[]): OnDemandFeature {
  const where = `on-demand feature '${decl.name}'`;
  const fail = (msg: string): never => {
    throw new InvalidOnDemandFeatureError(`${where}: ${msg}`);
  };
  if (!NAME.test(decl.name)) fail('the name must be lower-case letters, digits and _');
  const names = new Map<string, ExprType>();
  const request = Object.entries(decl.request ?? {}).map(([name, type]) => {
    if (!NAME.test(name)) fail(`request field '${name}': lower-case letters, digits and _`);
    if (!EXPR_TYPES.includes(type)) fail(`request field '${name}': unknown type ${type} (types: ${EXPR_TYPES.join(', ')})`);
    names.set(name, type);
    return { name, type };
  });
  const inputs = Object.entries(decl.inputs ?? {}).map(([name, ref]): StoredInput => {
    if (!NAME.test(name)) fail(`input '${name}': lower-case letters, digits and _`);
    if (names.has(name)) fail(`'${name}' is both a request field and an input`);
    const [familyName, featureName, ...rest] = ref.split(':');
    if (!familyName || !featureName || rest.length > 0) return fail(`input '${name}': '${ref}' is not family:feature`);
    const fam = families.find((f) => f.name === familyName);
    if (!fam) return fail(`input '${name}': no family '${familyName}'`);
    const feature = fam.features.find((f) => f.name === featureName);
    if (!feature) return fail(`input '${name}': family ${familyName} declares no feature '${featureName}'`);
    names.set(name, feature.type);
    return { name, family: familyName, feature: featureName, type: feature.type };
  });
  let tree: Expr;
  let type: ExprType | null;
  try {
    tree = parse(decl.expr);
    type = check(tree, names);
  } catch (e) {
    if (e instanceof ExpressionError) return fail(`${e.message} in: ${decl.expr}`);
    throw e;
  }
  if (!(type === decl.type || (type === 'BIGINT' && decl.type === 'DOUBLE') || type === null))
    fail(`the expression is ${type}, the feature is declared ${decl.type}`);
  const used = refs(tree);
  for (const n of names.keys()) if (!used.has(n)) fail(`'${n}' is declared but the expression does not read it`);
  if (decl.type === 'DOUBLE' && type === 'BIGINT') tree = { kind: 'call', fn: 'COALESCE', args: [tree], type: 'DOUBLE' };
  const evaluate = compileJs(tree);
  const t = tree;
  return { decl, tree, request, inputs, evaluate, sql: (col) => compileSql(t, col, decl.type) };
}

/** Checks every declaration, and that no two share a name. */
export function checkOnDemandFeatures(decls: readonly OnDemandFeatureDecl[], families: readonly FamilyDecl[]): readonly OnDemandFeature[] {
  const seen = new Set<string>();
  return decls.map((d) => {
    if (seen.has(d.name)) throw new InvalidOnDemandFeatureError(`on-demand feature '${d.name}' is declared twice`);
    seen.add(d.name);
    return checkOnDemandFeature(d, families);
  });
}
