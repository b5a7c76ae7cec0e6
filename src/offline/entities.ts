// The entity rows of a training set, loaded into a DuckDB table with their input ordinal and their
// event time as a TIMESTAMP, after checking that they have what the requested views join on.
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { type Engine, sqlIdent, sqlStr } from '../engine/duckdb.js';
import { TrainingSetInputError } from './errors.js';

/** Where the entity rows come from: a local CSV or Parquet file, or a DuckDB query. */
export type EntitySource = string | { sql: string };

export const ENTITY_TABLE = 'entity_rows';
/** Starts the names of internal columns next to the input's; input columns may not, so they never clash. */
export const INTERNAL_PREFIX = '__gold_';
/** Internal columns of ENTITY_TABLE: the input ordinal and the event time as a TIMESTAMP. */
export const ROW_ORDINAL = `${INTERNAL_PREFIX}row`;
export const EVENT_TIME = `${INTERNAL_PREFIX}t`;
export const EVENT_TIMESTAMP = 'event_timestamp';

/**
 * Event times are accepted in [EARLIEST, LATEST): far beyond any feature data, a value outside is a
 * mistake (a sentinel, 'infinity', a mistyped year), and the time arithmetic stays well inside exact
 * microseconds (JS safe integers, DuckDB's HUGEINT ordering).
 */
const EARLIEST = '1900-01-01';
const LATEST = '2200-01-01';

/**
 * Timestamp text must be ISO 8601: a date, optionally a time ('T' or a space between), optional
 * fraction, optional Z or UTC offset (none means UTC). Anything else (02/04/2026: April or February?)
 * is refused rather than guessed.
 */
const ISO_8601 = String.raw`\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?`;
const ISO_EXAMPLES = '2026-02-04T01:00:00Z, 2026-02-04 01:00:00+02:00 or 2026-02-04';

/** DuckDB expands these in a file path (a file named e*.csv would also read e1.csv). */
const GLOB_CHARS = /[*?[]/;

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

/**
 * The input as a relation. From CSV, key columns and event_timestamp are read as text: '007' stays
 * '007', and a time is parsed by the ISO rule instead of a format DuckDB guesses.
 */
async function sourceRelation(db: Engine, source: EntitySource, keyColumns: readonly string[]): Promise<{ relation: string; what: string; csv: boolean }> {
  if (typeof source !== 'string') return { relation: `(${source.sql})`, what: 'the entity query', csv: false };
  if (GLOB_CHARS.test(source))
    throw new TrainingSetInputError(
      `entity file ${source}: the path has a glob character (*, ? or [), which DuckDB would expand to other files; rename or move the file`,
    );
  try {
    if (!(await stat(source)).isFile()) throw new Error('not a file');
  } catch {
    throw new TrainingSetInputError(`entity file ${source} does not exist or is not a file`);
  }
  const ext = extname(source).toLowerCase();
  if (ext === '.parquet')
    return { relation: `read_parquet(${sqlStr(source)}, hive_partitioning = false)`, what: `entity file ${source} as Parquet`, csv: false };
  if (ext !== '.csv') throw new TrainingSetInputError(`entity file ${source}: unsupported extension '${ext}' (expected .csv or .parquet)`);
  const what = `entity file ${source} as CSV`;
  // A path with name=value folders must not grow columns (hive partitioning is detected by default).
  const plain = `read_csv(${sqlStr(source)}, header = true, hive_partitioning = false)`;
  const present = new Set((await describe(db, plain, what)).map((c) => c.column_name));
  const text = [...keyColumns, EVENT_TIMESTAMP].filter((k) => present.has(k)).map((k) => `${sqlStr(k)}: 'VARCHAR'`);
  return {
    relation: text.length === 0 ? plain : `read_csv(${sqlStr(source)}, header = true, hive_partitioning = false, types = {${text.join(', ')}})`,
    what,
    csv: true,
  };
}

/** A way event_timestamp can be unusable: rows where `where` holds are refused with `problem`. */
interface TimeCheck {
  problem: string;
  where: string;
  /** The message quotes the first such value. */
  quote: boolean;
  /** What the message adds at its end: what was expected. */
  hint: string;
}

/**
 * Loads the entity rows into ENTITY_TABLE. `keysByView` names, per view, the key columns the rows must
 * have; `reserved` are output column names the input must not use.
 */
export async function loadEntities(
  db: Engine,
  source: EntitySource,
  keysByView: ReadonlyMap<string, readonly string[]>,
  reserved: readonly string[],
): Promise<LoadedEntities> {
  const allKeys = [...new Set([...keysByView.values()].flat())];
  const { relation, what, csv } = await sourceRelation(db, source, allKeys);
  const described = await describe(db, relation, what);
  const columns = described.map((c) => c.column_name);
  const label = typeof source === 'string' ? `entity file ${source}` : 'the entity query';
  const ts = described.find((c) => c.column_name === EVENT_TIMESTAMP);
  if (!ts) throw new TrainingSetInputError(`${label} has no ${EVENT_TIMESTAMP} column (columns: ${columns.join(', ')})`);
  for (const [view, keys] of keysByView) {
    const missing = keys.filter((k) => !columns.includes(k));
    if (missing.length > 0)
      throw new TrainingSetInputError(`${label} lacks key column(s) ${missing.join(', ')} needed by ${view} (columns: ${columns.join(', ')})`);
  }
  const internal = columns.find((c) => c.toLowerCase().startsWith(INTERNAL_PREFIX));
  if (internal) throw new TrainingSetInputError(`${label} has column '${internal}': names starting with ${INTERNAL_PREFIX} are reserved`);
  const taken = new Set(columns.map((c) => c.toLowerCase()));
  const clash = reserved.find((r) => taken.has(r.toLowerCase()));
  if (clash)
    throw new TrainingSetInputError(
      `${label} already has a column named '${clash}', a requested feature's output name; rename it or use full feature names (family__feature)`,
    );

  const isText = ts.column_type === 'VARCHAR';
  if (!isText && !TIMESTAMP_TYPES.test(ts.column_type)) {
    throw new TrainingSetInputError(`${EVENT_TIMESTAMP} of ${label} is ${ts.column_type}: expected a timestamp, a date or timestamp text`);
  }
  const raw = sqlIdent(EVENT_TIMESTAMP);
  // Through TIMESTAMPTZ so that an offset in the text counts (the session time zone is UTC, so text
  // without one is UTC).
  const eventTime = isText
    ? `CASE WHEN regexp_full_match(${raw}, ${sqlStr(ISO_8601)}) THEN try_cast(${raw} AS TIMESTAMPTZ)::TIMESTAMP END`
    : `${raw}::TIMESTAMP`;
  // The ordinal every output row keeps: row_number() over an empty window streams in input order, and
  // the source is read in order with insertion order kept.
  await db.run('SET preserve_insertion_order = true');
  try {
    await db.run(
      `CREATE OR REPLACE TEMP TABLE ${ENTITY_TABLE} AS SELECT row_number() OVER () - 1 AS ${ROW_ORDINAL}, *, ${eventTime} AS ${EVENT_TIME} FROM ${relation}`,
    );
  } catch (e) {
    throw new TrainingSetInputError(`cannot read ${what}: ${firstLine(e)}`);
  } finally {
    await db.run('SET preserve_insertion_order = false');
  }

  const checks: TimeCheck[] = [
    { problem: 'no', where: `${raw} IS NULL`, quote: false, hint: '' },
    { problem: 'an unparseable', where: `${raw} IS NOT NULL AND ${EVENT_TIME} IS NULL`, quote: true, hint: `: expected ISO 8601 text such as ${ISO_EXAMPLES}` },
    {
      problem: 'an out-of-range',
      where: `NOT (${EVENT_TIME} >= TIMESTAMP '${EARLIEST}' AND ${EVENT_TIME} < TIMESTAMP '${LATEST}')`,
      quote: true,
      hint: `: expected a time from ${EARLIEST} to before ${LATEST}`,
    },
  ];
  // Bounds as DOUBLE: exact for these microseconds, and never a BigInt in the arithmetic that uses them.
  const s = await db.one<{ rows: number; min_us: number | null; max_us: number | null } & Record<string, unknown>>(`
    SELECT count(*)::BIGINT AS rows, min(epoch_us(${EVENT_TIME}))::DOUBLE AS min_us, max(epoch_us(${EVENT_TIME}))::DOUBLE AS max_us,
      ${checks.map((c, i) => `count(*) FILTER (WHERE ${c.where})::BIGINT AS n${i}, min(${ROW_ORDINAL}) FILTER (WHERE ${c.where}) AS first${i}, arg_min(${raw}::VARCHAR, ${ROW_ORDINAL}) FILTER (WHERE ${c.where}) AS value${i}`).join(',\n      ')}
    FROM ${ENTITY_TABLE}`);
  for (const [i, c] of checks.entries()) {
    const n = Number(s[`n${i}`]);
    if (n === 0) continue;
    const value = c.quote ? `, '${String(s[`value${i}`])}'` : '';
    throw new TrainingSetInputError(
      `${label}: ${n} row(s) have ${c.problem} ${EVENT_TIMESTAMP} (first: data row ${Number(s[`first${i}`]) + 1}${value})${c.hint}`,
    );
  }
  // A CSV's column type was never chosen by its writer: it comes out as the time it was parsed to.
  if (csv) await db.run(`ALTER TABLE ${ENTITY_TABLE} ALTER ${raw} SET DATA TYPE TIMESTAMP USING ${EVENT_TIME}`);
  return { columns, rows: s.rows, minUs: s.min_us, maxUs: s.max_us };
}
