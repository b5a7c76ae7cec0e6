// Row-level checks: each is a SQL predicate saying that a row breaks it, all counted in one scan, with
// a few offending rows kept as a sample. Keys must be non-null and unique; features obey their declared
// nullability, range, finiteness and allowed values; declared rules hold (a rule evaluating to NULL
// passes, as a SQL CHECK constraint does).
import type { Engine } from '../engine/duckdb.js';
import { sqlIdent, sqlStr } from '../engine/duckdb.js';
import type { FamilyDecl, FeatureDecl, RowRuleDecl, Severity } from '../features/types.js';
import { fixedSeverity, type ResolvedQualityConfig } from './config.js';
import type { CheckResult } from './report.js';

export interface RowCheck {
  check: 'keys_not_null' | 'not_null' | 'range' | 'finite' | 'allowed' | 'rule';
  severity: Severity;
  feature?: FeatureDecl;
  rule?: RowRuleDecl;
  /** True when a row breaks the check (never NULL). */
  predicate: string;
  /** Features shown in the sample besides the keys (a rule shows every feature). */
  columns: readonly FeatureDecl[];
  /** Offending rows can be moved to the quarantine instead of failing the partition. */
  quarantinable: boolean;
  /** What a break means, for the message. */
  describe: string;
}

export interface RowCheckCounts {
  rows: number;
  /** Non-null values per usable feature. */
  nonNull: Map<string, number>;
  /** Rows breaking each check, in the order of the checks. */
  breaks: number[];
  /** Rows breaking at least one error-level check. */
  badRows: number;
}

function fmt(x: number | undefined, inf: string): string {
  return x === undefined ? inf : String(x);
}

const isNumeric = (f: FeatureDecl) => f.type === 'BIGINT' || f.type === 'DOUBLE';

/** The row checks of a family over its usable features; rules that cannot be bound come back as failures. */
export async function planRowChecks(
  db: Engine,
  view: string,
  f: FamilyDecl,
  usable: readonly FeatureDecl[],
  keysUsable: boolean,
  cfg: ResolvedQualityConfig,
): Promise<{ checks: RowCheck[]; unbound: CheckResult[] }> {
  const checks: RowCheck[] = [];
  const add = (c: Omit<RowCheck, 'severity' | 'predicate'> & { predicate: string }, severity: Severity | undefined) => {
    if (severity) checks.push({ ...c, severity, predicate: `coalesce((${c.predicate}), false)` });
  };
  if (keysUsable) {
    add(
      {
        check: 'keys_not_null',
        predicate: f.keys.map((k) => `${sqlIdent(k.name)} IS NULL`).join(' OR '),
        columns: usable,
        quarantinable: false,
        describe: 'a null key',
      },
      fixedSeverity(cfg, 'keys_not_null'),
    );
  }
  for (const x of usable) {
    const c = sqlIdent(x.name);
    const target = { feature: x };
    if (!x.nullable)
      add(
        { check: 'not_null', feature: x, predicate: `${c} IS NULL`, columns: [x], quarantinable: true, describe: 'null (not nullable)' },
        fixedSeverity(cfg, 'not_null', target),
      );
    if (x.type === 'DOUBLE')
      add(
        { check: 'finite', feature: x, predicate: `isnan(${c}) OR isinf(${c})`, columns: [x], quarantinable: true, describe: 'NaN or infinite' },
        fixedSeverity(cfg, 'finite', target),
      );
    if (isNumeric(x) && (x.min !== undefined || x.max !== undefined)) {
      const parts = [x.min !== undefined ? `${c} < ${x.min}` : '', x.max !== undefined ? `${c} > ${x.max}` : ''].filter(Boolean).join(' OR ');
      const notNan = x.type === 'DOUBLE' ? `NOT isnan(${c}) AND ` : '';
      add(
        {
          check: 'range',
          feature: x,
          predicate: `${notNan}(${parts})`,
          columns: [x],
          quarantinable: true,
          describe: `outside [${fmt(x.min, '-inf')}, ${fmt(x.max, '+inf')}]`,
        },
        fixedSeverity(cfg, 'range', target),
      );
    }
    if (x.type === 'FLOAT[]') {
      // A vector is usable only whole: every element a finite number, all of one length (the partition's
      // usual one: the dimension is the model's, not the declaration's; empty is a length like another).
      const bad = `len(list_filter(${c}, v -> v IS NULL OR isnan(v) OR isinf(v))) > 0`;
      add(
        {
          check: 'finite',
          feature: x,
          predicate: `${bad} OR len(${c}) <> (SELECT mode(len(${c})) FROM ${view})`,
          columns: [x],
          quarantinable: true,
          describe: 'a null, NaN or infinite element, or a length other than the usual',
        },
        fixedSeverity(cfg, 'finite', target),
      );
    }
    if (x.type === 'VARCHAR' && x.allowed) {
      add(
        {
          check: 'allowed',
          feature: x,
          predicate: `${c} NOT IN (${x.allowed.map(sqlStr).join(', ')})`,
          columns: [x],
          quarantinable: true,
          describe: `not one of ${x.allowed.join(', ')}`,
        },
        fixedSeverity(cfg, 'allowed', target),
      );
    }
  }
  const unbound: CheckResult[] = [];
  for (const r of f.rules ?? []) {
    const severity = fixedSeverity(cfg, 'rule', { rule: r });
    if (!severity) continue;
    try {
      await db.run(`SELECT (${r.sql}) FROM ${view} LIMIT 0`);
    } catch (e) {
      const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      unbound.push({ check: 'rule', rule: r.name, severity, message: `${f.name} rule ${r.name} cannot be evaluated: ${msg}` });
      continue;
    }
    add(
      { check: 'rule', rule: r, predicate: `NOT (${r.sql})`, columns: usable, quarantinable: true, describe: `breaking rule ${r.name} (${r.description})` },
      severity,
    );
  }
  return { checks, unbound };
}

/** Counts every check's offending rows, the non-null values of each feature and the bad rows, in one scan. */
export async function countRowChecks(db: Engine, view: string, usable: readonly FeatureDecl[], checks: readonly RowCheck[]): Promise<RowCheckCounts> {
  const errors = checks.filter((c) => c.severity === 'error').map((c) => c.predicate);
  const select = [
    'count(*)::BIGINT AS "rows"',
    ...usable.map((x, i) => `count(${sqlIdent(x.name)})::BIGINT AS nn${i}`),
    ...checks.map((c, i) => `count(*) FILTER (WHERE ${c.predicate})::BIGINT AS b${i}`),
    `${errors.length ? `count(*) FILTER (WHERE ${errors.join(' OR ')})` : '0'}::BIGINT AS bad`,
  ];
  const r = await db.one<Record<string, number>>(`SELECT ${select.join(', ')} FROM ${view}`);
  return {
    rows: r.rows!,
    nonNull: new Map(usable.map((x, i) => [x.name, r[`nn${i}`]!])),
    breaks: checks.map((_, i) => r[`b${i}`]!),
    badRows: r.bad!,
  };
}

/** A column as JSON: non-finite doubles (in vectors too) as text, since JSON has no NaN or Infinity. */
function jsonColumn(x: FeatureDecl): string {
  const c = sqlIdent(x.name);
  if (x.type === 'DOUBLE') return `CASE WHEN isfinite(${c}) THEN to_json(${c}) ELSE to_json(${c}::VARCHAR) END AS ${c}`;
  if (x.type === 'FLOAT[]') return `to_json(list_transform(${c}, v -> CASE WHEN isfinite(v) THEN to_json(v) ELSE to_json(v::VARCHAR) END)) AS ${c}`;
  return c;
}

/** Up to n rows as plain JSON values (timestamps as text), ordered by the keys. */
export async function sampleRows(db: Engine, sql: string, orderBy: string, n: number): Promise<Record<string, unknown>[]> {
  if (n <= 0) return [];
  const rows = await db.all<{ j: string }>(`SELECT to_json(s)::VARCHAR AS j FROM (${sql} ORDER BY ${orderBy} LIMIT ${n}) s`);
  return rows.map((r) => JSON.parse(r.j) as Record<string, unknown>);
}

export async function sampleBreaks(db: Engine, view: string, f: FamilyDecl, c: RowCheck, n: number): Promise<Record<string, unknown>[]> {
  const cols = [...f.keys.map((k) => sqlIdent(k.name)), ...c.columns.map(jsonColumn)].join(', ');
  return sampleRows(db, `SELECT ${cols} FROM ${view} WHERE ${c.predicate}`, f.keys.map((k) => sqlIdent(k.name)).join(', '), n);
}

export interface DuplicateKeys {
  /** Distinct keys that occur more than once. */
  keys: number;
  /** Rows beyond the first of each such key. */
  extraRows: number;
  sample: Record<string, unknown>[];
}

export async function duplicateKeys(db: Engine, view: string, f: FamilyDecl, n: number): Promise<DuplicateKeys> {
  const keys = f.keys.map((k) => sqlIdent(k.name)).join(', ');
  const notNull = f.keys.map((k) => `${sqlIdent(k.name)} IS NOT NULL`).join(' AND ');
  const dup = `SELECT ${keys}, count(*)::BIGINT AS row_count FROM ${view} WHERE ${notNull} GROUP BY ALL HAVING count(*) > 1`;
  const r = await db.one<{ keys: number; extra: number }>(`SELECT count(*)::BIGINT AS keys, coalesce(sum(row_count - 1), 0)::BIGINT AS extra FROM (${dup})`);
  return { keys: r.keys, extraRows: r.extra, sample: r.keys > 0 ? await sampleRows(db, dup, keys, n) : [] };
}
