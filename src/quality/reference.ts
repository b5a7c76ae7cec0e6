// The gold a partition can be compared with for drift: the same family's committed dates before the
// feature date (which of them a check uses: coverage.ts).
import { committedFiles, type Lake, partitionValue, paths } from '../lake/index.js';
import { assertDate } from '../shared/dates.js';

export interface ReferenceData {
  /** Local Parquet paths (downloaded to the cache on S3). */
  files: string[];
  /** Feature dates used, newest first. */
  dates: string[];
}

/** Dates of a family's gold partitions (committed or not) before `before` (exclusive), newest first. */
async function goldDatesDescending(lake: Lake, family: string, before?: string): Promise<string[]> {
  return (await lake.listDirs(paths.goldFamily(family)))
    .map((d) => partitionValue(d, 'feature_date'))
    .filter((d): d is string => d !== undefined && (before === undefined || d < before))
    .sort()
    .reverse();
}

/** The latest committed gold date of a family, if any (optionally before a date). */
export async function latestGoldDate(lake: Lake, family: string, before?: string): Promise<string | undefined> {
  for (const d of await goldDatesDescending(lake, family, before)) if (await committedFiles(lake, paths.gold(family, d))) return d;
  return undefined;
}

/** The committed gold dates of a family in [since, before), newest first, with their lake keys. */
export async function committedGoldDates(lake: Lake, family: string, before: string, since?: string): Promise<Map<string, string[]>> {
  assertDate(before);
  const candidates = (await goldDatesDescending(lake, family, before)).filter((d) => since === undefined || d >= since);
  const keys = await Promise.all(candidates.map((d) => committedFiles(lake, paths.gold(family, d))));
  return new Map(candidates.flatMap((d, i) => (keys[i] ? [[d, keys[i]] as const] : [])));
}
