// The validation report: small JSON (it travels through Temporal history and is stored in the lake
// for the report page), so only aggregates, histograms and a few sample rows.
import type { FeatureType, Severity } from '../features/types.js';
import type { CheckName, QualityThresholds } from './config.js';
import type { ReferenceKind } from './coverage.js';

/** Days of a feature's window that silver covers at the feature date: filling while days < of. */
export interface WindowCoverage {
  days: number;
  of: number;
}

/** The dates a check compared with, and how they were chosen ('given': by the caller). */
export interface ReferenceUsed {
  kind: ReferenceKind | 'given';
  dates: string[];
}

export interface CheckResult {
  check: CheckName;
  severity: Severity;
  /** Self-contained, e.g. "user_features.watch_time_7d: 3 rows outside [0, +inf)". */
  message: string;
  feature?: string;
  rule?: string;
  /** The measured value (share, statistic, relative change) and the threshold it crossed. */
  value?: number;
  threshold?: number;
  /** Offending rows. */
  rows?: number;
  /** Up to `sampleRows` offending rows (keys and the columns involved). */
  sample?: Record<string, unknown>[];
  /** The offending rows were moved to the quarantine instead of failing the partition. */
  quarantined?: boolean;
}

/** Shares per bin (they sum to 1 over non-null values), current against reference. */
export type Histogram =
  | {
      kind: 'numeric' /** bins + 1 edges; values outside [first, last] are counted in the end bins */;
      edges: number[];
      current: number[];
      reference?: number[];
    }
  | { kind: 'categorical' /** the top categories, then "(other)" when some were pooled */; categories: string[]; current: number[]; reference?: number[] };

export interface ScoreComponents {
  nulls: number;
  outliers?: number;
  distribution?: number;
  drift?: number;
}

export interface FeatureMetrics {
  name: string;
  type: FeatureType;
  /** Absent from the partition or of another type (scored 0). */
  missing?: boolean;
  score: number;
  components: ScoreComponents;
  nullShare: number;
  outlierShare?: number;
  mean?: number;
  stddev?: number;
  skewness?: number;
  min?: number;
  max?: number;
  q1?: number;
  median?: number;
  q3?: number;
  distinct?: number;
  /** The feature's window and how much of it silver covers (absent for features without a window). */
  window?: WindowCoverage;
  /** What its drift was measured against (absent: not compared). */
  reference?: ReferenceUsed;
  referenceMean?: number;
  psi?: number;
  ks?: number;
  js?: number;
  meanChange?: number;
  histogram?: Histogram;
}

export interface QuarantineResult {
  /** Rows moved out. */
  rows: number;
  /** Lake prefix of the committed partition of quarantined rows (with a `quarantine_reasons` column). */
  path: string;
  /** Lake prefix of the committed partition of the rows let through: the one to commit to gold. */
  stagingPath: string;
}

export interface ValidationReport {
  family: string;
  version: number;
  date: string;
  runId?: string;
  validatedAt: string;
  /** No check failed with severity error. */
  passed: boolean;
  /** In [0, 1]; see the README, Feature quality, for the formula. */
  score: number;
  /** Rows validated (after quarantine, when rows were moved out). */
  rows: number;
  /** Share of rows that break an error-level row check, or repeat a key. */
  badRowShare: number;
  /** The row count's reference (the family's window). */
  reference: ReferenceUsed & { window?: WindowCoverage; rows: number; rowsPerDate?: number; rowCountChange?: number };
  checksRun: number;
  /** The thresholds the threshold checks used. */
  thresholds: QualityThresholds;
  failed: CheckResult[];
  warned: CheckResult[];
  features: FeatureMetrics[];
  /** Why some checks did not run (no reference, too few rows...). */
  notes: string[];
  quarantine?: QuarantineResult;
  seconds: number;
}

/** The windows of a report still filling (silver does not cover all their days yet), longest first. */
export function fillingWindows(report: ValidationReport): WindowCoverage[] {
  const all = [report.reference.window, ...report.features.map((x) => x.window)].filter((w): w is WindowCoverage => w !== undefined && w.days < w.of);
  return [...new Map(all.map((w) => [`${w.days}/${w.of}`, w])).values()].sort((a, b) => b.of - a.of || a.days - b.days);
}

/** "window filling: 12 of 30 days", or undefined when every window is complete. */
export function describeFilling(report: ValidationReport): string | undefined {
  const w = fillingWindows(report);
  return w.length ? `window filling: ${w.map((x) => `${x.days} of ${x.of} days`).join(', ')}` : undefined;
}

/** Offending rows of the failed checks, for the DLQ entry. */
export function failedSampleRows(report: ValidationReport, max = 5): Record<string, unknown>[] {
  return report.failed.flatMap((c) => c.sample ?? []).slice(0, max);
}
