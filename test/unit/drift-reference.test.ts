// Window coverage and like-for-like references: which windows are filling and which gold dates a
// check compares with, on calendars with late starts and gaps.
import { describe, expect, it } from 'vitest';
import { calendarOf, checkWindow, chooseReference } from '../../src/quality/coverage.js';
import { addDays, dateRange } from '../../src/shared/dates.js';

const START = '2026-01-05'; // a Monday
const day = (i: number) => addDays(START, i - 1);
const silver = (days: number, gaps: number[] = []) => calendarOf(new Set(dateRange(START, day(days)).filter((_, i) => !gaps.includes(i + 1))));
const committedBefore = (n: number) => Array.from({ length: n - 1 }, (_, i) => day(n - 1 - i));

describe('window coverage', () => {
  it('counts the days of the window that have silver: late starts and gaps leave it filling', () => {
    const cal = silver(60, [45]);
    expect(cal.coverage(day(12), 30)).toBe(12);
    expect(cal.coverage(day(30), 30)).toBe(30);
    expect(cal.coverage(day(44), 30)).toBe(30);
    expect(cal.coverage(day(45), 30)).toBe(29);
    expect(cal.coverage(day(74), 30)).toBe(29 - 14);
    expect(cal.coverage(day(1), 1)).toBe(1);
    expect(cal.coverage(day(45), 1)).toBe(0);
  });

  it("judges a feature on the longer of its own and its family's windows, and on the weekday when either is not whole weeks", () => {
    expect(checkWindow({ windowDays: 30 }, { windowDays: 1 })).toEqual({ days: 30, kind: 'same_weekday' });
    expect(checkWindow({ windowDays: 30 }, {})).toEqual({ days: 30, kind: 'same_weekday' });
    expect(checkWindow({ windowDays: 7 }, { windowDays: 14 })).toEqual({ days: 14, kind: 'last_week' });
    expect(checkWindow({ windowDays: 7 }, { windowDays: 1 })).toEqual({ days: 7, kind: 'same_weekday' });
    expect(checkWindow({}, {})).toEqual({ kind: 'last_week' });
    expect(checkWindow({}, { windowDays: 2 })).toEqual({ days: 2, kind: 'same_weekday' });
  });
});

describe('reference dates', () => {
  it('same weekday, 1 to 4 weeks back, only where the window was complete', () => {
    const cal = silver(70);
    const w = { days: 30, kind: 'same_weekday' } as const;
    expect(chooseReference(day(36), w, committedBefore(36), cal).dates).toEqual([]);
    expect(chooseReference(day(37), w, committedBefore(37), cal).dates).toEqual([day(30)]);
    expect(chooseReference(day(60), w, committedBefore(60), cal).dates).toEqual([day(53), day(46), day(39), day(32)]);
    // A date that did not commit (it failed) is not a reference; the others still are.
    expect(
      chooseReference(
        day(60),
        w,
        committedBefore(60).filter((d) => d !== day(46)),
        cal,
      ).dates,
    ).toEqual([day(53), day(39), day(32)]);
  });

  it('a gap in silver keeps the dates whose window holds it out of the reference', () => {
    const cal = silver(80, [40]);
    const w = { days: 30, kind: 'same_weekday' } as const;
    // Day 61's window [32, 61] holds day 40: it is filling; day 75 compares with day 68 ([39, 68] holds 40: no), 75 - 14 = 61 (no) ...
    expect(cal.coverage(day(61), 30)).toBe(29);
    expect(chooseReference(day(75), w, committedBefore(75), cal).dates).toEqual([]);
    expect(chooseReference(day(77), w, committedBefore(77), cal).dates).toEqual([day(70)]);
  });

  it('whole weeks: the 7 latest complete dates, within 4 weeks', () => {
    const cal = silver(40);
    const w = { days: 7, kind: 'last_week' } as const;
    expect(chooseReference(day(8), w, committedBefore(8), cal).dates).toEqual([day(7)]);
    expect(chooseReference(day(20), w, committedBefore(20), cal).dates).toEqual(Array.from({ length: 7 }, (_, i) => day(19 - i)));
    expect(chooseReference(day(40), { kind: 'last_week' }, [day(5), day(3)], cal).dates).toEqual([]);
    expect(chooseReference(day(20), { kind: 'last_week' }, [day(5), day(3)], cal).dates).toEqual([day(5), day(3)]);
  });
});
