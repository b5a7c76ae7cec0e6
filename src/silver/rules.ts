// The silver rules (../shared/spec/silver.md, "Columns" and "Bad input"), each a named SQL predicate
// that is true when a row breaks it. Predicates read the reader's columns (SILVER_COLUMNS) and are
// NULL-safe in the direction that matters: a NULL operand never makes a rule true by accident, and
// NULLs are caught by the rules that name them. Order matters: a row breaking several rules is
// quarantined once, under the first one it breaks (and lists all of them).
import { sqlList, sqlStr } from '../engine/sql.js';
import { COUNTRY_CODES, DEVICE_TYPES, EVENT_TYPES, ZERO_WATCH_EVENT_TYPES } from './contract.js';

export interface RuleContext {
  /** The run's time: events after it are in the future. */
  runTime: Date;
  /**
   * The event_type and event_date of every row checked, when known (a file's partition values): the
   * rules on them are then decided once for the file, or become comparisons with constants.
   */
  partition?: { eventType: string; eventDate: string };
}

export interface RowRule {
  name: string;
  description: string;
  scope: 'row';
  /** A SQL boolean over one row, true when the row breaks the rule. */
  predicate: (ctx: RuleContext) => string;
  /**
   * The same rule as conditions, one column each: a row breaks the rule when any is true. The reader
   * looks for the rows that break a rule with one filter per condition, which the Parquet scan checks
   * against each row group's statistics (and dictionary) first, so it decodes only the groups where a
   * row might break it. Without it, the predicate is the one condition. (A list of values is tested
   * with list_contains: DuckDB 1.5 checks a NOT IN against the dictionary only when it is the scan's
   * one filter, and an hour range adds one.)
   */
  anyOf?: (ctx: RuleContext) => string[];
}

export interface RangeRule {
  name: string;
  description: string;
  /** Decided over all rows of the read range, not one row at a time (the reader implements it). */
  scope: 'range';
}

export type SilverRule = RowRule | RangeRule;

/** A TIMESTAMP literal (UTC, microseconds) for a JS date. */
export function sqlTimestamp(d: Date): string {
  return `TIMESTAMP ${sqlStr(d.toISOString().replace('T', ' ').replace('Z', ''))}`;
}

// A literal IN list is constant-folded and cheap for a few values; a long list is faster as a hash
// lookup, which DuckDB plans for an IN over a subquery.
const inList = (column: string, values: readonly string[]): string =>
  values.length <= 16 ? `${column} IN (${values.map(sqlStr).join(', ')})` : `${column} IN (SELECT unnest(${sqlList([...values])}))`;

export const SILVER_RULES = [
  {
    name: 'null_key',
    description: 'event_id, event_timestamp, user_id, session_id or video_id is null',
    scope: 'row',
    predicate: () => 'event_id IS NULL OR event_timestamp IS NULL OR user_id IS NULL OR session_id IS NULL OR video_id IS NULL',
    anyOf: () => ['event_id', 'event_timestamp', 'user_id', 'session_id', 'video_id'].map((c) => `${c} IS NULL`),
  },
  {
    name: 'null_value',
    description: 'category, watch_seconds, play_position_seconds or video_duration_seconds is null',
    scope: 'row',
    predicate: () => 'category IS NULL OR watch_seconds IS NULL OR play_position_seconds IS NULL OR video_duration_seconds IS NULL',
    anyOf: () => ['category', 'watch_seconds', 'play_position_seconds', 'video_duration_seconds'].map((c) => `${c} IS NULL`),
  },
  {
    name: 'unknown_event_type',
    description: `event_type is not one of ${EVENT_TYPES.join(', ')}`,
    scope: 'row',
    predicate: (ctx) =>
      ctx.partition ? String(!(EVENT_TYPES as readonly string[]).includes(ctx.partition.eventType)) : `NOT ${inList('event_type', EVENT_TYPES)}`,
  },
  {
    name: 'timestamp_in_future',
    description: 'event_timestamp is later than the run time',
    scope: 'row',
    predicate: (ctx) => `event_timestamp > ${sqlTimestamp(ctx.runTime)}`,
  },
  {
    name: 'timestamp_outside_partition',
    description: "event_timestamp's UTC date differs from the event_date partition",
    scope: 'row',
    predicate: (ctx) =>
      ctx.partition
        ? `(event_timestamp < DATE ${sqlStr(ctx.partition.eventDate)} OR event_timestamp >= DATE ${sqlStr(ctx.partition.eventDate)} + INTERVAL 1 DAY)`
        : 'CAST(event_timestamp AS DATE) <> event_date',
    anyOf: (ctx) =>
      ctx.partition
        ? [`event_timestamp < DATE ${sqlStr(ctx.partition.eventDate)}`, `event_timestamp >= DATE ${sqlStr(ctx.partition.eventDate)} + INTERVAL 1 DAY`]
        : ['CAST(event_timestamp AS DATE) <> event_date'],
  },
  {
    name: 'non_finite_number',
    description: 'watch_seconds, play_position_seconds or video_duration_seconds is NaN or infinite',
    scope: 'row',
    predicate: () => 'NOT (isfinite(watch_seconds) AND isfinite(play_position_seconds) AND isfinite(video_duration_seconds))',
    anyOf: () => ['watch_seconds', 'play_position_seconds', 'video_duration_seconds'].map((c) => `NOT isfinite(${c})`),
  },
  {
    name: 'nonpositive_duration',
    description: 'video_duration_seconds <= 0',
    scope: 'row',
    predicate: () => 'video_duration_seconds <= 0',
  },
  {
    name: 'negative_watch_seconds',
    description: 'watch_seconds < 0',
    scope: 'row',
    predicate: () => 'watch_seconds < 0',
  },
  {
    name: 'unexpected_watch_seconds',
    description: `watch_seconds is not 0 for ${ZERO_WATCH_EVENT_TYPES.join(', ')}`,
    scope: 'row',
    predicate: (ctx) =>
      ctx.partition
        ? (ZERO_WATCH_EVENT_TYPES as readonly string[]).includes(ctx.partition.eventType)
          ? 'watch_seconds <> 0'
          : 'false'
        : `watch_seconds <> 0 AND ${inList('event_type', ZERO_WATCH_EVENT_TYPES)}`,
  },
  {
    name: 'negative_position',
    description: 'play_position_seconds < 0',
    scope: 'row',
    predicate: () => 'play_position_seconds < 0',
  },
  {
    name: 'position_beyond_duration',
    description: 'play_position_seconds > video_duration_seconds',
    scope: 'row',
    predicate: () => 'play_position_seconds > video_duration_seconds',
  },
  {
    name: 'unknown_device_type',
    description: `device_type is null or not one of ${DEVICE_TYPES.join(', ')}`,
    scope: 'row',
    predicate: () => `device_type IS NULL OR NOT ${inList('device_type', DEVICE_TYPES)}`,
    anyOf: () => ['device_type IS NULL', `NOT list_contains(${sqlList([...DEVICE_TYPES])}, device_type)`],
  },
  {
    name: 'bad_country',
    description: 'country is null or not an ISO 3166-1 alpha-2 code',
    scope: 'row',
    predicate: () => `country IS NULL OR NOT ${inList('country', COUNTRY_CODES)}`,
    anyOf: () => ['country IS NULL', `NOT list_contains(${sqlList([...COUNTRY_CODES])}, country)`],
  },
  {
    name: 'duplicate_event_id',
    description:
      'another row of the same date, otherwise valid, has the same event_id (one copy is accepted; a copy of an event has its timestamp, so its date)',
    scope: 'range',
  },
] as const satisfies readonly SilverRule[];

export type SilverRuleName = (typeof SILVER_RULES)[number]['name'];

export const SILVER_RULE_NAMES: readonly SilverRuleName[] = SILVER_RULES.map((r) => r.name);

export const DUPLICATE_EVENT_ID: SilverRuleName = 'duplicate_event_id';

const ROW_RULES: readonly RowRule[] = SILVER_RULES.filter((r): r is (typeof SILVER_RULES)[number] & RowRule => r.scope === 'row');

/**
 * Conditions whose union is the rows that break some row rule (each rule's anyOf, or its predicate),
 * less those that are false for every row of the context.
 */
export function brokenRowConditionsSql(ctx: RuleContext): string[] {
  return ROW_RULES.flatMap((r) => r.anyOf?.(ctx) ?? [r.predicate(ctx)]).filter((c) => c !== 'false');
}

/** The name of the first row rule a row breaks, or NULL: one CASE (the daily partials hash its text without a partition). */
export function firstBrokenRowRuleSql(ctx: RuleContext): string {
  return `CASE ${ROW_RULES.map((r) => `WHEN ${r.predicate(ctx)} THEN ${sqlStr(r.name)}`).join(' ')} END`;
}

/** Every row rule a row breaks, as a VARCHAR[] (for the quarantined rows only: it is the slow form). */
export function brokenRowRulesSql(ctx: RuleContext): string {
  return `list_filter([${ROW_RULES.map((r) => `CASE WHEN ${r.predicate(ctx)} THEN ${sqlStr(r.name)} END`).join(', ')}], x -> x IS NOT NULL)`;
}
