// The reference a partition is compared with for drift: the same family over its latest committed gold
// dates before the feature date.
import { committedFiles, partitionValue, paths, type Lake } from '../lake/index.js';
import { assertDate } from '../features/time.js';

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

/** The `days` latest committed gold dates of the family before `date`, with their files. */
export async function referenceFiles(lake: Lake, family: string, date: string, days = 7): Promise<ReferenceData> {
  assertDate(date);
  if (!Number.isInteger(days) || days < 0) throw new Error(`invalid reference window ${days}: expected a whole number of days >= 0`);
  const dates: string[] = [];
  const files: string[] = [];
  for (const d of await goldDatesDescending(lake, family, date)) {
    if (dates.length >= days) break;
    const keys = await committedFiles(lake, paths.gold(family, d));
    if (!keys) continue; // an uncommitted (crashed) write is not a reference
    dates.push(d);
    files.push(...(await Promise.all(keys.map((k) => lake.localFile(k)))));
  }
  return { files, dates };
}
