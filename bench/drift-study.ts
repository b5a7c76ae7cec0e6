// The drift study: does the gate stay quiet on healthy data and speak up on a real change? A synthetic
// stream (the generator's slow audience drift and weekly rhythm included, no change injected) runs
// through the daily pipeline date after date, in process, counting the drift alerts monitoring raises.
// On one day, copies of the lake get a shift injected (src/silver/shift.ts) and run that day: each must
// alert on the feature the shift moves. Used by `npm run bench -- drift` (full scale) and by
// test/integration/drift-study.test.ts (small scale).
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../src/config/settings.js';
import { monitorDate } from '../src/monitoring/monitor.js';
import { latestValidationReports } from '../src/monitoring/run-records.js';
import { describeFilling } from '../src/quality/report.js';
import { addDays, dateRange } from '../src/shared/dates.js';
import { generateSilver } from '../src/silver/generator.js';
import { injectShift, type ShiftKind } from '../src/silver/shift.js';
import { createStepContext, type StepContext } from '../src/steps/context.js';
import { createSteps, IN_PROCESS } from '../src/steps/index.js';
import { runDailyLocal } from '../src/steps/local-runner.js';

/** The families the study runs: every family whose features drift is measured on (embeddings are vectors). */
export const STUDY_FAMILIES = ['user_features', 'item_features', 'session_features', 'temporal_features', 'statistical_features'];

/**
 * The features a shift moves on the day it happens: one of them must raise a drift alert. Watch time
 * is in two: per session (every session is active), and per user over the day (most users of the
 * 30-day population watch nothing that day, which dilutes the shift: it alerts from about 2,500 users).
 */
export const SHIFTED_FEATURES: Record<ShiftKind, readonly string[]> = {
  watch_time: ['user_features.watch_time_1d', 'session_features.watch_time'],
  category_share: ['user_features.top_category_1d'],
  device_gone: ['session_features.device_type'],
};

export interface DriftStudyOptions {
  seed: number;
  days: number;
  eventsPerDay: number;
  /** 1-based day of the stream the shifts are injected on (each into its own copy of the lake). */
  shiftDay: number;
  shifts: readonly ShiftKind[];
  from?: string;
  onDate?: (d: StudyDate) => void;
}

export interface StudyDate {
  date: string;
  status: string;
  /** Drift alerts of the date, as "family.feature: message". */
  alerts: string[];
  /** Anomaly alerts of the date (a row count or feature mean far from its recent history), the same way. */
  anomalies: string[];
  /** Families with a window still filling on the date. */
  filling: number;
}

export interface StudyShift {
  kind: ShiftKind;
  date: string;
  /** The shifted features that alerted. */
  alerted: string[];
  alerts: string[];
  detected: boolean;
  /** The shifted features' drift figures on the day (PSI, KS or JS, mean change). */
  measured: string;
}

export interface DriftStudyResult {
  seed: number;
  dates: StudyDate[];
  shifts: StudyShift[];
  seconds: number;
}

function contextAt(dir: string): StepContext {
  return createStepContext(loadSettings({ lake: join(dir, 'lake'), home: join(dir, 'home'), onlineStore: 'embedded', duckdbThreads: 2 }));
}

async function runDate(ctx: StepContext, date: string): Promise<StudyDate> {
  const report = await runDailyLocal(createSteps(ctx, IN_PROCESS), { date, families: STUDY_FAMILIES, runKind: 'daily' });
  const monitoring = await monitorDate(ctx.lake, date, STUDY_FAMILIES);
  const described = (kind: string) =>
    monitoring.alerts.filter((a) => a.kind === kind).map((a) => `${a.family}${a.feature ? `.${a.feature}` : ''}: ${a.message}`);
  const alerts = described('drift');
  const anomalies = described('anomaly');
  const filling = [...(await latestValidationReports(ctx.lake, date)).values()].filter((r) => describeFilling(r) !== undefined).length;
  return { date, status: report.status, alerts, anomalies, filling };
}

export async function runDriftStudy(o: DriftStudyOptions): Promise<DriftStudyResult> {
  const t0 = Date.now();
  const root = mkdtempSync(join(tmpdir(), 'gold-drift-study-'));
  const from = o.from ?? '2026-01-05';
  const to = addDays(from, o.days - 1);
  const shiftDate = addDays(from, o.shiftDay - 1);
  const main = join(root, 'main');
  const ctx = contextAt(main);
  const dates: StudyDate[] = [];
  const shifts: StudyShift[] = [];
  try {
    await generateSilver(ctx.lake, ctx.engine, {
      from,
      to,
      users: Math.max(500, Math.round(o.eventsPerDay / 40)),
      videos: 2000,
      eventsPerDay: o.eventsPerDay,
      seed: o.seed,
    });
    for (const date of dateRange(from, to)) {
      if (date === shiftDate) {
        for (const kind of o.shifts) {
          const branch = join(root, `shift-${kind}`);
          cpSync(join(main, 'lake'), join(branch, 'lake'), { recursive: true });
          const b = contextAt(branch);
          try {
            await injectShift(b.lake, b.engine, date, kind);
            const r = await runDate(b, date);
            const reports = await latestValidationReports(b.lake, date);
            const measured = SHIFTED_FEATURES[kind].map((name) => {
              const [fam, feat] = name.split('.') as [string, string];
              const m = reports.get(fam)?.features.find((x) => x.name === feat);
              const figures = m
                ? Object.entries({ psi: m.psi, ks: m.ks, js: m.js, 'mean change': m.meanChange })
                    .filter(([, v]) => v !== undefined)
                    .map(([k, v]) => `${k} ${v!.toPrecision(3)}`)
                : [];
              return `${name}: ${figures.join(', ') || 'not measured'}`;
            });
            const alerted = SHIFTED_FEATURES[kind].filter((name) => r.alerts.some((a) => a.startsWith(`${name}:`)));
            shifts.push({ kind, date, alerted, alerts: r.alerts, detected: alerted.length > 0, measured: measured.join('; ') });
          } finally {
            await b.close();
            rmSync(branch, { recursive: true, force: true });
          }
        }
      }
      const d = await runDate(ctx, date);
      dates.push(d);
      o.onDate?.(d);
    }
  } finally {
    await ctx.close();
    rmSync(root, { recursive: true, force: true });
  }
  return { seed: o.seed, dates, shifts, seconds: (Date.now() - t0) / 1000 };
}
