// The drift study at small scale, 20,000 events a day (bench/drift-study.ts; `npm run bench -- drift`
// runs it at full scale and three seeds): 60 daily runs of a synthetic stream with no change injected raise no drift alert
// and all land, and on day 50 each injected shift alerts on the feature it moves, that day.
import { describe, expect, it } from 'vitest';
import { runDriftStudy } from '../../bench/drift-study.js';
import { SHIFT_KINDS } from '../../src/silver/shift.js';

describe('drift study', () => {
  it('60 healthy days raise no drift alert; a watch-time, category or device shift alerts on its day', { timeout: 900_000 }, async () => {
    const r = await runDriftStudy({ seed: 7, days: 60, eventsPerDay: 20_000, shiftDay: 50, shifts: SHIFT_KINDS });
    expect(r.dates).toHaveLength(60);
    expect(r.dates.filter((d) => d.status !== 'succeeded')).toEqual([]);
    expect(r.dates.flatMap((d) => d.alerts.map((a) => `${d.date} ${a}`))).toEqual([]);
    // The first 30 days fill the 30-day windows; from then on every family has them complete.
    expect(r.dates.slice(0, 29).every((d) => d.filling > 0)).toBe(true);
    expect(r.dates.slice(30).every((d) => d.filling === 0)).toBe(true);
    expect(r.shifts.map((s) => s.kind)).toEqual([...SHIFT_KINDS]);
    for (const s of r.shifts) expect(s, `${s.kind}: ${s.measured}`).toMatchObject({ detected: true });
  });
});
