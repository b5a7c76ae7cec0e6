// The embedded online store: LMDB (a memory-mapped B-tree file, no server) under <home>/online. Several
// processes may open it at once (a worker materializes while `gold serve` reads): LMDB serializes
// writers with a lock in the file and gives readers consistent snapshots, renewed on each event turn.
//
// Key layout: `<view>:v<version>:<entityKey>` in a sub-database 'features' -> the record (record.ts),
// as in Redis. LMDB has no expiry: the TTL is enforced on read, rows already past it are not written,
// deleteView clears a view version, and a sweep removes the rows past their view's TTL (sweepExpired:
// at a process's first write, then at most every SWEEP_INTERVAL_MS during writes), so that the pages of
// expired rows are reused and the file stops growing. The sweep knows each view version's TTL from a
// sub-database 'views' that writes fill. Where Redis has dropped an expired key (not_found), this
// store reads a row it has not swept yet as outside_ttl (with its timestamp); swept, not_found.
// A sub-database 'marks' keeps each view version's greatest feature timestamp written, so that
// freshness is known without reading the rows.
import { asBinary, type Database, open, type RootDatabase } from 'lmdb';
import { recordCreatedTimestamp, recordFeatureTimestamp } from './record.js';
import { checkedView, encodeRows, resolveReads } from './rows.js';
import type { EncodedRow, OnlineReadRequest, OnlineReadResult, OnlineStore, OnlineStoreStats, OnlineWriteRow, WriteResult } from './store.js';
import { type OnlineViewSpec, ttlMs } from './view.js';

/** Expired rows are only wasted space until swept: an hour of them is little next to TTLs of days. */
export const SWEEP_INTERVAL_MS = 3_600_000;
/** Rows removed per write transaction: bounds how long a sweep holds the writer lock. */
const SWEEP_BATCH = 10_000;

export class EmbeddedOnlineStore implements OnlineStore {
  readonly kind = 'embedded' as const;
  readonly root: RootDatabase;
  private readonly db: Database<string, string>;
  /** `<view>:v<version>` -> the view version's TTL in ms, for the sweep. */
  private readonly ttls: Database<number, string>;
  /** `<view>:v<version>` -> the greatest feature timestamp (epoch ms) written to it. */
  private readonly marks: Database<number, string>;
  /** When this process last swept (0: never, so that its first write sweeps). */
  private lastSweep = 0;

  constructor(readonly location: string) {
    this.root = open({ path: location, compression: false });
    this.db = this.root.openDB<string, string>({ name: 'features', encoding: 'string' });
    this.ttls = this.root.openDB<number, string>({ name: 'views' });
    this.marks = this.root.openDB<number, string>({ name: 'marks' });
  }

  /** `<view>:v<version>`: the view version's name in `ttls` and, with ':', the prefix of its keys. */
  private viewName(view: OnlineViewSpec): string {
    return `${view.name}:v${view.version}`;
  }

  private viewPrefix(view: OnlineViewSpec): string {
    return `${this.viewName(view)}:`;
  }

  /** Read-only: a health check must neither take the writer lock nor grow the file. */
  async ping(): Promise<void> {
    try {
      this.db.getKeysCount({ limit: 1 });
    } catch (e) {
      throw new Error(`embedded online store at ${this.location} cannot be read: ${(e as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.root.close();
  }

  async writeBatch(view: OnlineViewSpec, rows: readonly OnlineWriteRow[], now = Date.now()): Promise<WriteResult> {
    return this.writeRecords(view, encodeRows(view, rows, now), now);
  }

  /** One write transaction: the compare and the write of each row are atomic against other processes. */
  async writeRecords(view: OnlineViewSpec, rows: readonly EncodedRow[], now = Date.now()): Promise<WriteResult> {
    const prefix = this.viewPrefix(checkedView(view));
    const name = this.viewName(view);
    const ttl = ttlMs(view);
    const written = await this.db.transaction(() => {
      // Recorded in every write (one small put): another process's deleteView may have removed it, and
      // with writers of different TTLs (a rolling deploy) the sweep goes by the longest, as Redis keeps
      // each row's own expiry.
      const recorded = this.ttls.get(name);
      if (recorded === undefined || recorded < ttl) this.ttls.put(name, ttl);
      const result: WriteResult = { written: 0, skippedOlder: 0, skippedExpired: 0 };
      let latest = this.marks.get(name) ?? 0;
      for (const row of rows) {
        const ts = recordFeatureTimestamp(row.record);
        if (ts + ttl < now) {
          result.skippedExpired++;
          continue;
        }
        const key = prefix + row.entityKey;
        const old = this.db.get(key);
        if (old !== undefined) {
          const oldTs = recordFeatureTimestamp(old);
          if (oldTs > ts || (oldTs === ts && recordCreatedTimestamp(old) > recordCreatedTimestamp(row.record))) {
            result.skippedOlder++;
            continue;
          }
        }
        // Bytes are stored as they are; reads decode them as the UTF-8 text they are.
        this.db.put(key, typeof row.record === 'string' ? row.record : (asBinary(row.record) as unknown as string));
        result.written++;
        if (ts > latest) latest = ts;
      }
      if (latest > (this.marks.get(name) ?? 0)) this.marks.put(name, latest);
      return result;
    });
    if (Date.now() - this.lastSweep >= SWEEP_INTERVAL_MS) {
      this.lastSweep = Date.now();
      await this.sweepExpired();
    }
    return written;
  }

  /**
   * Removes the rows past their view's TTL at `now` from every view version this store has written
   * to (views written only before TTLs were recorded are left alone); returns how many.
   */
  async sweepExpired(now = Date.now()): Promise<number> {
    let removed = 0;
    // Listed first: a read snapshot is not held across the awaits below.
    for (const { key: name, value: ttl } of [...this.ttls.getRange()]) removed += await this.sweepView(name, ttl, now);
    return removed;
  }

  /** Expired keys found in a read pass of at most SWEEP_BATCH, then removed in one write transaction, until none is left. */
  private async sweepView(name: string, ttl: number, now: number): Promise<number> {
    const end = `${name};`; // see deleteView
    let removed = 0;
    let after: string | undefined;
    for (;;) {
      const expired: string[] = [];
      for (const { key, value } of this.db.getRange({ start: after ?? `${name}:`, end })) {
        if (key === after) continue;
        if (recordFeatureTimestamp(value) + ttl < now) expired.push(key);
        if (expired.length === SWEEP_BATCH) break;
      }
      if (expired.length === 0) return removed;
      // Checked again inside the transaction: another process may have written a fresh row since.
      removed += await this.db.transaction(() => {
        let n = 0;
        for (const key of expired) {
          const record = this.db.get(key);
          if (record !== undefined && recordFeatureTimestamp(record) + ttl < now) {
            this.db.remove(key);
            n++;
          }
        }
        return n;
      });
      if (expired.length < SWEEP_BATCH) return removed;
      after = expired.at(-1);
    }
  }

  async read(requests: readonly OnlineReadRequest[], now = Date.now()): Promise<OnlineReadResult[][]> {
    const records = requests.map((req) => {
      const prefix = this.viewPrefix(checkedView(req.view));
      return req.entityKeys.map((k) => this.db.get(prefix + k) ?? null);
    });
    return resolveReads(requests, records, now);
  }

  async deleteView(view: OnlineViewSpec): Promise<number> {
    const start = this.viewPrefix(checkedView(view));
    // Every key with the prefix sorts before the prefix with its final ':' raised to ';'.
    const end = `${start.slice(0, -1)};`;
    return this.db.transaction(() => {
      let deleted = 0;
      for (const key of this.db.getKeys({ start, end })) {
        this.db.remove(key);
        deleted++;
      }
      this.ttls.remove(this.viewName(view));
      this.marks.remove(this.viewName(view));
      return deleted;
    });
  }

  async latestFeatureTimestamp(view: OnlineViewSpec): Promise<number | undefined> {
    return this.marks.get(this.viewName(checkedView(view)));
  }

  async stats(): Promise<OnlineStoreStats> {
    const s = this.db.getStats() as { entryCount: number; pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number };
    return { keys: s.entryCount, bytes: s.pageSize * (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages) };
  }
}
