// The entity rows of a training set, loaded into a DuckDB table with their input ordinal and their
// event time as a TIMESTAMP, after checking that they have what the requested views join on.
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { sqlIdent, sqlStr, type Engine } from '../engine/duckdb.js';
import { TrainingSetInputError } from './errors.js';

/** Where the entity rows come from: a local CSV or Parquet file, or a DuckDB query. */
export type EntitySource = string | { sql: string };

export const ENTITY_TABLE = 'entity_rows';
/** Internal columns of ENTITY_TABLE: the input ordinal and the event time as a TIMESTAMP. */
export const ROW_ORDINAL = '__gold_row';
export const EVENT_TIME = '__gold_t';
export const EVENT_TIMESTAMP = 'event_timestamp';

export interface LoadedEntities {
  /** The input's columns, in input order. */
  columns: string[];
  rows: number;
  /** Event time bounds in epoch microseconds; null without rows. */
  minUs: number | null;
  maxUs: number | null;
}

const TIMESTAMP_TYPES = /^(TIMESTAMP(_S|_MS|_NS)?|TIMESTAMP WITH TIME ZONE|DATE)$/;

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

async function describe(db: Engine, relation: string, what: string): Promise<{ column_name: string; column_type: string }[]> {
  try {
    return await db.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${relation}`);
  } catch (e) {
    throw new TrainingSetInputError(`cannot read ${what}: ${firstLine(e)}`);
  }
}

/** The input as a relation, with key columns read as text from CSV (so that '007' stays '007'). */
async function sourceRelation(db: Engine, source: EntitySource, keyColumns: readonly string[]): Promise<{ relation: string; what: string }> {
  if (typeof source !== 'string') return { relation: `(${source.sql})`, what: 'the entity query' };
  try {
    if (!(await stat(source)).isFile()) throw new Error('not a file');
  } catch {
    throw new TrainingSetInputError(`entity file ${source} does not exist or is not a file`);
  }
  const ext = extname(source).toLowerCase();
  if (ext === '.parquet') return { relation: `read_parquet(${sqlStr(source)}, hive_partitioning = false)`, what: `entity file ${source} as Parquet` };
  if (ext !== '.csv') throw new TrainingSetInputError(`entity file ${source}: unsupported extension '${ext}' (expected .csv or .parquet)`);
  const what = `entity file ${source} as CSV`;
  // A path with name=value folders must not grow columns (hive partitioning is detected by default).
  const plain = `read_csv(${sqlStr(source)}, header = true, hive_partitioning = false)`;
  const present = new Set((await describe(db, plain, what)).map((c) => c.column_name));
  const text = keyColumns.filter((k) => present.has(k)).map((k) => `${sqlStr(k)}: 'VARCHAR'`);
  return { relation: text.length === 0 ? plain : `read_csv(${sqlStr(source)}, header = true, hive_partitioning = false, types = {${text.join(', ')}})`, what };
}

/**
 * Loads the entity rows into ENTITY_TABLE. `keysByView` names, per view, the key columns the rows must
 * have; `reserved` are output column names the input must not use.
 */
export async function loadEntities(db: Engine, source: EntitySource, keysByView: ReadonlyMap<string, readonly string[]>, reserved: readonly string[]): Promise<LoadedEntities> {
  const allKeys = [...new Set([...keysByView.values()].flat())];
  const { relation, what } = await sourceRelation(db, source, allKeys);
  const described = await describe(db, relation, what);
  const columns = described.map((c) => c.column_name);
  const label = typeof source === 'string' ? `entity file ${source}` : 'the entity query';
  const ts = described.find((c) => c.column_name === EVENT_TIMESTAMP);
  if (!ts) throw new TrainingSetInputError(`${label} has no ${EVENT_TIMESTAMP} column (columns: ${columns.join(', ')})`);
  for (const [view, keys] of keysByView) {
    const missing = keys.filter((k) => !columns.includes(k));
    if (missing.length > 0) throw new TrainingSetInputError(`${label} lacks key column(s) ${missing.join(', ')} needed by ${view} (columns: ${columns.join(', ')})`);
  }
  const internal = columns.find((c) => c.toLowerCase().startsWith('__gold_'));
  if (internal) throw new TrainingSetInputError(`${label} has column '${internal}': names starting with __gold_ are reserved`);
  const taken = new Set(columns.map((c) => c.toLowerCase()));
  const clash = reserved.find((r) => taken.has(r.toLowerCase()));
  if (clash) throw new TrainingSetInputError(`${label} already has a column named '${clash}', a requested feature's output name; rename it or use full feature names (family__feature)`);

  const isText = ts.column_type === 'VARCHAR';
  if (!isText && !TIMESTAMP_TYPES.test(ts.column_type)) {
    throw new TrainingSetInputError(`${EVENT_TIMESTAMP} of ${label} is ${ts.column_type}: expected a timestamp, a date or timestamp text`);
  }
  const eventTime = isText ? `try_cast(${sqlIdent(EVENT_TIMESTAMP)} AS TIMESTAMP)` : `${sqlIdent(EVENT_TIMESTAMP)}::TIMESTAMP`;
  // With insertion order kept, the table's rowids are the input order: the ordinal every output row keeps.
  await db.run('SET preserve_insertion_order = true');
  try {
    await db.run(`CREATE OR REPLACE TEMP TABLE entity_input AS SELECT * FROM ${relation}`);
  } catch (e) {
    throw new TrainingSetInputError(`cannot read ${what}: ${firstLine(e)}`);
  } finally {
    await db.run('SET preserve_insertion_order = false');
  }
  await db.run(`CREATE OR REPLACE TEMP TABLE ${ENTITY_TABLE} AS SELECT rowid AS ${ROW_ORDINAL}, *, ${eventTime} AS ${EVENT_TIME} FROM entity_input`);
  await db.run('DROP TABLE entity_input');
  const s = await db.one<{ rows: number; bad: number; first_bad: number | null; example: string | null; min_us: number | null; max_us: number | null }>(`
    SELECT count(*)::BIGINT AS rows,
      count(*) FILTER (WHERE ${EVENT_TIME} IS NULL)::BIGINT AS bad,
      min(${ROW_ORDINAL}) FILTER (WHERE ${EVENT_TIME} IS NULL) AS first_bad,
      any_value(${sqlIdent(EVENT_TIMESTAMP)}::VARCHAR) FILTER (WHERE ${EVENT_TIME} IS NULL) AS example,
      min(epoch_us(${EVENT_TIME})) AS min_us, max(epoch_us(${EVENT_TIME})) AS max_us
    FROM ${ENTITY_TABLE}`);
  if (s.bad > 0) {
    throw new TrainingSetInputError(
      `${label}: ${s.bad} row(s) have ${s.example === null ? 'no' : 'an unparseable'} ${EVENT_TIMESTAMP} (first: data row ${Number(s.first_bad) + 1}${s.example === null ? '' : `, '${s.example}'`})`,
    );
  }
  return { columns, rows: s.rows, minUs: s.min_us, maxUs: s.max_us };
}
