// The online store: one interface with a Redis implementation for production and an embedded one
// (LMDB under <home>/online, no server) as the default. Both store one record per (view, version,
// entity) (see record.ts), guard writes by timestamp, and share the read path below, so that the
// same test suite holds for both (rows.ts).
import type { OnlineViewSpec } from './view.js';

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
