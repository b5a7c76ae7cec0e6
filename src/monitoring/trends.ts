// What the metric history says about a date: completeness against the recent average, values more
// than k standard deviations from their recent history, and drift that persists over dates. Pure.
import type { MetricPoint } from './history.js';

export interface Completeness {
  rows?: number;
  /** Mean row count of the earlier dates of the history. */
  recentAverage?: number;
  /** rows / recentAverage. */
  ratio?: number;
  /** Earlier dates averaged. */
  dates: number;
}

export interface ZScore {
  mean: number;
  stddev: number;
  /** Absent when the history is constant. */
  z?: number;
  anomalous: boolean;
}

export interface Anomaly extends ZScore {
  /** 'rows', or 'mean:<feature>'. */
  metric: string;
  value: number;
  sigmas: number;
}

export interface DriftTrend {
  feature: string;
  dates: string[];
  psi: number[];
  /** PSI at or above the threshold on each of the last `dates` points, the current date included. */
  sustained: boolean;
}

function split(points: readonly MetricPoint[], date: string): { current?: MetricPoint; earlier: MetricPoint[] } {
  return { current: points.find((p) => p.date === date), earlier: points.filter((p) => p.date < date) };
}

export function completeness(points: readonly MetricPoint[], date: string): Completeness {
  const { current, earlier } = split(points, date);
  if (earlier.length === 0) return { ...(current ? { rows: current.rows } : {}), dates: 0 };
  const recentAverage = earlier.reduce((a, p) => a + p.rows, 0) / earlier.length;
  return {
    ...(current ? { rows: current.rows, ratio: recentAverage > 0 ? current.rows / recentAverage : undefined } : {}),
    recentAverage,
    dates: earlier.length,
  };
}

/** How far a value is from a history, in (population) standard deviations. */
export function zScore(history: readonly number[], value: number, sigmas: number): ZScore {
  const mean = history.reduce((a, b) => a + b, 0) / history.length;
  const stddev = Math.sqrt(history.reduce((a, b) => a + (b - mean) ** 2, 0) / history.length);
  if (stddev === 0) return { mean, stddev, anomalous: Math.abs(value - mean) > 1e-9 * Math.max(1, Math.abs(mean)) };
  const z = (value - mean) / stddev;
  return { mean, stddev, z, anomalous: Math.abs(z) > sigmas };
}

/**
 * Row count and feature means of `date` against the earlier points (at least `minHistory` of them).
 * Dates whose windows were filling are left out on both sides: their counts and means grow by design.
 * A value is anomalous when it is beyond `sigmas` standard deviations of its history and also moved by
 * `minChange` of the history's mean: a mean that barely varies from day to day (a share over 30 days)
 * would otherwise be "6 sigmas off" for a 4 % move.
 */
export function anomalies(points: readonly MetricPoint[], date: string, o: { sigmas: number; minHistory: number; minChange: number }): Anomaly[] {
  const { current, earlier: all } = split(points, date);
  const earlier = all.filter((p) => !p.filling);
  if (!current || current.filling || earlier.length < o.minHistory) return [];
  const out: Anomaly[] = [];
  const test = (metric: string, value: number, history: number[]) => {
    if (history.length < o.minHistory) return;
    const s = zScore(history, value, o.sigmas);
    if (s.anomalous && Math.abs(value - s.mean) >= o.minChange * Math.abs(s.mean)) out.push({ metric, value, sigmas: o.sigmas, ...s });
  };
  test(
    'rows',
    current.rows,
    earlier.map((p) => p.rows),
  );
  // Only the features the gate compared for drift that day (a like-for-like reference, enough values,
  // not switched off): a total that grows by design, or statistical_features' means of other
  // features' statistics, have no ordinary value to be far from.
  for (const [feature, mean] of Object.entries(current.means)) {
    if (!(feature in current.psi)) continue;
    test(
      `mean:${feature}`,
      mean,
      earlier.flatMap((p) => (p.means[feature] === undefined ? [] : [p.means[feature]!])),
    );
  }
  return out;
}

/** PSI per feature over the dates up to `date`. */
export function driftTrends(points: readonly MetricPoint[], date: string, o: { psiThreshold: number; sustainedDates: number }): DriftTrend[] {
  const upTo = points.filter((p) => p.date <= date);
  const features = [...new Set(upTo.flatMap((p) => Object.keys(p.psi)))];
  return features.map((feature) => {
    const withPsi = upTo.filter((p) => p.psi[feature] !== undefined);
    const psi = withPsi.map((p) => p.psi[feature]!);
    const last = withPsi.slice(-o.sustainedDates);
    const sustained = last.length === o.sustainedDates && last.at(-1)!.date === date && last.every((p) => p.psi[feature]! >= o.psiThreshold);
    return { feature, dates: withPsi.map((p) => p.date), psi, sustained };
  });
}
