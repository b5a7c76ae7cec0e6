// Materialization: gold Parquet files of one view into the online store, streamed.
//
// DuckDB builds each row's entity key and stored record (record.ts) in SQL and streams them in file
// order (preserve_insertion_order), so JS only moves keys and record bytes (never decoded: they go to
// the store as they are); rows go to the store in chunks, with
// the next chunk read while the previous ones are written, and memory bounded by
// chunkRows x (MAX_CHUNKS_IN_FLIGHT + 1) whatever the size of the input.
//
// Idempotent and resumable: every write is guarded per entity by (feature_timestamp,
// created_timestamp), so writing a row twice changes nothing, and the final state does not depend on
// the order rows arrive in. A checkpoint records the rows done after each chunk (in order); a retry
// after a crash skips those (the order is deterministic) and rewrites at most the chunks that were in
// flight, which the guard makes harmless.
import { existsSync } from 'node:fs';
import type { DuckDBBlobVector } from '@duckdb/node-api';
import { type EngineOptions, sqlIdent, sqlList, withEngine } from '../engine/duckdb.js';
import { entityKeySql } from './entity-key.js';
import { MAX_TIMESTAMP_MS, RECORD_TAG, recordBytesSql } from './record.js';
import { checkedView } from './rows.js';
import type { EncodedRow, OnlineStore, WriteResult } from './store.js';
import { type OnlineViewSpec, valueKind } from './view.js';

export interface MaterializeCheckpoint {
  /** Rows already written by an earlier attempt over the same files, if any. */
  load(): Promise<number | undefined>;
  save(rowsDone: number): Promise<void>;
}

export interface MaterializeOptions {
  engine: EngineOptions;
  /** Rows per write to the store (default 10,000). */
  chunkRows?: number;
  checkpoint?: MaterializeCheckpoint;
  /** Called after each chunk is written, with the rows done so far (including those resumed over). */
  onProgress?: (rowsDone: number) => void;
}

export interface MaterializeResult {
  /** Rows in the files. */
  rows: number;
  /** Rows skipped because the checkpoint said an earlier attempt had written them. */
  resumedFrom: number;
  /** Counts of this attempt's writes. */
  written: number;
  skippedOlder: number;
  skippedExpired: number;
  seconds: number;
}

export class MaterializeError extends Error {
  override name = 'MaterializeError';
}

/** The files do not fit the view (columns, types, nulls, timestamps): a retry would fail the same way. */
export class MaterializeInputError extends MaterializeError {
  override name = 'MaterializeInputError';
  readonly nonRetryable = true;
  readonly type = 'MaterializeInput';
}

const RECORD_TAG_BYTE = RECORD_TAG.charCodeAt(0);

/** Chunks being written while the next is read: enough to keep the store busy, bounded for memory. */
const MAX_CHUNKS_IN_FLIGHT = 2;

type InputSummary = {
  rows: number;
  null_keys: number;
  null_timestamps: number;
  min_ts: number | null;
  max_ts: number | null;
};

/**
 * Whether a column of DuckDB type `actual` is stored as a feature declared `declared` would be: the
 * same value kind (integer, float, string, boolean, timestamp, date; a list or not). Widths may differ
 * (an INTEGER column for a BIGINT feature): the stored JSON is the same.
 */
function sameValueKind(declared: string, actual: string): boolean {
  const d = valueKind(declared);
  try {
    const a = valueKind(actual);
    return a.scalar === d.scalar && a.list === d.list;
  } catch {
    return false; // a type the online store cannot hold at all (STRUCT, MAP, BLOB, ...)
  }
}

export async function materializeParquet(
  store: OnlineStore,
  view: OnlineViewSpec,
  files: readonly string[],
  opts: MaterializeOptions,
): Promise<MaterializeResult> {
  const started = performance.now();
  checkedView(view);
  const chunkRows = opts.chunkRows ?? 10_000;
  if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new MaterializeError(`chunkRows must be a whole number >= 1, got ${chunkRows}`);
  if (files.length === 0) throw new MaterializeError(`materializing ${view.name}: no files given`);
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new MaterializeError(`materializing ${view.name}: no such file: ${missing.join(', ')}`);

  return withEngine(opts.engine, async (db) => {
    // The resume offset relies on rows coming back in file order.
    await db.run('SET preserve_insertion_order = true');
    const source = `read_parquet(${sqlList([...files])}, hive_partitioning = false)`;
    const columns = new Map(
      (await db.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${source}`)).map((c) => [c.column_name, c.column_type]),
    );
    const required = [...view.keys, ...view.features.map((f) => f.name), 'feature_timestamp', 'created_timestamp'];
    const absent = required.filter((c) => !columns.has(c));
    if (absent.length > 0)
      throw new MaterializeInputError(
        `materializing ${view.name}: the files lack column(s) ${absent.join(', ')} (they have ${[...columns.keys()].join(', ')})`,
      );
    // The record takes each value as DuckDB has it (json_array): a column of another kind than declared
    // would be served as that kind (a BIGINT feature as the string '12').
    const declared = [...view.features, { name: 'feature_timestamp', type: 'TIMESTAMP' }, { name: 'created_timestamp', type: 'TIMESTAMP' }];
    const mistyped = declared.filter((f) => !sameValueKind(f.type, columns.get(f.name)!)).map((f) => `${f.name} is ${columns.get(f.name)}, declared ${f.type}`);
    if (mistyped.length > 0) throw new MaterializeInputError(`materializing ${view.name}: column type(s) differ from the view's: ${mistyped.join('; ')}`);

    const s = await db.one<InputSummary>(`
      SELECT count(*) AS rows,
        count(*) FILTER (WHERE ${view.keys.map((k) => `${sqlIdent(k)} IS NULL`).join(' OR ')}) AS null_keys,
        count(*) FILTER (WHERE feature_timestamp IS NULL OR created_timestamp IS NULL) AS null_timestamps,
        least(min(epoch_ms(feature_timestamp)), min(epoch_ms(created_timestamp))) AS min_ts,
        greatest(max(epoch_ms(feature_timestamp)), max(epoch_ms(created_timestamp))) AS max_ts
      FROM ${source}`);
    if (s.null_keys > 0) throw new MaterializeInputError(`materializing ${view.name}: ${s.null_keys} row(s) have a null entity key (${view.keys.join(', ')})`);
    if (s.null_timestamps > 0)
      throw new MaterializeInputError(`materializing ${view.name}: ${s.null_timestamps} row(s) have a null feature_timestamp or created_timestamp`);
    if (s.min_ts !== null && (s.min_ts < 0 || (s.max_ts ?? 0) > MAX_TIMESTAMP_MS)) {
      throw new MaterializeInputError(`materializing ${view.name}: timestamps must lie between 1970 and 2286, found epoch ms ${s.min_ts}..${s.max_ts}`);
    }

    const resumedFrom = (await opts.checkpoint?.load()) ?? 0;
    if (!Number.isInteger(resumedFrom) || resumedFrom < 0 || resumedFrom > s.rows) {
      throw new MaterializeError(
        `materializing ${view.name}: checkpoint says ${resumedFrom} rows done but the files hold ${s.rows}; the checkpoint belongs to other input`,
      );
    }

    const result = await db.conn.stream(`SELECT ${entityKeySql(view.keys)} AS k, ${recordBytesSql(view)} AS r FROM ${source} OFFSET ${resumedFrom}`);
    const totals: WriteResult = { written: 0, skippedOlder: 0, skippedExpired: 0 };
    let rowsDone = resumedFrom;
    const inFlight: { rows: number; write: Promise<WriteResult> }[] = [];
    const settleOldest = async () => {
      const { rows, write } = inFlight.shift()!;
      const w = await write;
      totals.written += w.written;
      totals.skippedOlder += w.skippedOlder;
      totals.skippedExpired += w.skippedExpired;
      rowsDone += rows;
      await opts.checkpoint?.save(rowsDone);
      opts.onProgress?.(rowsDone);
    };
    const send = (rows: EncodedRow[]) => {
      const write = store.writeRecords(view, rows);
      write.catch(() => undefined); // awaited in settleOldest; this only keeps a failure from being unhandled meanwhile
      inFlight.push({ rows: rows.length, write });
    };

    try {
      let batch: EncodedRow[] = [];
      for (;;) {
        const chunk = await result.fetchChunk();
        const count = chunk?.rowCount ?? 0; // a native call: read once
        if (!chunk || count === 0) break;
        const full: EncodedRow[][] = [];
        const keys = chunk.getColumnVector(0);
        const records = chunk.getColumnVector(1) as DuckDBBlobVector;
        for (let i = 0; i < count; i++) {
          // A copy per record (records are longer than DuckDB's 12-byte inline strings), so it outlives the chunk.
          const bytes = records.getItemBytes(i)!;
          if (bytes[0] !== RECORD_TAG_BYTE)
            throw new MaterializeError(`internal: row ${i} of a DuckDB chunk does not hold a record (its memory was released too early)`);
          batch.push({ entityKey: keys.getItem(i) as string, record: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
          if (batch.length === chunkRows) {
            full.push(batch);
            batch = [];
          }
        }
        // The vectors read the chunk's native memory, which its finalizer frees once the chunk object is
        // unreachable: this last use keeps it alive until every row is copied out (a GC in the loop
        // above would otherwise let later rows read freed memory).
        if (chunk.columnCount !== 2) throw new MaterializeError(`internal: expected 2 columns, got ${chunk.columnCount}`);
        for (const rows of full) {
          send(rows);
          if (inFlight.length > MAX_CHUNKS_IN_FLIGHT) await settleOldest();
        }
      }
      if (batch.length > 0) send(batch);
      while (inFlight.length > 0) await settleOldest();
    } catch (e) {
      // Let the writes already sent finish before the engine closes and the error surfaces.
      await Promise.allSettled(inFlight.map((f) => f.write));
      throw e;
    }
    return { rows: s.rows, resumedFrom, ...totals, seconds: (performance.now() - started) / 1000 };
  });
}
