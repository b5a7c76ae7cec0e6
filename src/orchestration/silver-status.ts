// Whether the silver a date needs is there: every date from the first silver date to D, each with its
// completion marker.
import { addDays } from '../shared/dates.js';
import { paths, type Lake } from '../lake/index.js';
import { silverDates } from '../features/partials/build.js';

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
