// Monitoring of a feature date: freshness, completeness, anomalies, drift trends and quality of each
// family, judged against thresholds into alerts. `monitorDate` only evaluates (and sets gauges);
// `raiseAlerts` sends what it found.
import type { Lake } from '../lake/index.js';
import { type Alert, type AlertDelivery, raiseAlert } from './alerts.js';
import { type FamilyFreshness, familyFreshness } from './freshness.js';
import { type MetricPoint, metricHistory } from './history.js';
import { goldMetrics } from './metrics.js';
import { type Anomaly, anomalies, type Completeness, completeness, type DriftTrend, driftTrends } from './trends.js';

export interface MonitoringThresholds {
  /** Alert when the latest gold lags the date by more days than this. */
  maxLagDays: number;
  /** Alert when rows / recent average falls below this. */
  minCompleteness: number;
  /** Alert when the row count or a feature mean is more than this many standard deviations off ... */
  anomalySigmas: number;
  /** ... and moved by at least this share of its recent mean. */
  anomalyMinChange: number;
  /** Earlier dates looked at. */
  window: number;
  /** Fewest earlier dates for anomalies to be judged. */
  minHistory: number;
  /** Alert when PSI stays at or above this ... */
  sustainedDriftPsi: number;
  /** ... on this many dates in a row. */
  sustainedDriftDates: number;
  /** Alert when the family's quality score is below this. */
  minQualityScore: number;
}

export const DEFAULT_MONITORING_THRESHOLDS: MonitoringThresholds = {
  maxLagDays: 0,
  minCompleteness: 0.5,
  anomalySigmas: 3,
  anomalyMinChange: 0.1,
  window: 14,
  minHistory: 5,
  sustainedDriftPsi: 0.1,
  sustainedDriftDates: 3,
  minQualityScore: 0.8,
};

export interface FamilyMonitoring {
  family: string;
  freshness: FamilyFreshness;
  completeness: Completeness;
  qualityScore?: number;
  anomalies: Anomaly[];
  /** The drift checks that fired on the date (from its validation report). */
  drift: MetricPoint['drift'];
  driftTrends: DriftTrend[];
  /** Score and rows over the window, the date included, for trend lines. */
  history: Pick<MetricPoint, 'date' | 'score' | 'rows'>[];
}

export interface MonitoringReport {
  date: string;
  thresholds: MonitoringThresholds;
  families: FamilyMonitoring[];
  alerts: Alert[];
}

export async function monitorDate(
  lake: Lake,
  date: string,
  families: readonly string[],
  thresholds: Partial<MonitoringThresholds> = {},
): Promise<MonitoringReport> {
  const t = { ...DEFAULT_MONITORING_THRESHOLDS, ...thresholds };
  const m = goldMetrics();
  const out: FamilyMonitoring[] = [];
  const alerts: Alert[] = [];
  for (const family of families) {
    const freshness = await familyFreshness(lake, family, date);
    const points = await metricHistory(lake, family, date, t.window + 1);
    const current = points.find((p) => p.date === date);
    const fm: FamilyMonitoring = {
      family,
      freshness,
      completeness: completeness(points, date),
      ...(current ? { qualityScore: current.score } : {}),
      anomalies: anomalies(points, date, { sigmas: t.anomalySigmas, minHistory: t.minHistory, minChange: t.anomalyMinChange }),
      drift: current?.drift ?? [],
      driftTrends: driftTrends(points, date, { psiThreshold: t.sustainedDriftPsi, sustainedDates: t.sustainedDriftDates }),
      history: points.map((p) => ({ date: p.date, score: p.score, rows: p.rows })),
    };
    out.push(fm);
    if (freshness.lagDays !== undefined) m.freshnessLagDays.set({ family }, freshness.lagDays);
    if (fm.completeness.ratio !== undefined) m.completenessRatio.set({ family }, fm.completeness.ratio);
    alerts.push(...judge(date, fm, t));
  }
  return { date, thresholds: t, families: out, alerts };
}

function judge(date: string, f: FamilyMonitoring, t: MonitoringThresholds): Alert[] {
  const out: Alert[] = [];
  const family = f.family;
  const fr = f.freshness;
  if (fr.lagDays === undefined) out.push({ kind: 'freshness', severity: 'error', date, family, message: `${family} has no committed gold up to ${date}` });
  else if (fr.lagDays > t.maxLagDays) {
    out.push({
      kind: 'freshness',
      severity: 'error',
      date,
      family,
      value: fr.lagDays,
      threshold: t.maxLagDays,
      message: `${family}: latest gold is ${fr.latestDate}, ${fr.lagDays} day(s) behind ${date}`,
    });
  }
  const c = f.completeness;
  if (c.ratio !== undefined && c.ratio < t.minCompleteness) {
    out.push({
      kind: 'completeness',
      severity: 'warn',
      date,
      family,
      value: c.ratio,
      threshold: t.minCompleteness,
      message: `${family}: ${c.rows} rows, ${(c.ratio * 100).toFixed(0)}% of the recent average ${c.recentAverage!.toFixed(0)}`,
    });
  }
  for (const a of f.anomalies) {
    const feature = a.metric.startsWith('mean:') ? a.metric.slice(5) : undefined;
    const off = a.z === undefined ? 'off a constant history' : `${a.z.toFixed(1)} standard deviations from`;
    out.push({
      kind: 'anomaly',
      severity: 'warn',
      date,
      family,
      ...(feature ? { feature } : {}),
      value: a.value,
      threshold: a.sigmas,
      message: `${family} ${a.metric} = ${a.value.toPrecision(4)} is ${off} its recent mean ${a.mean.toPrecision(4)}`,
    });
  }
  out.push(...driftAlerts(date, f));
  for (const d of f.driftTrends.filter((x) => x.sustained)) {
    out.push({
      kind: 'sustained_drift',
      severity: 'warn',
      date,
      family,
      feature: d.feature,
      value: d.psi.at(-1),
      threshold: t.sustainedDriftPsi,
      message: `${family}.${d.feature}: PSI >= ${t.sustainedDriftPsi} on the last ${t.sustainedDriftDates} dates (${d.psi
        .slice(-t.sustainedDriftDates)
        .map((p) => p.toFixed(2))
        .join(', ')})`,
    });
  }
  if (f.qualityScore !== undefined && f.qualityScore < t.minQualityScore) {
    out.push({
      kind: 'quality',
      severity: 'warn',
      date,
      family,
      value: f.qualityScore,
      threshold: t.minQualityScore,
      message: `${family}: quality score ${f.qualityScore.toFixed(3)} below ${t.minQualityScore}`,
    });
  }
  return out;
}

/** One drift alert per feature (or the row count) whose drift checks fired on the date, naming them all. */
function driftAlerts(date: string, f: FamilyMonitoring): Alert[] {
  const byFeature = new Map<string | undefined, FamilyMonitoring['drift']>();
  for (const d of f.drift) byFeature.set(d.feature, [...(byFeature.get(d.feature) ?? []), d]);
  return [...byFeature].map(([feature, checks]) => ({
    kind: 'drift',
    severity: checks.some((c) => c.severity === 'error') ? 'error' : 'warn',
    date,
    family: f.family,
    ...(feature ? { feature } : {}),
    value: checks[0]!.value,
    threshold: checks[0]!.threshold,
    message: checks.map((c) => c.message).join('; '),
  }));
}

/** All at once: a webhook that never answers costs one timeout, not one per alert (the activity has a deadline). */
export async function raiseAlerts(alerts: readonly Alert[], opts: { webhookUrl?: string; timeoutMs?: number } = {}): Promise<AlertDelivery[]> {
  return Promise.all(alerts.map((a) => raiseAlert(a, opts)));
}

/**
 * Monitoring after a run: freshness, completeness, anomalies and drift trends of the families it
 * planned (one that did not land is the freshness alert's very case), each alert raised.
 */
export async function monitorRun(lake: Lake, date: string, families: readonly string[], webhookUrl: string | undefined): Promise<void> {
  if (families.length === 0) return;
  const monitoring = await monitorDate(lake, date, families);
  await raiseAlerts(monitoring.alerts, { webhookUrl });
}
