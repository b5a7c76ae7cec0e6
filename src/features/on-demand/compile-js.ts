// An on-demand expression compiled to JavaScript closures (the feature server's path): one closure per
// node of the checked tree, no text evaluated. The semantics are those of compile-sql.ts, as
// docs/on-demand.md states them; test/property/on-demand.test.ts compares the two on random inputs.
import type { Expr } from './expression.js';
import type { Value } from './types.js';

/** The values of the names an expression reads (request fields and stored features), one row. */
export type Row = Readonly<Record<string, Value | undefined>>;
export type Evaluator = (row: Row) => Value;

/** A DOUBLE result: null unless finite; zero's sign is dropped. */
export function finite(x: number): number | null {
  return Number.isFinite(x) ? x + 0 : null;
}

/** DuckDB's order of doubles: NaN equals NaN and sorts above every other value, -0 equals 0. */
export function compareDoubles(a: number, b: number): number {
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an && bn ? 0 : an ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Hour (0-23) and ISO day of week (1 Monday .. 7 Sunday) of a TIMESTAMP (microseconds, UTC) in a time zone. */
export function localHourAndDay(micros: number, tz: string): { hour: number; dow: number } {
  let f = formatters.get(tz);
  if (!f) formatters.set(tz, (f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', hour: 'numeric', weekday: 'short' })));
  let hour = 0;
  let dow = 0;
  for (const part of f.formatToParts(new Date(Math.floor(micros / 1000)))) {
    if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'weekday') dow = WEEKDAYS.indexOf(part.value) + 1;
  }
  return { hour, dow };
}
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** The dot product summed left to right in doubles; null for a null vector, a null element or different lengths. */
export function dot(a: readonly (number | null)[] | null, b: readonly (number | null)[] | null): number | null {
  if (a === null || b === null || a.length !== b.length) return null;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === null || y === null || x === undefined || y === undefined) return null;
    s += x * y;
  }
  return s;
}

function dotResult(a: readonly (number | null)[] | null, b: readonly (number | null)[] | null): number | null {
  const d = dot(a, b);
  return d === null ? null : finite(d);
}

function cosine(a: readonly (number | null)[] | null, b: readonly (number | null)[] | null): number | null {
  const ab = dotResult(a, b);
  const aa = dotResult(a, a);
  const bb = dotResult(b, b);
  if (ab === null || aa === null || bb === null) return null;
  const denominator = Math.sqrt(aa) * Math.sqrt(bb);
  if (denominator === 0) return null;
  return finite(ab / denominator);
}

type Num = number | null;
type Vec = readonly (number | null)[] | null;

/** Compiles a checked tree to a closure over a row. */
export function compileJs(e: Expr): Evaluator {
  const root = node(e);
  if (e.type === 'DOUBLE') {
    return (row) => {
      const v = root(row) as Num;
      return v === null ? null : finite(v);
    };
  }
  return root;
}

function node(e: Expr): Evaluator {
  switch (e.kind) {
    case 'number':
    case 'string':
    case 'boolean': {
      const v = e.value;
      return () => v;
    }
    case 'null':
      return () => null;
    case 'ref': {
      const name = e.name;
      return (row) => row[name] ?? null;
    }
    case 'neg': {
      const a = node(e.arg);
      return (row) => {
        const x = a(row) as Num;
        return x === null ? null : finite(-x);
      };
    }
    case 'not': {
      const a = node(e.arg);
      return (row) => {
        const x = a(row) as boolean | null;
        return x === null ? null : !x;
      };
    }
    case 'isnull': {
      const a = node(e.arg);
      const negated = e.negated;
      return (row) => (a(row) === null) !== negated;
    }
    case 'binary': {
      const l = node(e.left);
      const r = node(e.right);
      switch (e.op) {
        case 'AND':
          return (row) => {
            const x = l(row) as boolean | null;
            if (x === false) return false;
            const y = r(row) as boolean | null;
            if (y === false) return false;
            return x === null || y === null ? null : true;
          };
        case 'OR':
          return (row) => {
            const x = l(row) as boolean | null;
            if (x === true) return true;
            const y = r(row) as boolean | null;
            if (y === true) return true;
            return x === null || y === null ? null : false;
          };
        case '+':
        case '-':
        case '*':
        case '/': {
          const op = e.op;
          return (row) => {
            const x = l(row) as Num;
            const y = r(row) as Num;
            if (x === null || y === null) return null;
            switch (op) {
              case '+':
                return finite(x + y);
              case '-':
                return finite(x - y);
              case '*':
                return finite(x * y);
              case '/':
                return y === 0 ? null : finite(x / y);
            }
          };
        }
        default: {
          const op = e.op;
          const numeric = e.left.type === 'DOUBLE' || e.left.type === 'BIGINT' || e.left.type === 'TIMESTAMP';
          return (row) => {
            const x = l(row);
            const y = r(row);
            if (x === null || y === null) return null;
            const c = numeric ? compareDoubles(x as number, y as number) : x === y ? 0 : 1;
            switch (op) {
              case '=':
                return c === 0;
              case '<>':
                return c !== 0;
              case '<':
                return c < 0;
              case '<=':
                return c <= 0;
              case '>':
                return c > 0;
              case '>=':
                return c >= 0;
            }
          };
        }
      }
    }
    case 'case': {
      const whens = e.whens.map((w) => ({ when: node(w.when), result: node(w.result) }));
      const otherwise = e.else === null ? () => null : node(e.else);
      return (row) => {
        for (const w of whens) if (w.when(row) === true) return w.result(row);
        return otherwise(row);
      };
    }
    case 'call': {
      const args = e.args.map(node);
      const a = args[0]!;
      const b = args[1]!;
      switch (e.fn) {
        case 'COALESCE':
          return (row) => {
            for (const x of args) {
              const v = x(row);
              if (v !== null) return v;
            }
            return null;
          };
        case 'LN':
          return (row) => {
            const x = a(row) as Num;
            return x !== null && x > 0 ? finite(Math.log(x)) : null;
          };
        case 'EXP':
          return (row) => {
            const x = a(row) as Num;
            return x === null ? null : finite(Math.exp(x));
          };
        case 'SQRT':
          return (row) => {
            const x = a(row) as Num;
            return x === null || x < 0 ? null : finite(Math.sqrt(x));
          };
        case 'ABS':
          return (row) => {
            const x = a(row) as Num;
            return x === null ? null : finite(Math.abs(x));
          };
        case 'HOUR':
        case 'DOW': {
          const tz = (e.args[1] as { value: string }).value;
          const hour = e.fn === 'HOUR';
          return (row) => {
            const t = a(row) as Num;
            if (t === null) return null;
            const local = localHourAndDay(t, tz);
            return hour ? local.hour : local.dow;
          };
        }
        case 'DOT':
          return (row) => dotResult(a(row) as Vec, b(row) as Vec);
        case 'COSINE':
          return (row) => cosine(a(row) as Vec, b(row) as Vec);
        case 'CONTAINS':
          return (row) => {
            const list = a(row) as readonly (string | null)[] | null;
            const x = b(row) as string | null;
            return list === null || x === null ? null : list.includes(x);
          };
      }
    }
  }
}
