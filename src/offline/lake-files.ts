// Local paths of lake objects for DuckDB: the files themselves on a local lake, cached downloads on S3.
import type { Lake } from '../lake/index.js';

const PARALLEL_DOWNLOADS = 8;

/** Local paths of `keys`, in the same order, fetching at most a few at a time. */
export async function localFiles(lake: Lake, keys: readonly string[]): Promise<string[]> {
  const out = new Array<string>(keys.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const i = next++;
      out[i] = await lake.localFile(keys[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_DOWNLOADS, keys.length) }, worker));
  return out;
}
