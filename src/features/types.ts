// The declaration of a feature family (a feature view): everything the DAG, validation, the registry,
// storage and serving need is read from here.
import type { DAILY_PARTIALS, DailyPartialName, PartialName, WindowSumType } from './partials/definitions.js';

/** DuckDB types a feature can have. */
export type FeatureType = 'BIGINT' | 'DOUBLE' | 'VARCHAR' | 'TIMESTAMP' | 'FLOAT[]' | 'VARCHAR[]';

/** Models a family can read: `als` gives the views als_users (user_id, vector) and als_videos (video_id, vector, similar_videos, similar_scores). */
export type ModelName = 'als';

export type Severity = 'warn' | 'error';

export interface FeatureDecl {
  name: string;
  type: FeatureType;
  description: string;
  /** Null allowed (ratios with a zero denominator). Default false. */
  nullable?: boolean;
  min?: number;
  max?: number;
  /** Allowed values of a VARCHAR feature. */
  allowed?: readonly string[];
  /** Largest share of nulls before the null check fires (default 0 when not nullable, 1 when nullable). */
  maxNullShare?: number;
  /** Severity of this feature's checks, per check name ('off': not run); defaults in src/quality. */
  severity?: Partial<Record<string, Severity | 'off'>>;
  /**
   * Days of silver the feature aggregates, ending at the feature date (1, 7, 30...); default the
   * family's. Validation knows from it when the window is still filling and which reference compares
   * like for like (src/quality/coverage.ts).
   */
  windowDays?: number;
}

export interface KeyDecl {
  name: string;
  type: 'VARCHAR';
}

/** A rule over a row that involves several features, as a SQL predicate that must hold. */
export interface RowRuleDecl {
  name: string;
  description: string;
  sql: string;
  severity?: Severity;
}

/**
 * Sums over windows of a daily partial that a family reads (Chronon-style: source, column, operation,
 * windows). Each window gives a column `<name>_<days>d` of the partial's window state (`user_day` ->
 * `user_window`, with the partial's keys), which the family's SQL reads as a view of that name; the
 * state is shared by all families (src/features/partials/windows.ts, docs/windows.md).
 */
export type WindowAggregation = {
  [D in DailyPartialName]: WindowAggregationOf<D, keyof (typeof DAILY_PARTIALS)[D]['measures'] & string>;
}[DailyPartialName];

type WindowAggregationOf<D extends DailyPartialName, Measure extends string> = {
  /** The daily partial summed. */
  from: D;
  op: 'sum';
  /** Window lengths in days, each ending at the feature date (1: the date alone). */
  windows: readonly number[];
  /** The state column's exact name instead of `<name>_<days>d`: for a single window only. */
  as?: string;
} & (
  | {
      /** A measure of the daily partial: its type is the measure's. */
      column: Measure;
      /** Default the column. */
      name?: string;
    }
  | {
      /** An expression over a row of the daily partial (its `day` included), e.g. a CASE on the weekday. */
      expr: string;
      name: string;
      type: WindowSumType;
    }
);

/** Literals a family's SQL is written with. */
export interface SqlParams {
  /** The feature date as a SQL DATE literal. */
  date: string;
  /** as_of(D) as a SQL TIMESTAMP literal. */
  asOf: string;
  /** The declarations of the families this one depends on (for generated SQL). */
  dependencies: readonly FamilyDecl[];
}

export interface FamilyDecl {
  name: string;
  description: string;
  owner: string;
  /** Bump on a breaking change of the features (the registry refuses one otherwise). */
  version: number;
  entity: string;
  keys: readonly KeyDecl[];
  /** How long a row stays valid for point-in-time retrieval and online serving. */
  ttlSeconds: number;
  /**
   * Partials read, with the window in days ending at the feature date (1 for a state: only the date's
   * is read). The window states of `windows` are read without being listed (a listed one must be 1).
   */
  partials: Partial<Record<PartialName, number>>;
  /** Sums over windows of daily partials read from their window states (user_window...). */
  windows?: readonly WindowAggregation[];
  /** Models of the date this family reads (trained once per date; see src/features/models). */
  models?: readonly ModelName[];
  /** Families of the same date this one is computed from (views of the same names). */
  dependsOn: readonly string[];
  features: readonly FeatureDecl[];
  rules?: readonly RowRuleDecl[];
  /** Days of silver that decide which entities have a row (users active in 30 days: 30); the default of its features' windowDays. */
  windowDays?: number;
  /**
   * Severity of the family's checks, per check name, below its features' own: e.g. `{ psi: 'error' }`
   * makes drift block this family's partitions (by default drift only warns and alerts).
   */
  severity?: Partial<Record<string, Severity | 'off'>>;
  /** Materialized to the online store (default true). */
  online?: boolean;
  /**
   * The family's rows: a SELECT over views named after its partials and dependencies, producing the
   * key columns then the features, in declaration order. feature_timestamp and created_timestamp are
   * added by the runner.
   */
  sql(p: SqlParams): string;
}

/** A column statistical_features describes besides a family's numeric features: a SQL expression over the family's rows. */
export interface StatisticsColumnDecl {
  /** The row's `feature` key in statistical_features: not a feature name of the family (rows stay unique by (family, feature)). */
  name: string;
  /** An expression over a row of the family (its features by name, e.g. `ln(1 + watch_time_30d)`), described as DOUBLE. */
  sql: string;
  description: string;
}

/**
 * Statistics of user-chosen columns of a family (src/features/statistics/): statistical_features gives
 * each column a row (family, name) with the same statistics as the family's numeric features, computed
 * by the same SQL. The family must be one statistical_features depends on.
 */
export interface StatisticsDecl {
  family: string;
  description: string;
  columns: readonly StatisticsColumnDecl[];
}

export const DAY_SECONDS = 86_400;

/**
 * Checks for a feature naming an entity (a session's user): which entities are active changes every
 * day, so the drift of its shares means nothing and is not measured.
 */
export const IDENTIFIER: Partial<Record<string, Severity | 'off'>> = { psi: 'off', js: 'off' };

/**
 * Checks for a feature that grows by design (totals, ages over all history): its distribution moves
 * every day, so drift is measured and shown but never alerts; the windowed features beside it do.
 */
export const CUMULATIVE: Partial<Record<string, Severity | 'off'>> = { psi: 'off', ks: 'off', mean_change: 'off' };

/**
 * Checks for a feature scaled by a maximum of its date (a score over the most viewed video's count):
 * its whole distribution moves when that one value does, so drift is measured and shown but never
 * alerts; the counts it is computed from are checked.
 */
export const SCALED_BY_DATE_MAXIMUM: Partial<Record<string, Severity | 'off'>> = { psi: 'off', ks: 'off', mean_change: 'off' };

/**
 * Checks for a calendar component of a date that moves with the feature date (the month, year or ISO
 * week of a user's latest event): most rows hold the current one, so its distribution follows the
 * calendar (a month's first days, a new year), not the data. Drift is measured and shown but never
 * alerts, and a single value (one year for everyone) or a few rows of the month before (beyond IQR
 * fences of width 0) are not warned of; ranges are still checked.
 */
export const CALENDAR: Partial<Record<string, Severity | 'off'>> = {
  psi: 'off',
  ks: 'off',
  mean_change: 'off',
  outliers: 'off',
  skew: 'off',
  zero_variance: 'off',
  constant: 'off',
};

/**
 * Checks for a feature heavy-tailed by nature (counts of a few very active entities): values beyond
 * the IQR fences and a large skew are its shape, not a quality problem, so they are not warned of.
 */
export const HEAVY_TAILED: Partial<Record<string, Severity | 'off'>> = { outliers: 'off', skew: 'off' };
