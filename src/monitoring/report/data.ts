// The data behind `gold report --date D`: the stored validation reports and run records of the date,
// monitoring (freshness, completeness, anomalies, drift trends, alerts) and the date's DLQ entries.
import { type DlqEntry, listDlq } from '../../dlq/entries.js';
import { FAMILIES } from '../../features/families/index.js';
import type { Lake } from '../../lake/index.js';
import type { ValidationReport } from '../../quality/report.js';
import { assertDate } from '../../shared/dates.js';
import type { Alert } from '../alerts.js';
import { type FamilyMonitoring, type MonitoringThresholds, monitorDate } from '../monitor.js';
import type { RunRecord } from '../run-record.js';
import { latestValidationReports, readRunRecords } from '../run-records.js';

export interface FamilySection extends FamilyMonitoring {
  description?: string;
  validation?: ValidationReport;
}

export interface DateReport {
  date: string;
  generatedAt: string;
  lake: string;
  families: FamilySection[];
  runs: RunRecord[];
  dlq: DlqEntry[];
  alerts: Alert[];
}

/** Every declared family, plus any other family validated that date. */
export async function buildDateReport(
  lake: Lake,
  date: string,
  opts: { families?: string[]; thresholds?: Partial<MonitoringThresholds> } = {},
): Promise<DateReport> {
  assertDate(date);
  const reports = await latestValidationReports(lake, date);
  const families = opts.families ?? [...new Set([...FAMILIES.map((f) => f.name), ...[...reports.keys()].sort()])];
  const monitoring = await monitorDate(lake, date, families, opts.thresholds);
  const sections = monitoring.families.map((m): FamilySection => {
    const description = FAMILIES.find((f) => f.name === m.family)?.description;
    const validation = reports.get(m.family);
    return { ...m, ...(description ? { description } : {}), ...(validation ? { validation } : {}) };
  });
  return {
    date,
    generatedAt: new Date().toISOString(),
    lake: lake.uri,
    families: sections,
    runs: await readRunRecords(lake, date),
    dlq: await listDlq(lake, { date }),
    alerts: monitoring.alerts,
  };
}
