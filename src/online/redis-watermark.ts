// The watermark of a view version in Redis (see redis-store.ts): its states, and how a lost one is rebuilt.
//
// A final mark (26 header digits) promises that no stored row of the view is newer; writes at or above
// it skip the per-row compare. A mark can go missing while rows remain (rows written before marks
// existed, a mark deleted by hand or during deleteView). A mark that a write merely recreated would not
// know those rows, so a write that finds none compares every row and leaves a provisional mark,
// `?<header><token>`: the greatest header written since it appeared, with the token of the write
// that created it. The rebuild below then scans the view's keys for their greatest header and turns
// the provisional mark final at the greater of the two. Rows that existed throughout the scan are
// counted by it (SCAN returns every key present from its start to its end); rows written meanwhile
// raised the provisional mark; if the mark was replaced meanwhile (another token), nothing is
// promised and a later write starts over. Until then, every write compares every row.
import type { Redis } from 'ioredis';

/** A header below every real one: the value of a provisional mark created by a write that wrote nothing. */
export const LOWEST_HEADER = '0'.repeat(26);

/** Whether a mark (as GET returns it) is final: a provisional one only bounds the writes since it appeared. */
export function isFinalMark(mark: string): boolean {
  return !mark.startsWith('?');
}

/** KEYS[1]: the mark; ARGV[1]: the greatest header the scan found; ARGV[2]: the provisional mark's token. */
const FINALIZE_SCRIPT = `
local mark = redis.call('GET', KEYS[1])
if not mark or string.sub(mark, 1, 1) ~= '?' or string.sub(mark, 28) ~= ARGV[2] then return 0 end
local top = string.sub(mark, 2, 27)
if ARGV[1] > top then top = ARGV[1] end
redis.call('SET', KEYS[1], top)
return 1
`;

/**
 * Makes a provisional mark final from the greatest header among the keys matching `keyPattern` (the
 * view's entity keys). Returns whether the mark is final afterwards. Costs one SCAN of the database
 * and one GETRANGE per key of the view; it runs once per lost mark.
 */
export async function rebuildWatermark(redis: Redis, markKey: string, keyPattern: string): Promise<boolean> {
  const mark = await redis.get(markKey);
  // Missing: the next write that finds it so leaves a provisional mark and rebuilds again.
  if (mark === null || isFinalMark(mark)) return mark !== null;
  // One scan at a time across processes: the others' writes keep comparing every row meanwhile.
  const lock = `${markKey}#rebuild`;
  const owner = `${process.pid}.${mark.slice(27)}`;
  if ((await redis.set(lock, owner, 'PX', REBUILD_LOCK_MS, 'NX')) !== 'OK') return false;
  try {
    return await scanAndFinalize(redis, markKey, keyPattern, mark);
  } finally {
    await redis.eval(RELEASE_SCRIPT, 1, lock, owner);
  }
}

/** Long enough for a scan of a large database; a crashed rebuild's lock lapses after it. */
const REBUILD_LOCK_MS = 10 * 60_000;

const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

async function scanAndFinalize(redis: Redis, markKey: string, keyPattern: string, mark: string): Promise<boolean> {
  let top = LOWEST_HEADER;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', keyPattern, 'COUNT', 1000, 'TYPE', 'string');
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const k of keys) pipeline.getrange(k, 1, 26);
    for (const [err, header] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      // '' for a key that expired since the SCAN.
      if (typeof header === 'string' && header.length === 26 && header > top) top = header;
    }
  } while (cursor !== '0');
  return (await redis.eval(FINALIZE_SCRIPT, 1, markKey, top, mark.slice(27))) === 1;
}
