// An on-demand expression compiled to a DuckDB SQL expression (the training sets' path), from the same
// checked tree as compile-js.ts and with the same semantics (docs/on-demand.md). DuckDB's own edge cases
// are fenced off: every DOUBLE result goes through `finite` (NaN and infinities become NULL, as in
// JavaScript), LN and SQRT are not called outside their domain (DuckDB raises there), arithmetic is in
// DOUBLE, and the dot product is summed left to right with list_reduce. Time zones use DuckDB's ICU
// `timezone`, so the SQL needs the ICU extension (built into the Node package).
import type { Expr } from './expression.js';
import type { ExprType } from './types.js';

/** How the SQL reads a name (request field or stored feature): a column expression. */
export type ColumnOf = (name: string) => string;

let lambdaCounter = 0;
function lambdaName(): string {
  lambdaCounter = (lambdaCounter + 1) % 1_000_000;
  return `od_v${lambdaCounter}`;
}

/** `x` evaluated once and bound to a lambda parameter in `body`. */
function bind(x: string, body: (v: string) => string): string {
  const v = lambdaName();
  return `list_transform([${x}], lambda ${v}: ${body(v)})[1]`;
}

/** A DOUBLE that is NULL unless finite. */
export function finiteSql(x: string): string {
  return bind(x, (v) => `CASE WHEN isfinite(${v}) THEN ${v} + 0.0 ELSE NULL END`);
}

export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function cast(sql: string, t: ExprType): string {
  return `CAST(${sql} AS ${t})`;
}

function dotSql(a: string, b: string): string {
  const i = lambdaName();
  const acc = lambdaName();
  const x = lambdaName();
  return (
    `CASE WHEN ${a} IS NULL OR ${b} IS NULL OR len(${a}) <> len(${b}) OR list_count(${a}) <> len(${a}) OR list_count(${b}) <> len(${b}) THEN NULL ` +
    `ELSE ${finiteSql(`list_reduce(list_transform(range(1, len(${a}) + 1), lambda ${i}: ${a}[${i}] * ${b}[${i}]), lambda ${acc}, ${x}: ${acc} + ${x}, 0.0::DOUBLE)`)} END`
  );
}

/** Compiles a checked tree to a SQL expression of the declared type. */
export function compileSql(e: Expr, col: ColumnOf, resultType: ExprType): string {
  const sql = node(e, col);
  return cast(resultType === 'DOUBLE' ? finiteSql(cast(sql, 'DOUBLE')) : sql, resultType);
}

function node(e: Expr, col: ColumnOf): string {
  const sub = (x: Expr, t?: ExprType) => {
    const s = node(x, col);
    return t === undefined ? `(${s})` : cast(s, t);
  };
  switch (e.kind) {
    case 'number':
      return e.integer ? `${e.value}::BIGINT` : `'${e.value}'::DOUBLE`;
    case 'string':
      return sqlString(e.value);
    case 'boolean':
      return e.value ? 'TRUE' : 'FALSE';
    case 'null':
      return 'NULL';
    case 'ref':
      return `(${col(e.name)})`;
    case 'neg':
      return finiteSql(`-${sub(e.arg, 'DOUBLE')}`);
    case 'not':
      return `(NOT ${sub(e.arg, 'BOOLEAN')})`;
    case 'isnull':
      return `(${sub(e.arg)} IS ${e.negated ? 'NOT ' : ''}NULL)`;
    case 'binary': {
      const { op } = e;
      if (op === 'AND' || op === 'OR') return `(${sub(e.left, 'BOOLEAN')} ${op} ${sub(e.right, 'BOOLEAN')})`;
      if (op === '+' || op === '-' || op === '*' || op === '/') return finiteSql(`${sub(e.left, 'DOUBLE')} ${op} ${sub(e.right, 'DOUBLE')}`);
      const lt = e.left.type ?? e.right.type ?? null;
      const rt = e.right.type ?? lt;
      const t: ExprType | undefined =
        lt === 'DOUBLE' || lt === 'BIGINT' || rt === 'DOUBLE' || rt === 'BIGINT' ? 'DOUBLE' : ((lt ?? undefined) as ExprType | undefined);
      return `(${sub(e.left, t)} ${op} ${sub(e.right, t)})`;
    }
    case 'case': {
      const t = e.type ?? undefined;
      const whens = e.whens.map((w) => `WHEN ${sub(w.when, 'BOOLEAN')} THEN ${sub(w.result, t)}`).join(' ');
      return `(CASE ${whens} ELSE ${e.else === null ? 'NULL' : sub(e.else, t)} END)`;
    }
    case 'call': {
      const t = e.type ?? undefined;
      const [a, b] = e.args as [Expr, Expr];
      switch (e.fn) {
        case 'COALESCE':
          return `COALESCE(${e.args.map((x) => sub(x, t)).join(', ')})`;
        case 'LN':
          return finiteSql(bind(sub(a, 'DOUBLE'), (v) => `CASE WHEN ${v} > 0 THEN ln(${v}) ELSE NULL END`));
        case 'EXP':
          return finiteSql(`exp(${sub(a, 'DOUBLE')})`);
        case 'SQRT':
          return finiteSql(bind(sub(a, 'DOUBLE'), (v) => `CASE WHEN ${v} < 0 THEN NULL ELSE sqrt(${v}) END`));
        case 'ABS':
          return finiteSql(`abs(${sub(a, 'DOUBLE')})`);
        case 'HOUR':
        case 'DOW': {
          const tz = sqlString((b as { value: string }).value);
          return `${e.fn === 'HOUR' ? 'hour' : 'isodow'}(timezone(${tz}, timezone('UTC', ${sub(a, 'TIMESTAMP')})))::BIGINT`;
        }
        case 'DOT':
          return dotSql(sub(a, 'DOUBLE[]'), sub(b, 'DOUBLE[]'));
        case 'COSINE': {
          const x = sub(a, 'DOUBLE[]');
          const y = sub(b, 'DOUBLE[]');
          const den = bind(`sqrt(${dotSql(x, x)}) * sqrt(${dotSql(y, y)})`, (v) => `CASE WHEN ${v} = 0 THEN NULL ELSE ${v} END`);
          return finiteSql(`(${dotSql(x, y)}) / (${den})`);
        }
        case 'CONTAINS': {
          const l = sub(a, 'VARCHAR[]');
          const x = sub(b, 'VARCHAR');
          return `(CASE WHEN ${l} IS NULL OR ${x} IS NULL THEN NULL ELSE list_contains(${l}, ${x}) END)`;
        }
      }
    }
  }
}
