// Window coverage and like-for-like drift references. A feature's values depend on two windows: its
// own (the days it aggregates) and its family's (the days that decide which entities have a row: a
// 1-day count over users active in 30 days). Computed at date D, it is "filling" while silver does not
// cover every day of the longer one, [D - W + 1, D] (the data starts later, or a date inside is
// missing or empty): its distribution moves by design, so it is not compared for drift. A complete
// window is compared only with gold dates whose windows were complete too, chosen so that the calendar
// cannot look like drift:
//   - windows of whole weeks (7, 14, 28 days) hold every weekday equally: the 7 latest dates;
//   - any other window (1, 2, 30 days) holds some weekdays more than others depending on D's
//     weekday (a 30-day window has 8 or 9 weekend days): the same weekday, 1 to 4 weeks back;
//   - no declared window at all: the 7 latest dates (a whole week).

import type { DailyPartialName } from '../features/partials/definitions.js';
import type { FamilyDecl, FeatureDecl } from '../features/types.js';
import { type Lake, paths, readManifest } from '../lake/index.js';
import { addDays, assertDate } from '../shared/dates.js';

export type ReferenceKind = 'same_weekday' | 'last_week';

/** Weeks back a same-weekday reference looks; and the dates a whole-week reference takes. */
export const SAME_WEEKDAY_WEEKS = 4;
export const LAST_WEEK_DATES = 7;

/** How far back (days) a reference date may be: the oldest same-weekday one. */
export const REFERENCE_LOOKBACK_DAYS = 7 * SAME_WEEKDAY_WEEKS;

/** The windows behind a check: coverage is judged on the longest, the reference kind on all of them. */
export interface CheckWindow {
  /** Days that must all have silver (undefined: no declared window). */
  days?: number;
  kind: ReferenceKind;
}

/** The windows of a feature's checks (or, without a feature, of the family's row count). */
export function checkWindow(family: Pick<FamilyDecl, 'windowDays'>, feature?: Pick<FeatureDecl, 'windowDays'>): CheckWindow {
  const windows = [family.windowDays, feature?.windowDays].filter((w): w is number => w !== undefined);
  return { ...(windows.length ? { days: Math.max(...windows) } : {}), kind: windows.some((w) => w % 7 !== 0) ? 'same_weekday' : 'last_week' };
}

export const windowKey = (w: CheckWindow): string => `${w.days ?? '-'}:${w.kind}`;

/** The silver dates that have events, as far as a validation needs to know them. */
export interface SilverCalendar {
  /** Days of [date - days + 1, date] with silver events. */
  coverage(date: string, days: number): number;
}

/**
 * Which dates of [from, to] have accepted silver events, as the pipeline saw them: the row count of
 * each date's daily partial (`user_day`: every event has a user). A date without the partial has no
 * silver (or was never read); one with 0 rows was empty or entirely quarantined.
 */
export async function silverCalendar(lake: Lake, from: string, to: string): Promise<SilverCalendar> {
  assertDate(from);
  assertDate(to);
  const dates: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) dates.push(d);
  const manifests = await Promise.all(dates.map((d) => readManifest(lake, paths.partials(EVENTS_PARTIAL, d))));
  const present = new Set(dates.filter((_, i) => Number(manifests[i]?.meta.rows ?? 0) > 0));
  return calendarOf(present);
}

const EVENTS_PARTIAL: DailyPartialName = 'user_day';

/** A calendar from a set of dates with events (for tests and callers that know them). */
export function calendarOf(present: ReadonlySet<string>): SilverCalendar {
  return {
    coverage(date, days) {
      let n = 0;
      for (let i = 0; i < days; i++) if (present.has(addDays(date, -i))) n++;
      return n;
    },
  };
}

export interface ReferenceChoice {
  kind: ReferenceKind;
  /** The dates compared with, newest first (empty: no like-for-like reference yet). */
  dates: string[];
}

/**
 * The reference dates of a check at `date`, among the family's committed gold dates before it (newest
 * first): only dates whose window was complete.
 */
export function chooseReference(date: string, window: CheckWindow, committed: readonly string[], calendar: SilverCalendar): ReferenceChoice {
  const { kind, days } = window;
  const complete = (d: string) => days === undefined || calendar.coverage(d, days) === days;
  const oldest = addDays(date, -REFERENCE_LOOKBACK_DAYS);
  const candidates = committed.filter((d) => d < date && d >= oldest && complete(d));
  if (kind === 'same_weekday') {
    const weekdays = new Set(Array.from({ length: SAME_WEEKDAY_WEEKS }, (_, k) => addDays(date, -7 * (k + 1))));
    return { kind, dates: candidates.filter((d) => weekdays.has(d)) };
  }
  return { kind, dates: candidates.slice(0, LAST_WEEK_DATES) };
}
