// The Redis online store (standalone Redis; password and TLS from a rediss:// URL and options).
//
// Key layout: `<prefix><view>:v<version>:<entityKey>` (prefix default 'gold:') -> one string holding
// the record (record.ts): the entity's whole view in one value, so that
//  - a read of any set of entities and views is one MGET (one round trip, O(1) per key);
//  - a write replaces the whole row in one SET: a reader never sees half of it;
//  - each key carries its own expiry (PXAT feature_timestamp + TTL), which hash fields cannot in Redis 7.0,
//    so stale rows leave Redis by themselves;
//  - the version in the key means a new schema never reads bytes written under an old one.
// Writes go through a Lua script that compares timestamps and writes in one atomic step per call.
//
// Each view version also has a watermark key, `<prefix><view>:v<version>#watermark`: the greatest record
// header (feature_timestamp, created_timestamp) ever written to the view. Every stored row is at most
// as new as it, so a call whose rows all share one header at or above the watermark (materializing the
// newest date, or restating it) cannot overwrite anything newer and skips the per-row comparison: one
// SET per row, sent in bulk for large writes (redis-bulk.ts) and from the script for small ones. A
// call below the watermark (an older date), with mixed headers, or finding no watermark compares every
// row; a missing watermark is then rebuilt from the view's keys (redis-watermark.ts), since rows may
// remain that are newer than anything the write saw.
// The check and the writes are atomic (one script, or one WATCHed transaction), so concurrent writers
// stay correct. The fast path also needs Redis never to evict the watermark: with an allkeys-*
// maxmemory-policy, or when CONFIG GET is refused (some managed services), every call compares every
// row. The policy is asked again every minute, as it can be changed at run time.
//
// Every command on the main connection fails after commandTimeoutMs without an answer (reads, PING and
// script writes alike: each script call is bounded by keysPerScriptCall and each pipeline by
// MAX_CALLS_PER_PIPELINE, so a healthy Redis answers well within it); bulk connections fail after
// their own, longer, idle timeout.
import { createHash, randomBytes } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import { Redis, ReplyError } from 'ioredis';
import { logger } from '../shared/logger.js';
import { redactUrl } from '../shared/redact.js';
import { DEFAULT_BULK_IDLE_TIMEOUT_MS, RedisBulkConnection, writeBulkChunk } from './redis-bulk.js';
import { isFinalMark, LOWEST_HEADER, rebuildWatermark } from './redis-watermark.js';
import { checkedView, encodeRows, resolveReads } from './rows.js';
import type { EncodedRow, OnlineReadRequest, OnlineReadResult, OnlineStore, OnlineStoreStats, OnlineWriteRow, WriteResult } from './store.js';
import { type OnlineViewSpec, ttlMs } from './view.js';

/**
 * KEYS[1]: the view's watermark; KEYS[1 + i]: the entities' keys. ARGV[1]: the view's TTL in ms;
 * ARGV[2]: now (epoch ms); ARGV[3]: '1' when the watermark may be trusted; ARGV[4]: the header (26
 * digits) shared by every record of the call, or ''; ARGV[5]: a token for a provisional watermark this
 * call may create (redis-watermark.ts); ARGV[5 + i]: the record for KEYS[1 + i]. A row is skipped when
 * already past its TTL, or when the stored row is newer; otherwise SET with PXAT = feature_timestamp +
 * TTL. Headers are fixed-width digits, so comparing them as strings compares (feature_timestamp,
 * created_timestamp). Only a final watermark allows the fast path; a missing one becomes provisional.
 * Returns {written, skipped older, skipped expired, 1 when the watermark is final}.
 */
const WRITE_SCRIPT = `
local ttl, now, trusted, shared = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1', ARGV[4]
local n = #KEYS - 1
local mark = redis.call('GET', KEYS[1])
local provisional = mark and string.sub(mark, 1, 1) == '?'
if shared ~= '' and trusted and mark and not provisional and mark <= shared then
  local ts = tonumber(string.sub(shared, 1, 13))
  if ts + ttl < now then return {0, 0, n, 1} end
  local px = string.format('%d', ts + ttl)
  for i = 1, n do redis.call('SET', KEYS[i + 1], ARGV[i + 5], 'PXAT', px) end
  if mark ~= shared then redis.call('SET', KEYS[1], shared) end
  return {n, 0, 0, 1}
end
local stored = redis.call('MGET', unpack(KEYS, 2))
local latest = {}
local was = '${LOWEST_HEADER}'
if provisional then was = string.sub(mark, 2, 27) elseif mark then was = mark end
local top = was
local written, older, expired = 0, 0, 0
local last, px, dead
for i = 1, n do
  local rec = ARGV[i + 5]
  local hdr = string.sub(rec, 2, 27)
  if hdr ~= last then
    last = hdr
    local ts = tonumber(string.sub(hdr, 1, 13))
    dead = ts + ttl < now
    px = string.format('%d', ts + ttl)
  end
  if dead then
    expired = expired + 1
  else
    local key = KEYS[i + 1]
    local old = latest[key] or stored[i]
    if not old or string.sub(old, 2, 27) <= hdr then
      redis.call('SET', key, rec, 'PXAT', px)
      latest[key] = rec
      written = written + 1
      if hdr > top then top = hdr end
    else
      older = older + 1
    end
  end
end
if not mark then
  redis.call('SET', KEYS[1], '?' .. top .. ARGV[5])
  return {written, older, expired, 0}
end
if top > was then redis.call('SET', KEYS[1], provisional and ('?' .. top .. string.sub(mark, 28)) or top) end
return {written, older, expired, provisional and 0 or 1}
`;
const WRITE_SCRIPT_SHA = createHash('sha1').update(WRITE_SCRIPT).digest('hex');

export interface RedisStoreOptions {
  /** Prepended to every key (default 'gold:'); tests and benchmarks use their own. */
  keyPrefix?: string;
  /** TLS options (CA, client certificate) for rediss:// URLs; rediss:// alone uses the system CAs. */
  tls?: ConnectionOptions;
  /** Keys per script call (default 500): bounds how long one call holds Redis, so reads interleave. */
  keysPerScriptCall?: number;
  /** Writes of at least this many rows sharing one header go in bulk (redis-bulk.ts; default 256). */
  bulkMinRows?: number;
  /**
   * A command on the main connection (reads, PING, script writes) unanswered this long fails (default
   * 5 s), and the connection is reset: a Redis that accepts connections but never answers fails
   * requests instead of hanging them.
   */
  commandTimeoutMs?: number;
  /** A bulk write connection silent this long fails (default 60 s; see redis-bulk.ts). */
  bulkIdleTimeoutMs?: number;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
/** Script calls per pipeline: each pipeline is answered well within the command timeout. */
const MAX_CALLS_PER_PIPELINE = 64;
/** How long an answer about the eviction policy holds: it can be changed with CONFIG SET at any time. */
const POLICY_RECHECK_MS = 60_000;

export class RedisOnlineStore implements OnlineStore {
  readonly kind = 'redis' as const;
  readonly location: string;
  readonly redis: Redis;
  readonly keyPrefix: string;
  private readonly keysPerCall: number;
  private readonly bulkMinRows: number;
  private readonly commandTimeoutMs: number;
  private readonly bulkIdleTimeoutMs: number;
  private policy?: { askedAt: number; trusted: Promise<boolean> };
  /** The last answer about the policy, so that only a change is logged. */
  private policyTrusted?: boolean;
  /** Watermark rebuilds running, by watermark key: concurrent writes share one. */
  private readonly rebuilds = new Map<string, Promise<void>>();
  /** Bulk connections not in use (one per write in flight, kept for the next). */
  private readonly bulkIdle: RedisBulkConnection[] = [];
  /** writeRecords calls in flight: close() lets them finish. */
  private readonly writes = new Set<Promise<unknown>>();
  private closed = false;
  /** The main connection's latest failure to connect, to say why Redis is unreachable. */
  private connectionError?: string;

  constructor(url: string, opts: RedisStoreOptions = {}) {
    this.location = redactUrl(url);
    this.keyPrefix = opts.keyPrefix ?? 'gold:';
    this.keysPerCall = opts.keysPerScriptCall ?? 500;
    this.bulkMinRows = opts.bulkMinRows ?? 256;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.bulkIdleTimeoutMs = opts.bulkIdleTimeoutMs ?? DEFAULT_BULK_IDLE_TIMEOUT_MS;
    this.redis = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      connectTimeout: 3000,
      commandTimeout: this.commandTimeoutMs,
      // Also resets a connection whose server went silent, so that timed-out commands do not pile up on it.
      socketTimeout: this.commandTimeoutMs,
      ...(opts.tls ? { tls: opts.tls } : {}),
    });
    // Connection errors also reject the commands that hit them; this only keeps ioredis from printing each retry.
    this.redis.on('error', (e: Error) => {
      this.connectionError = e.message;
      logger().debug({ err: e.message, store: this.location }, 'online store connection error');
    });
    this.redis.on('ready', () => (this.connectionError = undefined));
  }

  /** The key prefix of one view version (everything before the entity key). */
  viewPrefix(view: OnlineViewSpec): string {
    return `${this.keyPrefix}${view.name}:v${view.version}:`;
  }

  async ping(): Promise<void> {
    const r = await this.answered(this.redis.ping());
    if (r !== 'PONG') throw new Error(`unexpected PING answer from ${this.location}: ${r}`);
  }

  /** Lets writes in flight (with the script calls and rebuilds they hand over to) finish, then closes every connection; later writes fail. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.writes);
    for (const c of this.bulkIdle.splice(0)) c.close();
    if (this.redis.status === 'ready') await this.redis.quit();
    else this.redis.disconnect();
  }

  async writeBatch(view: OnlineViewSpec, rows: readonly OnlineWriteRow[], now = Date.now()): Promise<WriteResult> {
    return this.writeRecords(view, encodeRows(view, rows, now), now);
  }

  /** Rows of one header at or above the watermark in bulk (no per-row compare), the others by script. */
  async writeRecords(view: OnlineViewSpec, rows: readonly EncodedRow[], now = Date.now()): Promise<WriteResult> {
    checkedView(view);
    this.assertOpen();
    // Registered before anything is awaited: close() either waits for it or came first.
    const write = this.write(view, rows, now);
    this.writes.add(write);
    try {
      return await write;
    } finally {
      this.writes.delete(write);
    }
  }

  private async write(view: OnlineViewSpec, rows: readonly EncodedRow[], now: number): Promise<WriteResult> {
    const trustedMark = await this.watermarkTrusted();
    let result: WriteResult = { written: 0, skippedOlder: 0, skippedExpired: 0 };
    let rest = rows;
    const header = trustedMark && rows.length >= this.bulkMinRows ? sharedHeader(rows) : '';
    if (header !== '') ({ result, rest } = await this.writeBulk(view, header, rows, now));
    if (rest.length === 0) return result;
    const script = await this.writeByScript(view, rest, now, trustedMark);
    // One process scans at a time (a lock in Redis); the others go on comparing every row meanwhile.
    if (trustedMark && !script.markFinal) await this.rebuildWatermark(view);
    return { written: result.written + script.written, skippedOlder: script.skippedOlder, skippedExpired: result.skippedExpired + script.skippedExpired };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`online store ${this.location} is closed`);
  }

  /** Script calls of at most keysPerScriptCall rows each, MAX_CALLS_PER_PIPELINE calls a round trip. */
  private async writeByScript(
    view: OnlineViewSpec,
    rows: readonly EncodedRow[],
    now: number,
    trustedMark: boolean,
  ): Promise<WriteResult & { markFinal: boolean }> {
    const prefix = this.viewPrefix(view);
    const mark = this.watermarkKey(view);
    const ttl = String(ttlMs(view));
    const at = String(now);
    const trusted = trustedMark ? '1' : '0';
    const calls: (string | number | Buffer)[][] = [];
    for (let start = 0; start < rows.length; start += this.keysPerCall) {
      const batch = rows.slice(start, start + this.keysPerCall);
      const args: (string | number | Buffer)[] = new Array(batch.length * 2 + 8);
      args[0] = WRITE_SCRIPT_SHA;
      args[1] = batch.length + 1;
      args[2] = mark;
      for (let i = 0; i < batch.length; i++) {
        args[3 + i] = prefix + batch[i]!.entityKey;
        args[8 + batch.length + i] = batch[i]!.record;
      }
      args[3 + batch.length] = ttl;
      args[4 + batch.length] = at;
      args[5 + batch.length] = trusted;
      args[6 + batch.length] = sharedHeader(batch);
      // A token per call: a mark deleted and recreated between two calls must not pass for the first one.
      args[7 + batch.length] = randomBytes(6).toString('hex');
      calls.push(args);
    }
    const total = { written: 0, skippedOlder: 0, skippedExpired: 0, markFinal: true };
    for (let start = 0; start < calls.length; start += MAX_CALLS_PER_PIPELINE) {
      for (const [written, older, expired, final] of await this.runScriptCalls(calls.slice(start, start + MAX_CALLS_PER_PIPELINE))) {
        total.written += written;
        total.skippedOlder += older;
        total.skippedExpired += expired;
        total.markFinal &&= final === 1;
      }
    }
    return total;
  }

  /** A bulk write (redis-bulk.ts): its counts, and the rows left to compare row by row (the watermark does not cover them). */
  private async writeBulk(
    view: OnlineViewSpec,
    header: string,
    rows: readonly EncodedRow[],
    now: number,
  ): Promise<{ result: WriteResult; rest: readonly EncodedRow[] }> {
    const o = this.redis.options;
    let conn = this.bulkIdle.pop();
    while (conn && !conn.healthy) conn = this.bulkIdle.pop(); // closed by the server (or idle too long) since its last use
    conn ??= new RedisBulkConnection({
      host: o.host ?? '127.0.0.1',
      port: o.port ?? 6379,
      username: o.username,
      password: o.password,
      db: o.db,
      tls: o.tls,
      connectTimeoutMs: o.connectTimeout,
      idleTimeoutMs: this.bulkIdleTimeoutMs,
    });
    const prefix = this.viewPrefix(view);
    const write = writeBulkChunk(
      conn,
      {
        watermarkKey: this.watermarkKey(view),
        header,
        expireAt: Number(header.slice(0, 13)) + ttlMs(view),
        keys: rows.map((row) => prefix + row.entityKey),
        records: rows.map((row) => row.record),
      },
      now,
      this.keysPerCall,
    );
    let clean = false;
    try {
      const r = await write;
      clean = true;
      return { result: { written: r.written, skippedOlder: 0, skippedExpired: r.expired }, rest: rows.slice(r.belowFrom) };
    } finally {
      // A connection that failed mid-transaction may still hold a WATCH or a MULTI: not reused.
      if (clean && conn.healthy && !this.closed) this.bulkIdle.push(conn);
      else conn.close();
    }
  }

  /** The key of the view version's watermark (outside the `<view prefix>*` pattern of its entities). */
  watermarkKey(view: OnlineViewSpec): string {
    return `${this.keyPrefix}${view.name}:v${view.version}#watermark`;
  }

  /** SCAN's MATCH pattern for the entity keys of a view version. */
  private viewKeyPattern(view: OnlineViewSpec): string {
    return `${this.viewPrefix(checkedView(view)).replace(/[*?[\]\\]/g, '\\$&')}*`;
  }

  /** Makes a provisional watermark final (redis-watermark.ts); one rebuild at a time per view version. */
  private rebuildWatermark(view: OnlineViewSpec): Promise<void> {
    const key = this.watermarkKey(view);
    let running = this.rebuilds.get(key);
    if (!running) {
      running = rebuildWatermark(this.redis, key, this.viewKeyPattern(view))
        .then((final) => {
          if (final)
            logger().debug({ store: this.location, view: view.name, version: view.version }, "online store rebuilt a missing watermark from the view's keys");
        })
        .catch((e: unknown) => {
          // Nothing is lost: writes keep comparing every row until a later write's rebuild succeeds.
          logger().warn(
            { store: this.location, view: view.name, version: view.version, err: (e as Error).message },
            'online store could not rebuild a watermark; will try again',
          );
        })
        .finally(() => this.rebuilds.delete(key));
      this.rebuilds.set(key, running);
    }
    return running;
  }

  /**
   * Whether Redis can be trusted to keep the watermark: asked once a minute at most (and again after a
   * failure to ask, so that Redis being down at the first write does not turn bulk writes off for good).
   */
  private watermarkTrusted(): Promise<boolean> {
    if (this.policy && Date.now() - this.policy.askedAt < POLICY_RECHECK_MS) return this.policy.trusted;
    const trusted = this.redis.config('GET', 'maxmemory-policy').then(
      (reply) => {
        const policy = String((reply as string[])[1] ?? '');
        const ok = !policy.startsWith('allkeys');
        if (!ok && this.policyTrusted !== false)
          logger().info({ store: this.location, policy }, 'online store may evict any key: every write compares timestamps row by row');
        this.policyTrusted = ok;
        return ok;
      },
      (e: Error) => {
        if (!(e instanceof ReplyError)) {
          if (this.policy?.trusted === trusted) this.policy = undefined;
          throw this.named(e);
        }
        if (this.policyTrusted !== false)
          logger().info(
            { store: this.location, err: e.message },
            'online store refused CONFIG GET maxmemory-policy: every write compares timestamps row by row',
          );
        this.policyTrusted = false;
        return false;
      },
    );
    this.policy = { askedAt: Date.now(), trusted };
    return trusted;
  }

  /** EVALSHA calls in one pipeline; loads the script and retries the calls Redis did not know it for. */
  private async runScriptCalls(calls: (string | number | Buffer)[][]): Promise<[number, number, number, number][]> {
    const results: ([number, number, number, number] | undefined)[] = new Array(calls.length);
    let pending = calls.map((_, i) => i);
    for (let attempt = 0; pending.length > 0; attempt++) {
      const pipeline = this.redis.pipeline();
      for (const i of pending) pipeline.call('EVALSHA', ...calls[i]!);
      const replies = (await this.answered(pipeline.exec())) ?? [];
      const missing: number[] = [];
      replies.forEach(([err, reply], k) => {
        const i = pending[k]!;
        if (err && /NOSCRIPT/.test(err.message) && attempt === 0) missing.push(i);
        else if (err) throw this.named(err, `online write to ${this.location} failed: ${err.message}`);
        else results[i] = reply as [number, number, number, number];
      });
      if (missing.length > 0) await this.answered(this.redis.script('LOAD', WRITE_SCRIPT));
      pending = missing;
    }
    return results as [number, number, number, number][];
  }

  /** All requests in one MGET. */
  async read(requests: readonly OnlineReadRequest[], now = Date.now()): Promise<OnlineReadResult[][]> {
    const keys: string[] = [];
    for (const req of requests) {
      const prefix = this.viewPrefix(checkedView(req.view));
      for (const k of req.entityKeys) keys.push(prefix + k);
    }
    const flat = keys.length > 0 ? await this.answered(this.redis.mget(keys)) : [];
    let at = 0;
    const records = requests.map((req) => flat.slice(at, (at += req.entityKeys.length)));
    return resolveReads(requests, records, now);
  }

  /** The command's answer, or its failure named (see named). */
  private async answered<T>(command: Promise<T>): Promise<T> {
    try {
      return await command;
    } catch (e) {
      throw this.named(e as Error);
    }
  }

  /**
   * ioredis's bare "Command timed out" and "Reached the max retries per request limit" reworded to name
   * the store and what went wrong; any other error as `otherwise` says (itself by default).
   */
  private named(e: Error, otherwise: string | Error = e): Error {
    if (e.message === 'Command timed out') return new Error(`no answer from ${this.location} in ${this.commandTimeoutMs} ms`);
    if (e.name === 'MaxRetriesPerRequestError') return new Error(`cannot reach ${this.location}: ${this.connectionError ?? 'connection lost'}`);
    return typeof otherwise === 'string' ? new Error(otherwise) : otherwise;
  }

  async deleteView(view: OnlineViewSpec): Promise<number> {
    const pattern = this.viewKeyPattern(view);
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.answered(this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000));
      if (keys.length > 0) deleted += await this.answered(this.redis.unlink(...keys));
      cursor = next;
    } while (cursor !== '0');
    await this.answered(this.redis.unlink(this.watermarkKey(view)));
    return deleted;
  }

  async stats(): Promise<OnlineStoreStats> {
    const [keys, memory] = await this.answered(Promise.all([this.redis.dbsize(), this.redis.info('memory')]));
    return { keys, bytes: Number(/used_memory:(\d+)/.exec(memory)?.[1] ?? 0) };
  }

  /** From the watermark: a provisional one bounds the writes since it appeared, which is still a written timestamp. */
  async latestFeatureTimestamp(view: OnlineViewSpec): Promise<number | undefined> {
    const mark = await this.answered(this.redis.get(this.watermarkKey(checkedView(view))));
    if (mark === null) return undefined;
    const ts = Number((isFinalMark(mark) ? mark : mark.slice(1)).slice(0, 13));
    // A provisional mark left by a write that wrote nothing holds the lowest header.
    return ts > 0 ? ts : undefined;
  }
}

/** The 26 header digits when every record of the batch has the same, else ''. */
function sharedHeader(batch: readonly EncodedRow[]): string {
  const first = batch[0]?.record;
  if (first === undefined) return '';
  const header = typeof first === 'string' ? first.slice(1, 27) : first.toString('latin1', 1, 27);
  const bytes = Buffer.from(header, 'latin1');
  for (const { record } of batch) {
    if (typeof record === 'string' ? record.slice(1, 27) !== header : bytes.compare(record, 1, 27) !== 0) return '';
  }
  return header;
}
