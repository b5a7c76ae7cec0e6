// What the validation gate checks and how loudly: check names, default severities, thresholds, and the
// precedence of overrides (run config per feature > feature declaration > family declaration > run
// config per check > default). Hard checks (schema, keys, nulls, ranges, rules...) fail a partition;
// drift checks inform (warn and alert) unless a declaration or the run asks them to block.
import type { FamilyDecl, FeatureDecl, RowRuleDecl, Severity } from '../features/types.js';

/** Checks over the whole partition. */
export type FamilyCheck = 'schema' | 'not_empty' | 'keys_not_null' | 'keys_unique' | 'row_count_change';
/** Checks of one feature. */
export type FeatureCheck =
  | 'not_null'
  | 'range'
  | 'finite'
  | 'allowed'
  | 'null_share'
  | 'outliers'
  | 'zero_variance'
  | 'constant'
  | 'skew'
  | 'psi'
  | 'ks'
  | 'js'
  | 'mean_change';
/** A declared cross-feature rule (`FamilyDecl.rules`); the result names the rule. */
export type RuleCheck = 'rule';
export type CheckName = FamilyCheck | FeatureCheck | RuleCheck;

/** Checks that compare the partition with a reference: they say the data changed, not that it is wrong. */
export const DRIFT_CHECKS = ['psi', 'ks', 'js', 'mean_change', 'row_count_change'] as const satisfies readonly CheckName[];
export type DriftCheck = (typeof DRIFT_CHECKS)[number];
export const isDriftCheck = (c: CheckName): c is DriftCheck => (DRIFT_CHECKS as readonly string[]).includes(c);

/**
 * Checks whose failure a person may accept (`gold dlq replay --accept`): the data is valid, only its
 * distribution is in question. Every other check (schema, keys, nulls, ranges, allowed values, finite
 * values, rules, emptiness) is hard: its failure is never landed as it is.
 */
export const SOFT_CHECKS: readonly CheckName[] = [...DRIFT_CHECKS, 'outliers', 'skew', 'zero_variance', 'constant'];

/** 'off' silences a check (its metric is still reported). */
export type SeverityOverride = Severity | 'off';

/** A check that compares a measured value with thresholds fires at the lowest one given. */
export interface Level {
  warn?: number;
  error?: number;
}

export interface QualityThresholds {
  /** Population stability index against the reference. */
  psi: Level;
  /** Two-sample Kolmogorov-Smirnov statistic (largest gap between the two CDFs). */
  ks: Level;
  /** Jensen-Shannon distance (base 2, in [0, 1]) of category shares. */
  js: Level;
  /** |mean - reference mean| / |reference mean|. */
  meanChange: Level;
  /** |rows - reference rows per date| / reference rows per date. */
  rowCountChange: Level;
  /** Share of non-null values outside the Tukey fences [Q1 - 1.5 IQR, Q3 + 1.5 IQR]. */
  outlierShare: Level;
  /** |sample skewness|. */
  skew: Level;
}

export interface QualityConfig {
  thresholds?: Partial<QualityThresholds>;
  /** Severity per check name, for every feature. */
  severity?: Partial<Record<CheckName, SeverityOverride>>;
  /** Severity per feature name and check: wins over everything else. */
  features?: Record<string, Partial<Record<FeatureCheck, SeverityOverride>>>;
  /** Severity per declared rule name: wins over the rule's own. */
  rules?: Record<string, SeverityOverride>;
  /** Fewest non-null values, in the current partition and in the reference, for drift checks to fire. */
  minDriftRows?: number;
  /** A larger reference is sampled by key hash down to about this many rows. */
  maxReferenceRows?: number;
  /** Reference-quantile bins of PSI (numeric features). */
  psiBins?: number;
  /** Share put in an empty bin so that PSI stays finite. */
  psiEpsilon?: number;
  /** Equal-width bins of the histograms shown in the report. */
  histogramBins?: number;
  /** Categories kept by name for PSI, JS and histograms; the rest are pooled as "(other)". */
  topCategories?: number;
  /** Offending rows kept per failed check. */
  sampleRows?: number;
  /** Drift never fails a partition, whatever the declarations say (it still warns and alerts). */
  driftWarnOnly?: boolean;
  /**
   * Rows that break error-level row checks (not_null, finite, range, allowed, rules) go to the
   * quarantine and the rest is validated and lands, instead of failing the partition.
   */
  quarantineRows?: boolean;
}

export type ResolvedQualityConfig = Required<Omit<QualityConfig, 'thresholds'>> & {
  thresholds: QualityThresholds;
  /** The validated family's declared severities (`FamilyDecl.severity`). */
  familySeverity: Partial<Record<string, SeverityOverride>>;
};

export const DEFAULT_THRESHOLDS: QualityThresholds = {
  psi: { warn: 0.1, error: 0.2 },
  ks: { warn: 0.1 },
  js: { warn: 0.1 },
  meanChange: { warn: 0.2 },
  rowCountChange: { warn: 0.5 },
  outlierShare: { warn: 0.1 },
  skew: { warn: 10 },
};

/** Severity of the checks that fire on any break (threshold checks take theirs from the level crossed). */
export const DEFAULT_SEVERITY: Record<Exclude<CheckName, 'psi' | 'ks' | 'js' | 'mean_change' | 'row_count_change' | 'outliers' | 'skew'>, Severity> = {
  schema: 'error',
  not_empty: 'error',
  keys_not_null: 'error',
  keys_unique: 'error',
  not_null: 'error',
  range: 'error',
  finite: 'error',
  allowed: 'error',
  rule: 'error',
  null_share: 'error',
  zero_variance: 'warn',
  constant: 'warn',
};

export function resolveConfig(c: QualityConfig = {}, family?: Pick<FamilyDecl, 'severity'>): ResolvedQualityConfig {
  const r: ResolvedQualityConfig = {
    thresholds: { ...DEFAULT_THRESHOLDS, ...c.thresholds },
    familySeverity: family?.severity ?? {},
    driftWarnOnly: c.driftWarnOnly ?? false,
    quarantineRows: c.quarantineRows ?? false,
    severity: c.severity ?? {},
    features: c.features ?? {},
    rules: c.rules ?? {},
    minDriftRows: c.minDriftRows ?? 100,
    maxReferenceRows: c.maxReferenceRows ?? 500_000,
    psiBins: c.psiBins ?? 10,
    psiEpsilon: c.psiEpsilon ?? 1e-4,
    histogramBins: c.histogramBins ?? 20,
    topCategories: c.topCategories ?? 20,
    sampleRows: c.sampleRows ?? 5,
  };
  for (const [k, v] of Object.entries({ psiBins: r.psiBins, histogramBins: r.histogramBins, topCategories: r.topCategories })) {
    if (!Number.isInteger(v) || v < 2 || v > 200) throw new Error(`invalid quality config ${k}=${v}: expected a whole number in [2, 200]`);
  }
  if (!Number.isInteger(r.sampleRows) || r.sampleRows < 0 || r.sampleRows > 100)
    throw new Error(`invalid quality config sampleRows=${r.sampleRows}: expected a whole number in [0, 100]`);
  if (!Number.isInteger(r.maxReferenceRows) || r.maxReferenceRows < 1000)
    throw new Error(`invalid quality config maxReferenceRows=${r.maxReferenceRows}: expected a whole number >= 1000`);
  if (!(r.psiEpsilon > 0 && r.psiEpsilon < 0.1)) throw new Error(`invalid quality config psiEpsilon=${r.psiEpsilon}: expected a number in (0, 0.1)`);
  for (const [k, l] of Object.entries(r.thresholds)) {
    if (l.warn === undefined && l.error === undefined) continue;
    if (
      (l.warn !== undefined && !(l.warn >= 0)) ||
      (l.error !== undefined && !(l.error >= 0)) ||
      (l.warn !== undefined && l.error !== undefined && l.error < l.warn)
    ) {
      throw new Error(`invalid quality threshold ${k}=${JSON.stringify(l)}: expected 0 <= warn <= error`);
    }
  }
  return r;
}

export interface CheckTarget {
  feature?: FeatureDecl;
  rule?: RowRuleDecl;
}

/** The override that applies to a check, if any, in precedence order; drift is capped at 'warn' in a drift-warn-only run. */
export function severityOverride(cfg: ResolvedQualityConfig, check: CheckName, t: CheckTarget = {}): SeverityOverride | undefined {
  const o = declaredOverride(cfg, check, t);
  return cfg.driftWarnOnly && o === 'error' && isDriftCheck(check) ? 'warn' : o;
}

function declaredOverride(cfg: ResolvedQualityConfig, check: CheckName, t: CheckTarget): SeverityOverride | undefined {
  if (t.feature) {
    const fromRun = cfg.features[t.feature.name]?.[check as FeatureCheck];
    if (fromRun) return fromRun;
    const fromDecl = t.feature.severity?.[check];
    if (fromDecl) return fromDecl;
  }
  if (t.rule) return cfg.rules[t.rule.name] ?? t.rule.severity ?? cfg.familySeverity.rule ?? cfg.severity.rule;
  return cfg.familySeverity[check] ?? cfg.severity[check];
}

/** Severity of a check that fires on any break; undefined when switched off. */
export function fixedSeverity(cfg: ResolvedQualityConfig, check: keyof typeof DEFAULT_SEVERITY, t: CheckTarget = {}): Severity | undefined {
  const o = severityOverride(cfg, check, t) ?? DEFAULT_SEVERITY[check];
  return o === 'off' ? undefined : o;
}

/**
 * Severity of a threshold check for a measured value: the level crossed, or the override once the
 * lowest threshold is crossed; undefined when it does not fire. `cap` bounds the level crossed when
 * there is no override (drift: 'warn', it informs unless declared to block).
 */
export function levelSeverity(
  value: number | undefined,
  level: Level,
  override: SeverityOverride | undefined,
  cap?: Severity,
): { severity: Severity; threshold: number } | undefined {
  if (value === undefined || !Number.isFinite(value) || override === 'off') return undefined;
  const lowest = Math.min(level.warn ?? Infinity, level.error ?? Infinity);
  if (!(value >= lowest)) return undefined;
  if (override) return { severity: override, threshold: lowest };
  if (level.error !== undefined && value >= level.error && cap !== 'warn') return { severity: 'error', threshold: level.error };
  return { severity: 'warn', threshold: level.warn ?? level.error! };
}
