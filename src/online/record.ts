// The stored form of one entity's row of one view, identical in Redis and in the embedded store:
//
//   'j' <feature_timestamp: 13 digits, epoch ms> <created_timestamp: 13 digits, epoch ms> <JSON array>
//
// The fixed-width header lets the Redis write script compare timestamps without decoding the values,
// and lets a reader check the TTL before parsing. The values are a JSON array in the view's feature
// order, produced by DuckDB's json_array during materialization (so no JS loop builds it) and by
// `encodeRecord` for writes from JS; both follow the same rules: TIMESTAMP as epoch ms, DATE as
// 'YYYY-MM-DD', non-finite floats as the bare tokens NaN / Infinity / -Infinity (DuckDB's spelling).
// Integers beyond 2^53 lose precision when read back (JSON numbers are doubles in JS).
import { sqlIdent } from '../engine/sql.js';
import { OnlineViewError, type OnlineViewSpec, type ValueKind, valueKind } from './view.js';

export const RECORD_TAG = 'j';
/** Tag + two 13-digit timestamps. */
export const RECORD_HEADER_CHARS = 27;
/** Largest epoch ms a 13-digit header holds (year 2286). */
export const MAX_TIMESTAMP_MS = 9_999_999_999_999;

export class RecordEncodingError extends Error {
  override name = 'RecordEncodingError';
}

function timestampDigits(ms: number, what: string): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_TIMESTAMP_MS) {
    throw new RecordEncodingError(`${what} must be a whole number of epoch milliseconds in [0, ${MAX_TIMESTAMP_MS}], got ${ms}`);
  }
  return String(ms).padStart(13, '0');
}

function encodeScalar(kind: ValueKind['scalar'], v: unknown, where: () => string): string {
  if (v === null || v === undefined) return 'null';
  switch (kind) {
    case 'integer':
      if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) return String(v);
      break;
    case 'float':
      if (typeof v === 'number') return Number.isFinite(v) || Number.isNaN(v) ? String(v) : v > 0 ? 'Infinity' : '-Infinity';
      if (typeof v === 'bigint') return String(v);
      break;
    case 'string':
      if (typeof v === 'string') return JSON.stringify(v);
      break;
    case 'boolean':
      if (typeof v === 'boolean') return String(v);
      break;
    case 'timestamp':
      if (v instanceof Date && !Number.isNaN(v.getTime())) return String(v.getTime());
      if (typeof v === 'number' && Number.isInteger(v)) return String(v);
      break;
    case 'date':
      if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return JSON.stringify(v);
      if (v instanceof Date && !Number.isNaN(v.getTime())) return JSON.stringify(v.toISOString().slice(0, 10));
      break;
  }
  throw new RecordEncodingError(`${where()}: ${describe(v)} is not a valid ${kind} value`);
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (v instanceof Date) return 'an invalid Date';
  if (Array.isArray(v)) return 'an array';
  return `${typeof v} ${String(v)}`;
}

function encodeValue(kind: ValueKind, v: unknown, where: () => string): string {
  if (!kind.list || v === null || v === undefined) return encodeScalar(kind.scalar, v, where);
  if (!Array.isArray(v)) throw new RecordEncodingError(`${where()}: expected a list, got ${describe(v)}`);
  return `[${v.map((x) => encodeScalar(kind.scalar, x, where)).join(',')}]`;
}

/** The value kinds of a view's features, in order (memoized per view object: encoding is hot). */
const kindsCache = new WeakMap<OnlineViewSpec, ValueKind[]>();
export function featureKinds(view: OnlineViewSpec): ValueKind[] {
  let kinds = kindsCache.get(view);
  if (!kinds) {
    kinds = view.features.map((f) => valueKind(f.type));
    kindsCache.set(view, kinds);
  }
  return kinds;
}

/** One row as a record; throws naming the feature when a value does not fit its declared type. */
export function encodeRecord(view: OnlineViewSpec, featureTimestamp: number, createdTimestamp: number, values: readonly unknown[]): string {
  const kinds = featureKinds(view);
  if (values.length !== kinds.length) throw new RecordEncodingError(`view ${view.name} has ${kinds.length} features, got ${values.length} values`);
  const parts = values.map((v, i) => encodeValue(kinds[i]!, v, () => `view ${view.name}, feature ${view.features[i]!.name}`));
  return `${RECORD_TAG}${timestampDigits(featureTimestamp, 'featureTimestamp')}${timestampDigits(createdTimestamp, 'createdTimestamp')}[${parts.join(',')}]`;
}

/**
 * The record as a DuckDB expression over a relation with the view's feature columns and
 * feature_timestamp / created_timestamp (both checked to be in range by the caller).
 */
export function recordSql(view: OnlineViewSpec): string {
  const kinds = featureKinds(view);
  const values = view.features.map((f, i) => {
    const col = sqlIdent(f.name);
    const k = kinds[i]!;
    if (k.scalar !== 'timestamp') return col;
    return k.list ? `list_transform(${col}, x -> epoch_ms(x))` : `epoch_ms(${col})`;
  });
  const digits = (col: string) => `lpad(CAST(epoch_ms(${col}) AS VARCHAR), 13, '0')`;
  return `'${RECORD_TAG}' || ${digits('feature_timestamp')} || ${digits('created_timestamp')} || CAST(json_array(${values.join(', ')}) AS VARCHAR)`;
}

/** recordSql as UTF-8 bytes (BLOB): the stores take them as they are, with no decoding in JS. */
export function recordBytesSql(view: OnlineViewSpec): string {
  return `encode(${recordSql(view)})`;
}

/** A record as text, or as its UTF-8 bytes (materialization passes DuckDB's bytes on without decoding). */
export type StoredRecord = string | Uint8Array;

const TAG_BYTE = RECORD_TAG.charCodeAt(0);

/** The 13 digits at `start` of the header, as a number. */
function headerDigits(record: StoredRecord, start: number): number {
  if (typeof record === 'string') {
    if (record[0] !== RECORD_TAG) throw new RecordEncodingError(`not an online record (starts with ${JSON.stringify(record.slice(0, 8))})`);
    return Number(record.slice(start, start + 13));
  }
  if (record[0] !== TAG_BYTE) throw new RecordEncodingError(`not an online record (first byte ${record[0]})`);
  let n = 0;
  for (let i = start; i < start + 13; i++) n = n * 10 + (record[i]! - 48);
  return n;
}

/** The feature_timestamp of a record (epoch ms). */
export function recordFeatureTimestamp(record: StoredRecord): number {
  return headerDigits(record, 1);
}

export function recordCreatedTimestamp(record: StoredRecord): number {
  return headerDigits(record, 14);
}

/** Bare NaN / Infinity / -Infinity outside strings, which JSON.parse refuses. */
const NON_FINITE_OR_STRING = /"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g;

function parseValues(json: string): unknown[] {
  try {
    return JSON.parse(json) as unknown[];
  } catch {
    // Rare path: quote the non-finite tokens; float decoding turns them back into numbers.
    return JSON.parse(json.replace(NON_FINITE_OR_STRING, (m) => (m[0] === '"' ? m : `"${m}"`))) as unknown[];
  }
}

function decodeScalar(kind: ValueKind['scalar'], v: unknown): unknown {
  if (v === null) return null;
  if (kind === 'timestamp') return new Date(v as number);
  if (kind === 'float' && typeof v === 'string') return Number(v);
  return v;
}

/** The values at the given feature positions: TIMESTAMP as Date, the rest as JSON gives them. */
export function decodeRecordValues(view: OnlineViewSpec, record: string, positions: readonly number[]): unknown[] {
  const all = parseValues(record.slice(RECORD_HEADER_CHARS));
  const kinds = featureKinds(view);
  if (all.length !== kinds.length)
    throw new OnlineViewError(`stored record of view ${view.name} v${view.version} has ${all.length} values, the view declares ${kinds.length} features`);
  return positions.map((p) => {
    const k = kinds[p]!;
    const v = all[p];
    if (k.scalar !== 'timestamp' && k.scalar !== 'float') return v;
    if (k.list && Array.isArray(v)) return v.map((x) => decodeScalar(k.scalar, x));
    return decodeScalar(k.scalar, v);
  });
}
