// Local paths of lake objects for DuckDB: the files themselves on a local lake, cached downloads on S3.
import type { Lake } from '../lake/index.js';
import { mapLimit } from '../shared/map-limit.js';

const PARALLEL_DOWNLOADS = 8;

/** Local paths of `keys`, in the same order, fetching at most a few at a time. */
export function localFiles(lake: Lake, keys: readonly string[]): Promise<string[]> {
  return mapLimit(keys, PARALLEL_DOWNLOADS, (k) => lake.localFile(k));
}
