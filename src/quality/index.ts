// The validation gate: checks, drift, quality scores and row quarantine of staged feature partitions.
export { validateFamily, type ValidateOptions } from './validate.js';
export { committedGoldDates, latestGoldDate, type ReferenceData } from './reference.js';
export { resolveConfig, DEFAULT_THRESHOLDS, DEFAULT_SEVERITY, type QualityConfig, type QualityThresholds, type CheckName, type FeatureCheck, type FamilyCheck, type Level, type SeverityOverride } from './config.js';
export { failedSampleRows, type ValidationReport, type CheckResult, type FeatureMetrics, type Histogram, type QuarantineResult } from './report.js';
export { featureQuarantinePath, filteredStagingPath } from './quarantine.js';
