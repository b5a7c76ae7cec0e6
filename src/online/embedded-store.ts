// The embedded online store: LMDB (a memory-mapped B-tree file, no server) under <home>/online. Several
// processes may open it at once (a worker materializes while `gold serve` reads): LMDB serializes
// writers with a lock in the file and gives readers consistent snapshots, renewed on each event turn.
//
// Key layout: `<view>:v<version>:<entityKey>` in a sub-database 'features' -> the record (record.ts),
// as in Redis. LMDB has no expiry: the TTL is enforced on read, rows already past it are not written,
// and deleteView clears a view version.
import { asBinary, open, type Database, type RootDatabase } from 'lmdb';
import { checkedView, encodeRows, resolveReads } from './rows.js';
import { recordCreatedTimestamp, recordFeatureTimestamp } from './record.js';
import type { EncodedRow, OnlineReadRequest, OnlineReadResult, OnlineStore, OnlineStoreStats, OnlineWriteRow, WriteResult } from './store.js';
import { ttlMs, type OnlineViewSpec } from './view.js';

export class EmbeddedOnlineStore implements OnlineStore {
  readonly kind = 'embedded' as const;
  readonly root: RootDatabase;
  private readonly db: Database<string, string>;

  constructor(readonly location: string) {
    this.root = open({ path: location, compression: false });
    this.db = this.root.openDB<string, string>({ name: 'features', encoding: 'string' });
  }

  private viewPrefix(view: OnlineViewSpec): string {
    return `${view.name}:v${view.version}:`;
  }

  async ping(): Promise<void> {
    await this.root.put('__ping__', Date.now());
    if (typeof this.root.get('__ping__') !== 'number') throw new Error(`embedded online store at ${this.location} does not read back`);
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
    const ttl = ttlMs(view);
    return this.db.transaction(() => {
      const result: WriteResult = { written: 0, skippedOlder: 0, skippedExpired: 0 };
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
      }
      return result;
    });
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
      return deleted;
    });
  }

  async stats(): Promise<OnlineStoreStats> {
    const s = this.db.getStats() as { entryCount: number; pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number };
    return { keys: s.entryCount, bytes: s.pageSize * (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages) };
  }
}
