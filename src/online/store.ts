// The online store: one interface with a Redis implementation for production and an embedded one
// (LMDB under <home>/online, no server) as the default. Both store one record per (view, version,
// entity) (see record.ts), guard writes by timestamp, and share the read path below, so that the
// same test suite holds for both (rows.ts).
import { join } from 'node:path';
import type { OnlineViewSpec } from './view.js';
import { EmbeddedOnlineStore } from './embedded-store.js';
import { RedisOnlineStore } from './redis-store.js';
import { observeStoreOperation } from '../monitoring/metrics.js';

export interface OnlineWriteRow {
  /** From encodeEntityKey. */
  entityKey: string;
  /** Epoch ms. */
  featureTimestamp: number;
  /** Epoch ms of the computation that produced the row; breaks ties at equal featureTimestamp. Default: now. */
  createdTimestamp?: number;
  /** In the view's feature order. */
  values: unknown[];
}

/** A row already in stored form (materialization builds these in DuckDB). */
export interface EncodedRow {
  entityKey: string;
  /** See record.ts; as text, or as its UTF-8 bytes. */
  record: string | Buffer;
}

export interface WriteResult {
  written: number;
  /** Rows not written because the store holds a newer one for the entity. */
  skippedOlder: number;
  /** Rows not written because they were already past the view's TTL (they would never be served). */
  skippedExpired: number;
}

export type ValueStatus = 'present' | 'not_found' | 'outside_ttl';

export interface OnlineReadRequest {
  view: OnlineViewSpec;
  entityKeys: string[];
  /** Feature names; default all, in the view's order. */
  features?: string[];
}

export interface OnlineReadResult {
  entityKey: string;
  /** Applies to every value of the row: one record holds the entity's whole view. */
  status: ValueStatus;
  /** Epoch ms of the stored row (also when outside its TTL); null when not found. */
  featureTimestamp: number | null;
  /** The requested features in order; all null unless present. */
  values: unknown[];
}

export interface OnlineStoreStats {
  /** Keys in the Redis database / entries in the embedded store (all views). */
  keys: number;
  /** Memory used by Redis / size of the embedded store's data file. */
  bytes: number;
}

export interface OnlineStore {
  readonly kind: 'redis' | 'embedded';
  /** Where it is, without credentials. */
  readonly location: string;
  /** Throws with a reason when the store cannot be used. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Writes rows: a row older than the stored one of its entity (by featureTimestamp, then
   * createdTimestamp) is skipped; equal or newer overwrites, so a recomputed date restates.
   */
  writeBatch(view: OnlineViewSpec, rows: readonly OnlineWriteRow[], now?: number): Promise<WriteResult>;
  /** writeBatch for rows already encoded (see record.ts); same guard. */
  writeRecords(view: OnlineViewSpec, rows: readonly EncodedRow[], now?: number): Promise<WriteResult>;
  /** One result list per request, one result per entity key, in order (one round trip for Redis). */
  read(requests: readonly OnlineReadRequest[], now?: number): Promise<OnlineReadResult[][]>;
  /** Removes every entity of this view version; returns how many. */
  deleteView(view: OnlineViewSpec): Promise<number>;
  stats(): Promise<OnlineStoreStats>;
  /**
   * The greatest feature timestamp (epoch ms) written to this view version, as the store keeps it
   * (Redis: the watermark; embedded: a mark its writes keep), without reading the rows; undefined
   * when the store has none (nothing written, or written before the store kept one).
   */
  latestFeatureTimestamp(view: OnlineViewSpec): Promise<number | undefined>;
}

export function openOnlineStore(setting: string, home: string): OnlineStore {
  return withMetrics(setting === 'embedded' ? new EmbeddedOnlineStore(join(home, 'online')) : new RedisOnlineStore(setting));
}

/** The store with each data operation counted and timed (gold_store_operations_total, gold_store_operation_duration_seconds). */
export function withMetrics(store: OnlineStore): OnlineStore {
  const timed = async <T>(op: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      const r = await fn();
      observeStoreOperation(store.kind, op, (performance.now() - t) / 1000, true);
      return r;
    } catch (e) {
      observeStoreOperation(store.kind, op, (performance.now() - t) / 1000, false);
      throw e;
    }
  };
  return {
    kind: store.kind,
    location: store.location,
    ping: () => store.ping(),
    close: () => store.close(),
    writeBatch: (view, rows, now) => timed('write', () => store.writeBatch(view, rows, now)),
    writeRecords: (view, rows, now) => timed('write', () => store.writeRecords(view, rows, now)),
    read: (requests, now) => timed('read', () => store.read(requests, now)),
    deleteView: (view) => timed('delete', () => store.deleteView(view)),
    stats: () => store.stats(),
    latestFeatureTimestamp: (view) => store.latestFeatureTimestamp(view),
  };
}
