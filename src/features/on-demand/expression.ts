// The on-demand expression language: a tokenizer, a recursive-descent parser to a tree, and a type
// checker. The tree is compiled twice, to a JavaScript closure (compile-js.ts, serving) and to a DuckDB
// SQL expression (compile-sql.ts, training sets); user text is never evaluated. Reference and
// semantics: docs/on-demand.md.
import { ExpressionError, type ExprType, isNumeric, isVector } from './types.js';

export type BinaryOp = '+' | '-' | '*' | '/' | '=' | '<>' | '<' | '<=' | '>' | '>=' | 'AND' | 'OR';

/** The functions of the language, each checked in `check`. */
export const FUNCTIONS = ['COALESCE', 'LN', 'EXP', 'SQRT', 'ABS', 'HOUR', 'DOW', 'DOT', 'COSINE', 'CONTAINS'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** A parsed expression. `type` is filled in by `check` (null for the NULL literal). */
export type Expr =
  | { kind: 'number'; value: number; integer: boolean; type?: ExprType | null }
  | { kind: 'string'; value: string; type?: ExprType | null }
  | { kind: 'boolean'; value: boolean; type?: ExprType | null }
  | { kind: 'null'; type?: ExprType | null }
  | { kind: 'ref'; name: string; type?: ExprType | null }
  | { kind: 'neg'; arg: Expr; type?: ExprType | null }
  | { kind: 'not'; arg: Expr; type?: ExprType | null }
  | { kind: 'isnull'; arg: Expr; negated: boolean; type?: ExprType | null }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; type?: ExprType | null }
  | { kind: 'case'; whens: { when: Expr; result: Expr }[]; else: Expr | null; type?: ExprType | null }
  | { kind: 'call'; fn: FunctionName; args: Expr[]; type?: ExprType | null };

type Token =
  | { t: 'num'; v: string; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'id'; v: string; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'end'; at: number };

const KEYWORDS = new Set(['CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'AND', 'OR', 'NOT', 'NULL', 'TRUE', 'FALSE', 'IS']);

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i))!;
      out.push({ t: 'num', v: m[0], at });
      i += m[0].length;
      if (/[A-Za-z_]/.test(src[i] ?? '')) throw new ExpressionError(`unexpected '${src[i]}' after the number at ${i}`);
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ t: 'id', v: m[0], at });
      i += m[0].length;
      continue;
    }
    if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new ExpressionError(`unterminated string starting at ${at}`);
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += src[i];
        i++;
      }
      out.push({ t: 'str', v, at });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '<>' || two === '!=') {
      out.push({ t: 'op', v: two === '!=' ? '<>' : two, at });
      i += 2;
      continue;
    }
    if ('+-*/=<>(),'.includes(c)) {
      out.push({ t: 'op', v: c, at });
      i++;
      continue;
    }
    throw new ExpressionError(`unexpected character '${c}' at ${i}`);
  }
  out.push({ t: 'end', at: src.length });
  return out;
}

/** Parses an expression to a tree (unchecked). */
export function parse(src: string): Expr {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p]!;
  const isKw = (k: string) => peek().t === 'id' && (peek() as { v: string }).v.toUpperCase() === k;
  const isOp = (o: string) => peek().t === 'op' && (peek() as { v: string }).v === o;
  const describe = (t: Token) => (t.t === 'end' ? 'the end' : `'${t.v}' at ${t.at}`);
  const expectKw = (k: string) => {
    if (!isKw(k)) throw new ExpressionError(`expected ${k}, found ${describe(peek())}`);
    p++;
  };
  const expectOp = (o: string) => {
    if (!isOp(o)) throw new ExpressionError(`expected '${o}', found ${describe(peek())}`);
    p++;
  };
  let depth = 0;

  function orExpr(): Expr {
    if (++depth > 200) throw new ExpressionError('expression nested too deeply');
    let left = andExpr();
    while (isKw('OR')) {
      p++;
      left = { kind: 'binary', op: 'OR', left, right: andExpr() };
    }
    depth--;
    return left;
  }
  function andExpr(): Expr {
    let left = notExpr();
    while (isKw('AND')) {
      p++;
      left = { kind: 'binary', op: 'AND', left, right: notExpr() };
    }
    return left;
  }
  function notExpr(): Expr {
    if (isKw('NOT')) {
      p++;
      return { kind: 'not', arg: notExpr() };
    }
    return comparison();
  }
  function comparison(): Expr {
    const left = additive();
    for (const op of ['=', '<>', '<=', '>=', '<', '>'] as const) {
      if (isOp(op)) {
        p++;
        const right = additive();
        if (['=', '<>', '<=', '>=', '<', '>'].some((o) => isOp(o))) throw new ExpressionError(`comparisons do not chain: found ${describe(peek())}`);
        return { kind: 'binary', op, left, right };
      }
    }
    if (isKw('IS')) {
      p++;
      let negated = false;
      if (isKw('NOT')) {
        p++;
        negated = true;
      }
      expectKw('NULL');
      return { kind: 'isnull', arg: left, negated };
    }
    return left;
  }
  function additive(): Expr {
    let left = multiplicative();
    while (isOp('+') || isOp('-')) {
      const op = (toks[p++] as { v: '+' | '-' }).v;
      left = { kind: 'binary', op, left, right: multiplicative() };
    }
    return left;
  }
  function multiplicative(): Expr {
    let left = unary();
    while (isOp('*') || isOp('/')) {
      const op = (toks[p++] as { v: '*' | '/' }).v;
      left = { kind: 'binary', op, left, right: unary() };
    }
    return left;
  }
  function unary(): Expr {
    if (isOp('-')) {
      p++;
      return { kind: 'neg', arg: unary() };
    }
    if (isOp('+')) {
      p++;
      return unary();
    }
    return primary();
  }
  function primary(): Expr {
    const t = peek();
    if (t.t === 'num') {
      p++;
      const integer = /^[0-9]+$/.test(t.v);
      const value = Number(t.v);
      if (integer && !Number.isSafeInteger(value)) throw new ExpressionError(`integer literal ${t.v} is too large`);
      if (!Number.isFinite(value)) throw new ExpressionError(`number literal ${t.v} is out of range`);
      return { kind: 'number', value, integer };
    }
    if (t.t === 'str') {
      p++;
      return { kind: 'string', value: t.v };
    }
    if (t.t === 'op' && t.v === '(') {
      p++;
      const e = orExpr();
      expectOp(')');
      return e;
    }
    if (t.t === 'id') {
      const up = t.v.toUpperCase();
      if (up === 'NULL' || up === 'TRUE' || up === 'FALSE') {
        p++;
        return up === 'NULL' ? { kind: 'null' } : { kind: 'boolean', value: up === 'TRUE' };
      }
      if (up === 'CASE') {
        p++;
        const whens: { when: Expr; result: Expr }[] = [];
        while (isKw('WHEN')) {
          p++;
          const when = orExpr();
          expectKw('THEN');
          whens.push({ when, result: orExpr() });
        }
        if (whens.length === 0) throw new ExpressionError(`CASE needs at least one WHEN, found ${describe(peek())}`);
        let otherwise: Expr | null = null;
        if (isKw('ELSE')) {
          p++;
          otherwise = orExpr();
        }
        expectKw('END');
        return { kind: 'case', whens, else: otherwise };
      }
      if (KEYWORDS.has(up)) throw new ExpressionError(`unexpected ${up} at ${t.at}`);
      p++;
      if (isOp('(')) {
        p++;
        if (!(FUNCTIONS as readonly string[]).includes(up)) throw new ExpressionError(`unknown function ${t.v} (functions: ${FUNCTIONS.join(', ')})`);
        const args: Expr[] = [];
        if (!isOp(')')) {
          args.push(orExpr());
          while (isOp(',')) {
            p++;
            args.push(orExpr());
          }
        }
        expectOp(')');
        return { kind: 'call', fn: up as FunctionName, args };
      }
      return { kind: 'ref', name: t.v };
    }
    throw new ExpressionError(`unexpected ${describe(t)}`);
  }

  const e = orExpr();
  if (peek().t !== 'end') throw new ExpressionError(`unexpected ${describe(peek())} after the expression`);
  return e;
}

let zoneCheck: ((tz: string) => boolean) | undefined;
/** Whether a time zone name is known (IANA names, as both Intl and DuckDB's ICU know them). */
export function isTimeZone(tz: string): boolean {
  zoneCheck ??= (z) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: z });
      return true;
    } catch {
      return false;
    }
  };
  return /^[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)*$/.test(tz) && zoneCheck(tz);
}

/** The common type of branches (CASE, COALESCE), null when all are NULL literals. */
function unify(types: (ExprType | null)[], what: string): ExprType | null {
  const known = types.filter((t): t is ExprType => t !== null);
  if (known.length === 0) return null;
  if (known.every(isNumeric)) return known.every((t) => t === 'BIGINT') ? 'BIGINT' : 'DOUBLE';
  if (known.every(isVector)) return known.every((t) => t === 'FLOAT[]') ? 'FLOAT[]' : 'DOUBLE[]';
  const first = known[0]!;
  if (known.every((t) => t === first)) return first;
  throw new ExpressionError(`${what}: branches of different types (${known.join(', ')})`);
}

/**
 * Checks the types of a tree in place against the types of the names it may read, and returns the
 * type of the whole (null for a bare NULL). Arithmetic is in DOUBLE: BIGINT operands are converted.
 */
export function check(e: Expr, names: ReadonlyMap<string, ExprType>): ExprType | null {
  const t = typeOf(e, names);
  e.type = t;
  return t;
}

function typeOf(e: Expr, names: ReadonlyMap<string, ExprType>): ExprType | null {
  const numeric = (x: Expr, what: string) => {
    const t = check(x, names);
    if (t !== null && !isNumeric(t)) throw new ExpressionError(`${what} needs a number, got ${t}`);
  };
  const boolean = (x: Expr, what: string) => {
    const t = check(x, names);
    if (t !== null && t !== 'BOOLEAN') throw new ExpressionError(`${what} needs a BOOLEAN, got ${t}`);
  };
  switch (e.kind) {
    case 'number':
      return e.integer ? 'BIGINT' : 'DOUBLE';
    case 'string':
      return 'VARCHAR';
    case 'boolean':
      return 'BOOLEAN';
    case 'null':
      return null;
    case 'ref': {
      const t = names.get(e.name);
      if (t === undefined) throw new ExpressionError(`unknown name '${e.name}' (known: ${[...names.keys()].join(', ') || 'none'})`);
      return t;
    }
    case 'neg':
      numeric(e.arg, 'unary -');
      return 'DOUBLE';
    case 'not':
      boolean(e.arg, 'NOT');
      return 'BOOLEAN';
    case 'isnull':
      check(e.arg, names);
      return 'BOOLEAN';
    case 'binary': {
      const { op } = e;
      if (op === 'AND' || op === 'OR') {
        boolean(e.left, op);
        boolean(e.right, op);
        return 'BOOLEAN';
      }
      if (op === '+' || op === '-' || op === '*' || op === '/') {
        numeric(e.left, `'${op}'`);
        numeric(e.right, `'${op}'`);
        return 'DOUBLE';
      }
      const l = check(e.left, names);
      const r = check(e.right, names);
      if (l === null || r === null) return 'BOOLEAN';
      if (isNumeric(l) && isNumeric(r)) return 'BOOLEAN';
      if (l === 'TIMESTAMP' && r === 'TIMESTAMP') return 'BOOLEAN';
      if ((l === 'VARCHAR' && r === 'VARCHAR') || (l === 'BOOLEAN' && r === 'BOOLEAN')) {
        if (op === '=' || op === '<>') return 'BOOLEAN';
        throw new ExpressionError(`'${op}' does not order ${l} values: only = and <> compare them`);
      }
      throw new ExpressionError(`'${op}' cannot compare ${l} with ${r}`);
    }
    case 'case': {
      for (const w of e.whens) boolean(w.when, 'WHEN');
      const branches = [...e.whens.map((w) => check(w.result, names)), e.else === null ? null : check(e.else, names)];
      return unify(branches, 'CASE');
    }
    case 'call': {
      const { fn, args } = e;
      const arity = (n: number) => {
        if (args.length !== n) throw new ExpressionError(`${fn} takes ${n} argument${n === 1 ? '' : 's'}, got ${args.length}`);
      };
      switch (fn) {
        case 'COALESCE': {
          if (args.length < 1) throw new ExpressionError('COALESCE needs at least one argument');
          return unify(
            args.map((a) => check(a, names)),
            'COALESCE',
          );
        }
        case 'LN':
        case 'EXP':
        case 'SQRT':
        case 'ABS':
          arity(1);
          numeric(args[0]!, fn);
          return 'DOUBLE';
        case 'HOUR':
        case 'DOW': {
          arity(2);
          const t = check(args[0]!, names);
          if (t !== null && t !== 'TIMESTAMP') throw new ExpressionError(`${fn} needs a TIMESTAMP, got ${t}`);
          const tz = args[1]!;
          if (tz.kind !== 'string') throw new ExpressionError(`${fn}'s time zone must be a string literal, e.g. 'Europe/Paris'`);
          if (!isTimeZone(tz.value)) throw new ExpressionError(`${fn}: unknown time zone '${tz.value}'`);
          check(tz, names);
          return 'BIGINT';
        }
        case 'DOT':
        case 'COSINE': {
          arity(2);
          for (const a of args) {
            const t = check(a, names);
            if (t !== null && !isVector(t)) throw new ExpressionError(`${fn} needs vectors (DOUBLE[] or FLOAT[]), got ${t}`);
          }
          return 'DOUBLE';
        }
        case 'CONTAINS': {
          arity(2);
          const l = check(args[0]!, names);
          if (l !== null && l !== 'VARCHAR[]') throw new ExpressionError(`CONTAINS needs a VARCHAR[] first, got ${l}`);
          const x = check(args[1]!, names);
          if (x !== null && x !== 'VARCHAR') throw new ExpressionError(`CONTAINS looks for a VARCHAR, got ${x}`);
          return 'BOOLEAN';
        }
      }
    }
  }
}

/** The names an expression reads. */
export function refs(e: Expr, out: Set<string> = new Set()): Set<string> {
  switch (e.kind) {
    case 'ref':
      out.add(e.name);
      break;
    case 'neg':
    case 'not':
    case 'isnull':
      refs(e.arg, out);
      break;
    case 'binary':
      refs(e.left, out);
      refs(e.right, out);
      break;
    case 'case':
      for (const w of e.whens) {
        refs(w.when, out);
        refs(w.result, out);
      }
      if (e.else) refs(e.else, out);
      break;
    case 'call':
      for (const a of e.args) refs(a, out);
      break;
    default:
      break;
  }
  return out;
}
