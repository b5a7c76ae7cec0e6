import { describe, expect, it } from 'vitest';
import { daysBetween, onlineValueAge } from '../../src/monitoring/freshness.js';
import type { MetricPoint } from '../../src/monitoring/history.js';
import { anomalies, completeness, driftTrends, zScore } from '../../src/monitoring/trends.js';

const point = (date: string, rows: number, mean: number, psi = 0.01): MetricPoint => ({
  date,
  rows,
  score: 0.95,
  passed: true,
  means: { amount: mean },
  psi: { amount: psi },
  filling: false,
  drift: [],
});
const day = (i: number) => `2024-03-${String(i).padStart(2, '0')}`;
/** 14 ordinary days: rows 1000 +- 20, mean 100 +- 1. */
const history = Array.from({ length: 14 }, (_, i) => point(day(i + 1), 1000 + ((i % 3) - 1) * 20, 100 + ((i % 2) * 2 - 1)));

describe('monitoring trends', () => {
  it('z-score: population standard deviation, constant histories handled', () => {
    expect(zScore([1, 3], 5, 3)).toEqual({ mean: 2, stddev: 1, z: 3, anomalous: false });
    expect(zScore([1, 3], 5.5, 3).anomalous).toBe(true);
    expect(zScore([4, 4, 4], 4, 3)).toEqual({ mean: 4, stddev: 0, anomalous: false });
    expect(zScore([4, 4, 4], 4.5, 3)).toEqual({ mean: 4, stddev: 0, anomalous: true });
  });

  it('flags a row count and a feature mean beyond 3 standard deviations, not ordinary values', () => {
    expect(anomalies([...history, point(day(15), 1010, 100.5)], day(15), { sigmas: 3, minHistory: 5, minChange: 0.1 })).toEqual([]);
    const found = anomalies([...history, point(day(15), 700, 110)], day(15), { sigmas: 3, minHistory: 5, minChange: 0.1 });
    expect(found.map((a) => a.metric)).toEqual(['rows', 'mean:amount']);
    expect(found[0]!.z!).toBeLessThan(-3);
    expect(found[1]!.z!).toBeGreaterThan(3);
  });

  it('needs a material change too: far in standard deviations of a steady history, but by less than minChange, is ordinary', () => {
    // A history within +-1 of 100: 104 is 4 standard deviations off, yet a 4 % move.
    expect(anomalies([...history, point(day(15), 1000, 104)], day(15), { sigmas: 3, minHistory: 5, minChange: 0.1 })).toEqual([]);
    expect(anomalies([...history, point(day(15), 1000, 104)], day(15), { sigmas: 3, minHistory: 5, minChange: 0.01 }).map((a) => a.metric)).toEqual([
      'mean:amount',
    ]);
  });

  it('judges a mean only where the gate compared the feature for drift that day', () => {
    const notCompared = { ...point(day(15), 1000, 110), psi: {} };
    expect(anomalies([...history, notCompared], day(15), { sigmas: 3, minHistory: 5, minChange: 0.1 })).toEqual([]);
  });

  it('leaves out dates whose windows were filling, on both sides', () => {
    const filling = (p: MetricPoint): MetricPoint => ({ ...p, filling: true });
    // The date itself filling: not judged, whatever its values.
    expect(anomalies([...history, filling(point(day(15), 10, 999))], day(15), { sigmas: 3, minHistory: 5, minChange: 0.1 })).toEqual([]);
    // Growing counts of the filling days are not the history: judged against the 5 complete days only.
    const growing = history.map((p, i) => (i < 9 ? filling({ ...p, rows: 100 * (i + 1) }) : p));
    expect(anomalies([...growing, point(day(15), 1000, 100)], day(15), { sigmas: 3, minHistory: 5, minChange: 0.1 })).toEqual([]);
    expect(anomalies([...growing.slice(0, 12), point(day(15), 1000, 100)], day(15), { sigmas: 3, minHistory: 5, minChange: 0.1 })).toEqual([]);
  });

  it('needs enough history before judging', () => {
    expect(anomalies([...history.slice(0, 4), point(day(15), 10, 999)], day(15), { sigmas: 3, minHistory: 5, minChange: 0.1 })).toEqual([]);
    expect(anomalies(history, day(15), { sigmas: 3, minHistory: 5, minChange: 0.1 })).toEqual([]); // no point for the date
  });

  it('completeness: rows against the mean of the earlier dates', () => {
    const c = completeness([...history, point(day(15), 500, 100)], day(15));
    expect(c.dates).toBe(14);
    expect(c.recentAverage).toBeCloseTo(1000 - 20 / 14, 6);
    expect(c.ratio).toBeCloseTo(500 / c.recentAverage!, 9);
    expect(completeness([point(day(1), 5, 1)], day(1))).toEqual({ rows: 5, dates: 0 });
  });

  it('drift is sustained when PSI stays above the threshold on the last dates up to the date', () => {
    const points = [...history.slice(0, 11), point(day(12), 1000, 100, 0.15), point(day(13), 1000, 100, 0.2), point(day(14), 1000, 100, 0.12)];
    expect(driftTrends(points, day(14), { psiThreshold: 0.1, sustainedDates: 3 })[0]).toMatchObject({ feature: 'amount', sustained: true });
    expect(driftTrends(points, day(14), { psiThreshold: 0.1, sustainedDates: 4 })[0]!.sustained).toBe(false);
    expect(driftTrends(points, day(13), { psiThreshold: 0.1, sustainedDates: 3 })[0]!.sustained).toBe(false);
    expect(driftTrends(points, day(14), { psiThreshold: 0.1, sustainedDates: 3 })[0]!.psi).toHaveLength(14);
  });
});

describe('freshness', () => {
  it('online value age against the TTL', () => {
    const now = new Date('2024-03-03T12:00:00Z');
    expect(onlineValueAge('2024-03-02T00:00:00Z', 2 * 86400, now)).toEqual({ ageSeconds: 36 * 3600, ttlSeconds: 172800, withinTtl: true });
    expect(onlineValueAge(new Date('2024-03-01T00:00:00Z'), 2 * 86400, now).withinTtl).toBe(false);
    expect(() => onlineValueAge('yesterday', 1, now)).toThrow(/invalid feature timestamp/);
  });

  it('days between dates', () => {
    expect(daysBetween('2024-02-27', '2024-03-01')).toBe(3);
    expect(daysBetween('2024-03-01', '2024-02-27')).toBe(-3);
  });
});

describe('metric points of validation reports', () => {
  it('keep only the PSI the gate scored: not one measured with the check off or on too few rows', async () => {
    const { metricPoint } = await import('../../src/monitoring/history.js');
    const report = {
      date: '2026-01-01',
      rows: 100,
      score: 0.9,
      passed: true,
      features: [
        { name: 'scored', psi: 0.5, mean: 1, components: { drift: 0.2 } },
        { name: 'switched_off', psi: 0.9, mean: 2, components: {} },
      ],
      reference: { kind: 'same_weekday', dates: [], rows: 0, window: { days: 12, of: 30 } },
      failed: [{ check: 'range', feature: 'scored', severity: 'error', message: 'out of range' }],
      warned: [
        { check: 'psi', feature: 'scored', severity: 'warn', value: 0.5, threshold: 0.1, message: 'drifted' },
        { check: 'outliers', feature: 'scored', severity: 'warn', value: 0.2, threshold: 0.1, message: 'outliers' },
      ],
    } as unknown as Parameters<typeof metricPoint>[0];
    expect(metricPoint(report)).toMatchObject({ psi: { scored: 0.5 }, means: { scored: 1, switched_off: 2 } });
    // Only drift checks are drift: a failed range or an outlier warning is not.
    expect(metricPoint(report).filling).toBe(true);
    expect(metricPoint(report).drift).toEqual([{ check: 'psi', feature: 'scored', severity: 'warn', value: 0.5, threshold: 0.1, message: 'drifted' }]);
  });
});
