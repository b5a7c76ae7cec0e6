// The silver dates in the lake, and whether the silver a date needs is there: every date from the first silver date to D, each with its
// completion marker.

import { type Lake, partitionValue, paths } from '../lake/index.js';
import { addDays } from '../shared/dates.js';

/** Dates that have a silver folder, ascending. */
export async function silverDates(lake: Lake): Promise<string[]> {
  return (await lake.listDirs(paths.silverEvents))
    .map((d) => partitionValue(d, 'event_date'))
    .filter((d): d is string => d !== undefined)
    .sort();
}

export interface SilverStatus {
  ready: boolean;
  missing: { date: string; reason: 'missing' | 'incomplete' }[];
}

export async function silverStatus(lake: Lake, date: string): Promise<SilverStatus> {
  const dates = (await silverDates(lake)).filter((d) => d <= date);
  const missing: SilverStatus['missing'] = [];
  const first = dates[0] ?? date;
  const present = new Set(dates);
  for (let d = first; d <= date; d = addDays(d, 1)) {
    if (!present.has(d)) missing.push({ date: d, reason: 'missing' });
    else if (!(await lake.exists(`${paths.silverDate(d)}/_SUCCESS`))) missing.push({ date: d, reason: 'incomplete' });
  }
  return { ready: missing.length === 0, missing };
}
