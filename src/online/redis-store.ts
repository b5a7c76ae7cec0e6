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
import { createHash } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import { Redis } from 'ioredis';
import { redactedOnlineStore } from '../config/settings.js';
import { logger } from '../monitoring/logger.js';
import { checkedView, encodeRows, resolveReads } from './rows.js';
import type { EncodedRow, OnlineReadRequest, OnlineReadResult, OnlineStore, OnlineStoreStats, OnlineWriteRow, WriteResult } from './store.js';
import { ttlMs, type OnlineViewSpec } from './view.js';

/**
 * KEYS: the entities' keys; ARGV[1]: the view's TTL in ms; ARGV[2]: now (epoch ms); ARGV[2 + i]: the
 * record for KEYS[i]. A row is skipped when already past its TTL, or when the stored row is newer by
 * (feature_timestamp, created_timestamp); otherwise SET with PXAT = feature_timestamp + TTL. Returns
 * {written, skipped older, skipped expired}. One MGET up front: one call per key less than GETs.
 */
const WRITE_SCRIPT = `
local ttl, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local stored = redis.call('MGET', unpack(KEYS))
local latest = {}
local written, older, expired = 0, 0, 0
for i = 1, #KEYS do
  local rec = ARGV[i + 2]
  local ts = tonumber(string.sub(rec, 2, 14))
  local old = latest[KEYS[i]] or stored[i]
  if ts + ttl < now then
    expired = expired + 1
  else
    local newer = true
    if old then
      local old_ts = tonumber(string.sub(old, 2, 14))
      newer = old_ts < ts or (old_ts == ts and tonumber(string.sub(old, 15, 27)) <= tonumber(string.sub(rec, 15, 27)))
    end
    if newer then
      redis.call('SET', KEYS[i], rec, 'PXAT', string.format('%d', ts + ttl))
      latest[KEYS[i]] = rec
      written = written + 1
    else
      older = older + 1
    end
  end
end
return {written, older, expired}
`;
const WRITE_SCRIPT_SHA = createHash('sha1').update(WRITE_SCRIPT).digest('hex');

export interface RedisStoreOptions {
  /** Prepended to every key (default 'gold:'); tests and benchmarks use their own. */
  keyPrefix?: string;
  /** TLS options (CA, client certificate) for rediss:// URLs; rediss:// alone uses the system CAs. */
  tls?: ConnectionOptions;
  /** Keys per script call (default 500): bounds how long one call holds Redis, so reads interleave. */
  keysPerScriptCall?: number;
}

export class RedisOnlineStore implements OnlineStore {
  readonly kind = 'redis' as const;
  readonly location: string;
  readonly redis: Redis;
  readonly keyPrefix: string;
  private readonly keysPerCall: number;

  constructor(url: string, opts: RedisStoreOptions = {}) {
    this.location = redactedOnlineStore(url);
    this.keyPrefix = opts.keyPrefix ?? 'gold:';
    this.keysPerCall = opts.keysPerScriptCall ?? 500;
    this.redis = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      connectTimeout: 3000,
      ...(opts.tls ? { tls: opts.tls } : {}),
    });
    // Connection errors also reject the commands that hit them; this only keeps ioredis from printing each retry.
    this.redis.on('error', (e: Error) => logger().debug({ err: e.message, store: this.location }, 'online store connection error'));
  }

  /** The key prefix of one view version (everything before the entity key). */
  viewPrefix(view: OnlineViewSpec): string {
    return `${this.keyPrefix}${view.name}:v${view.version}:`;
  }

  async ping(): Promise<void> {
    const r = await this.redis.ping();
    if (r !== 'PONG') throw new Error(`unexpected PING answer from ${this.location}: ${r}`);
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.quit();
    else this.redis.disconnect();
  }

  async writeBatch(view: OnlineViewSpec, rows: readonly OnlineWriteRow[], now = Date.now()): Promise<WriteResult> {
    return this.writeRecords(view, encodeRows(view, rows, now), now);
  }

  /** One pipeline (one round trip) of script calls of at most keysPerScriptCall rows each. */
  async writeRecords(view: OnlineViewSpec, rows: readonly EncodedRow[], now = Date.now()): Promise<WriteResult> {
    checkedView(view);
    const prefix = this.viewPrefix(view);
    const ttl = String(ttlMs(view));
    const at = String(now);
    const calls: (string | number | Buffer)[][] = [];
    for (let start = 0; start < rows.length; start += this.keysPerCall) {
      const batch = rows.slice(start, start + this.keysPerCall);
      const args: (string | number | Buffer)[] = new Array(batch.length * 2 + 4);
      args[0] = WRITE_SCRIPT_SHA;
      args[1] = batch.length;
      for (let i = 0; i < batch.length; i++) {
        args[2 + i] = prefix + batch[i]!.entityKey;
        args[4 + batch.length + i] = batch[i]!.record;
      }
      args[2 + batch.length] = ttl;
      args[3 + batch.length] = at;
      calls.push(args);
    }
    const total: WriteResult = { written: 0, skippedOlder: 0, skippedExpired: 0 };
    for (const [written, older, expired] of await this.runScriptCalls(calls)) {
      total.written += written;
      total.skippedOlder += older;
      total.skippedExpired += expired;
    }
    return total;
  }

  /** EVALSHA calls in one pipeline; loads the script and retries the calls Redis did not know it for. */
  private async runScriptCalls(calls: (string | number | Buffer)[][]): Promise<[number, number, number][]> {
    const results: ([number, number, number] | undefined)[] = new Array(calls.length);
    let pending = calls.map((_, i) => i);
    for (let attempt = 0; pending.length > 0; attempt++) {
      const pipeline = this.redis.pipeline();
      for (const i of pending) pipeline.call('EVALSHA', ...calls[i]!);
      const replies = (await pipeline.exec()) ?? [];
      const missing: number[] = [];
      replies.forEach(([err, reply], k) => {
        const i = pending[k]!;
        if (err && /NOSCRIPT/.test(err.message) && attempt === 0) missing.push(i);
        else if (err) throw new Error(`online write to ${this.location} failed: ${err.message}`);
        else results[i] = reply as [number, number, number];
      });
      if (missing.length > 0) await this.redis.script('LOAD', WRITE_SCRIPT);
      pending = missing;
    }
    return results as [number, number, number][];
  }

  /** All requests in one MGET. */
  async read(requests: readonly OnlineReadRequest[], now = Date.now()): Promise<OnlineReadResult[][]> {
    const keys: string[] = [];
    for (const req of requests) {
      const prefix = this.viewPrefix(checkedView(req.view));
      for (const k of req.entityKeys) keys.push(prefix + k);
    }
    const flat = keys.length > 0 ? await this.redis.mget(keys) : [];
    let at = 0;
    const records = requests.map((req) => flat.slice(at, (at += req.entityKeys.length)));
    return resolveReads(requests, records, now);
  }

  async deleteView(view: OnlineViewSpec): Promise<number> {
    const pattern = `${this.viewPrefix(checkedView(view)).replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length > 0) deleted += await this.redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    return deleted;
  }

  async stats(): Promise<OnlineStoreStats> {
    const [keys, memory] = await Promise.all([this.redis.dbsize(), this.redis.info('memory')]);
    return { keys, bytes: Number(/used_memory:(\d+)/.exec(memory)?.[1] ?? 0) };
  }
}
