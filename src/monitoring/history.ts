// The metric history of a family: per feature date, the figures of its latest stored validation report
// (row count, score, feature means and PSI). Monitoring's completeness, anomalies and drift trends read it.

import type { Lake } from '../lake/index.js';
import { isDriftCheck } from '../quality/config.js';
import { type CheckResult, describeFilling, type ValidationReport } from '../quality/report.js';
import { addDays } from '../shared/dates.js';
import { latestValidationReports } from './run-records.js';

export interface MetricPoint {
  date: string;
  rows: number;
  score: number;
  passed: boolean;
  means: Record<string, number>;
  psi: Record<string, number>;
  /** A window of the family was still filling: its row count and means grow by design. */
  filling: boolean;
  /** The drift checks that fired (warned, or failed where drift was declared to block). */
  drift: Pick<CheckResult, 'check' | 'feature' | 'severity' | 'value' | 'threshold' | 'message'>[];
}

/** Points of the `days` dates ending at `endDate` that have a validation report, ascending. */
export async function metricHistory(lake: Lake, family: string, endDate: string, days: number): Promise<MetricPoint[]> {
  const dates = Array.from({ length: days }, (_, i) => addDays(endDate, i - days + 1));
  const reports = await Promise.all(dates.map(async (d) => (await latestValidationReports(lake, d, family)).get(family)));
  return reports.filter((r) => r !== undefined).map(metricPoint);
}

/** A validation report as a point of the history. */
export function metricPoint(r: ValidationReport): MetricPoint {
  return {
    date: r.date,
    rows: r.rows,
    score: r.score,
    passed: r.passed,
    means: Object.fromEntries(r.features.filter((x) => x.mean !== undefined).map((x) => [x.name, x.mean!])),
    // Only the PSI the gate acted on (it scored drift): one measured while switched off, or on too few rows, is not a trend.
    psi: Object.fromEntries(r.features.filter((x) => x.psi !== undefined && x.components.drift !== undefined).map((x) => [x.name, x.psi!])),
    filling: describeFilling(r) !== undefined,
    drift: [...r.failed, ...r.warned]
      .filter((c) => isDriftCheck(c.check))
      .map(({ check, feature, severity, value, threshold, message }) => ({ check, ...(feature ? { feature } : {}), severity, value, threshold, message })),
  };
}
