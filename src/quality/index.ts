// The validation gate: checks, drift, quality scores and row quarantine of staged feature partitions.

export {
  type CheckName,
  DEFAULT_SEVERITY,
  DEFAULT_THRESHOLDS,
  type FamilyCheck,
  type FeatureCheck,
  type Level,
  type QualityConfig,
  type QualityThresholds,
  resolveConfig,
  type SeverityOverride,
} from './config.js';
export { featureQuarantinePath, filteredStagingPath } from './quarantine.js';
export { committedGoldDates, latestGoldDate, type ReferenceData } from './reference.js';
export { type CheckResult, type FeatureMetrics, failedSampleRows, type Histogram, type QuarantineResult, type ValidationReport } from './report.js';
export { type ValidateOptions, validateFamily } from './validate.js';
