// `npm run bench -- drift`: the drift study (bench/drift-study.ts) at full scale, at three seeds: 60
// daily runs of a stream with no change injected, and on day 50 a copy of each stream with a shift
// (watch time x3 for a fifth of users, a category's share doubled, a device gone). Prints the drift
// alerts of the no-change runs (the goal: none) and whether each shift alerted on its feature that day.
import { SHIFT_KINDS } from '../src/silver/shift.js';
import { runDriftStudy } from './drift-study.js';
import { report } from './util.js';

const SEEDS = [1, 2, 3];
const DAYS = Number(process.env.GOLD_BENCH_DRIFT_DAYS ?? 60);
const EVENTS_PER_DAY = Number(process.env.GOLD_BENCH_DRIFT_EVENTS ?? 100_000);
const SHIFT_DAY = 50;

const figures: Record<string, number | string> = { days: DAYS, 'events per day': EVENTS_PER_DAY, 'shift day': SHIFT_DAY };
let falseAlerts = 0;
let missed = 0;
for (const seed of SEEDS) {
  const r = await runDriftStudy({
    seed,
    days: DAYS,
    eventsPerDay: EVENTS_PER_DAY,
    shiftDay: SHIFT_DAY,
    shifts: SHIFT_KINDS,
    onDate: (d) => d.alerts.length && process.stderr.write(`seed ${seed} ${d.date}: ${d.alerts.join(' | ')}\n`),
  });
  const alerts = r.dates.reduce((a, d) => a + d.alerts.length, 0);
  falseAlerts += alerts;
  figures[`seed ${seed} no-change drift alerts`] = alerts;
  figures[`seed ${seed} no-change anomaly alerts`] = r.dates.reduce((a, d) => a + d.anomalies.length, 0);
  figures[`seed ${seed} dates not succeeded`] = r.dates.filter((d) => d.status !== 'succeeded').length;
  figures[`seed ${seed} dates with filling windows`] = r.dates.filter((d) => d.filling > 0).length;
  for (const s of r.shifts) {
    if (!s.detected) missed++;
    figures[`seed ${seed} ${s.kind}`] =
      `${s.detected ? `alerted on ${s.alerted.join(', ')}` : 'MISSED'} (${s.measured}; ${s.alerts.length} drift alerts in all)`;
  }
  figures[`seed ${seed} seconds`] = r.seconds;
}
figures['no-change drift alerts, all seeds'] = falseAlerts;
figures['shifts missed, all seeds'] = missed;
report('drift', figures);
if (falseAlerts > 0 || missed > 0) process.exitCode = 1;
