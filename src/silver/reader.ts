// Reading silver for a date range as a DuckDB view of the accepted rows, with validation and quarantine.
//
// Only the range's `event_date=` folders are touched (partition pruning); inside a complete date
// (its _SUCCESS present), each `event_type=` folder's committed files are read: the ones its manifest
// lists, or, under an upstream writer's empty marker or no marker, every Parquet file in it. An hour
// range becomes a filter on event_timestamp that DuckDB pushes into the Parquet scan, where row-group
// statistics skip the groups outside it (files are sorted by event_timestamp).
//
// Validation is one scan that keeps, per row, only its place (file, row number), a 64-bit hash of its
// event_id and the code of the first row rule it breaks: the rows themselves are not copied. Storing a
// day's rows costs about as much time as the daily partials then spend reading the files again, and
// would hold the day in memory.
// Duplicates of event_id are found by sorting the hashes of the accepted rows; only the bad rows and the
// rows whose hash repeats are read again in full (to judge duplicates exactly and to quarantine). The
// accepted rows are then a view over the files that leaves out the rejected rows by place. Rows read =
// rows accepted + rows quarantined, by construction: every row read gets exactly one verdict.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqlIdent, sqlStr, type Engine } from '../engine/duckdb.js';
import { assertDate, dateRange } from '../features/time.js';
import { COMMIT_MARKER, joinKey, partitionValue, paths, readManifest, type Lake } from '../lake/index.js';
import { logger } from '../monitoring/logger.js';
import { SILVER_COLUMNS, SILVER_FILE_COLUMNS } from './contract.js';
import { SilverFileError, SilverPartitionMissingError, SilverSchemaError, type MissingPartition } from './errors.js';
import { writeQuarantine } from './quarantine.js';
import { DUPLICATE_EVENT_ID, firstBrokenRowRuleCodeSql, ruleNameSql, SILVER_RULE_NAMES } from './rules.js';

export interface SilverReadOptions {
  /** First and last event_date (inclusive). */
  from: string;
  to: string;
  /** Only events in [start, end) hours (UTC) of each date; 0 <= start < end <= 24. */
  hours?: [number, number];
  /** The run's time, for the rule against timestamps in the future (default: now). */
  runTime?: Date;
  /** Write the quarantined rows to the lake (default: true for whole days; an hour range cannot). */
  quarantine?: boolean;
  /** Name of the TEMP VIEW created (default `events`); a view of that name is replaced. */
  table?: string;
  /** Read the dates that are there, and report the others, instead of failing. */
  allowMissing?: boolean;
}

export interface SilverReadReport {
  /** Dates read (the range minus the missing ones). */
  dates: string[];
  /** Lake keys of the `event_type=` folders read. */
  partitions: string[];
  partitionsRead: number;
  /** Lake keys of the files read (the view reads them again at each query). */
  files: string[];
  filesRead: number;
  bytesRead: number;
  rowsRead: number;
  rowsAccepted: number;
  rowsQuarantined: number;
  quarantinedByRule: Record<string, number>;
  /** Columns found in files beyond the contract (ignored), sorted. */
  extraColumns: string[];
  /** Lake keys of the quarantine files written. */
  quarantineKeys: string[];
  missing: MissingPartition[];
}

/** A committed silver file of the range. */
interface SilverFile {
  key: string;
  size: number;
  date: string;
  eventType: string;
}

/** Column types a file may store each contract type as: the same values, converted on read. */
const ACCEPTED_TYPES: Record<string, (actual: string) => boolean> = {
  VARCHAR: (t) => t === 'VARCHAR',
  DOUBLE: (t) => /^(DOUBLE|FLOAT|DECIMAL\(\d+,\d+\)|U?(TINY|SMALL|BIG)?INT(EGER)?|HUGEINT)$/.test(t),
  TIMESTAMP: (t) => /^(TIMESTAMP|TIMESTAMP_(S|MS|NS)|TIMESTAMP WITH TIME ZONE)$/.test(t),
};

const RULE_COLUMN = '_silver_rule';

function validateOptions(o: SilverReadOptions): void {
  assertDate(o.from);
  assertDate(o.to);
  if (o.from > o.to) throw new RangeError(`invalid silver range ${o.from}..${o.to}: from is after to`);
  if (o.hours) {
    const [a, b] = o.hours;
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b > 24 || a >= b) throw new RangeError(`invalid hour range [${a}, ${b}): expected whole hours 0 <= start < end <= 24`);
    if (o.quarantine) throw new RangeError('quarantine needs whole days: a date\'s quarantine is replaced on each read, so an hour range would drop the other hours\' bad rows');
  }
}

/** The committed files of one complete date, by event_type folder. */
async function dateFiles(lake: Lake, date: string): Promise<{ partitions: string[]; files: SilverFile[] }> {
  const datePrefix = paths.silverDate(date);
  const partitions: string[] = [];
  const files: SilverFile[] = [];
  for (const dir of await lake.listDirs(datePrefix)) {
    const eventType = partitionValue(dir, 'event_type');
    if (eventType === undefined) continue;
    const prefix = joinKey(datePrefix, dir);
    let manifest;
    try {
      manifest = await readManifest(lake, prefix);
    } catch (e) {
      // A marker that does not parse is bad input; anything else (I/O) may pass on a retry.
      if (e instanceof Error && e.message.startsWith('corrupt commit marker')) throw new SilverFileError(joinKey(prefix, COMMIT_MARKER), lake.uri, e.message);
      throw e;
    }
    // No marker in the type folder: the date's marker vouches for what is in it.
    const entries =
      manifest?.files.map((f) => ({ key: joinKey(prefix, f.name), size: f.size })) ??
      (await lake.list(prefix)).filter((e) => e.key.endsWith('.parquet') && !e.key.slice(prefix.length + 1).includes('/'));
    partitions.push(prefix);
    files.push(...entries.map((e) => ({ ...e, date, eventType })));
  }
  return { partitions, files };
}

async function missingOf(lake: Lake, dates: string[]): Promise<MissingPartition[]> {
  const missing: MissingPartition[] = [];
  for (const date of dates) {
    if (await lake.exists(joinKey(paths.silverDate(date), COMMIT_MARKER))) continue;
    const anything = (await lake.list(paths.silverDate(date))).length > 0;
    missing.push({ date, reason: anything ? 'incomplete' : 'missing' });
  }
  return missing;
}

/** One file's rows in the reader's columns (checked against the contract), as parts of a SELECT. */
interface FileRows {
  /** The contract's columns (converted where the file stores another type), event_type and event_date. */
  columns: string;
  /** read_parquet of the file, with its row numbers (file_row_number). */
  source: string;
  /** The hour range's condition, or null. */
  hours: string | null;
  /** The file's partition values: the rules on them are decided once for the file. */
  partition: { eventType: string; eventDate: string };
}

async function fileRows(db: Engine, lake: Lake, f: SilverFile, localPath: string, hours: [number, number] | undefined, extra: Set<string>): Promise<FileRows> {
  let described: { column_name: string; column_type: string }[];
  try {
    described = await db.all(`DESCRIBE SELECT * FROM read_parquet(${sqlStr(localPath)}, hive_partitioning = false)`);
  } catch (e) {
    throw new SilverFileError(f.key, lake.uri, (e as Error).message);
  }
  const actual = new Map(described.map((c) => [c.column_name, c.column_type]));
  const columns = SILVER_FILE_COLUMNS.map(({ name, type }) => {
    const t = actual.get(name);
    if (t === undefined) throw new SilverSchemaError(f.key, lake.uri, name, type, null);
    if (!ACCEPTED_TYPES[type]!(t)) throw new SilverSchemaError(f.key, lake.uri, name, type, t);
    return t === type ? sqlIdent(name) : `CAST(${sqlIdent(name)} AS ${type}) AS ${sqlIdent(name)}`;
  });
  for (const name of actual.keys()) if (!SILVER_FILE_COLUMNS.some((c) => c.name === name)) extra.add(name);
  return {
    columns: `${columns.join(', ')}, ${sqlStr(f.eventType)} AS event_type, DATE ${sqlStr(f.date)} AS event_date`,
    source: `read_parquet(${sqlStr(localPath)}, hive_partitioning = false, file_row_number = true)`,
    hours: hours
      ? `event_timestamp >= TIMESTAMP ${sqlStr(f.date)} + INTERVAL ${hours[0]} HOUR AND event_timestamp < TIMESTAMP ${sqlStr(f.date)} + INTERVAL ${hours[1]} HOUR`
      : null,
    partition: { eventType: f.eventType, eventDate: f.date },
  };
}

/** The columns of FileRows, typed, and no row (what a range without files reads). */
const NO_ROWS = `${SILVER_COLUMNS.map((c) => `NULL::${c.type} AS ${sqlIdent(c.name)}`).join(', ')} LIMIT 0`;

const where = (conditions: (string | null)[]): string => {
  const c = conditions.filter((x): x is string => x !== null);
  return c.length > 0 ? ` WHERE ${c.join(' AND ')}` : '';
};

/**
 * When the scan fails on a file whose footer was fine (a corrupt page), names the file: from DuckDB's
 * message when it has the path, else by decoding each file alone.
 */
async function culprit(db: Engine, files: { key: string; localPath: string }[], error: Error): Promise<{ key: string; detail: string } | null> {
  const named = files.find((f) => error.message.includes(f.localPath));
  if (named) return { key: named.key, detail: error.message };
  for (const f of files) {
    try {
      await db.run(`CREATE OR REPLACE TEMP TABLE _silver_probe AS SELECT * FROM read_parquet(${sqlStr(f.localPath)}, hive_partitioning = false)`);
    } catch (e) {
      return { key: f.key, detail: (e as Error).message };
    } finally {
      await db.run('DROP TABLE IF EXISTS _silver_probe');
    }
  }
  return null;
}

/**
 * The verdict of every row read, in TEMP TABLE _silver_verdicts (f: the file's index, r: its row
 * number, h: hash of event_id and event_date, rule: the first row rule broken, as a code).
 */
async function judgeRows(db: Engine, lake: Lake, rows: FileRows[], local: { key: string; localPath: string }[], runTime: Date): Promise<void> {
  const selects = rows.map(
    (x, i) => `SELECT ${i}::UINTEGER AS f, file_row_number AS r, hash(event_id, event_date) AS h, ${firstBrokenRowRuleCodeSql({ runTime, partition: x.partition })} AS rule
      FROM (SELECT file_row_number, ${x.columns} FROM ${x.source}${where([x.hours])})`,
  );
  const none = 'SELECT NULL::UINTEGER AS f, NULL::BIGINT AS r, NULL::UBIGINT AS h, NULL::UTINYINT AS rule LIMIT 0';
  try {
    await db.run(`CREATE OR REPLACE TEMP TABLE _silver_verdicts AS ${selects.length > 0 ? selects.join('\nUNION ALL ') : none}`);
  } catch (e) {
    const bad = await culprit(db, local, e as Error);
    if (bad) throw new SilverFileError(bad.key, lake.uri, bad.detail);
    throw e;
  }
}

/**
 * Reads again, in full, the rows that are quarantined or may be: those that broke a row rule, and the
 * accepted rows whose hash repeats within their date (equal ids have equal hashes, so sorting the hashes
 * finds the candidate duplicates cheaply). Judges duplicates exactly among them: all but one copy of
 * an event_id of a date become duplicate_event_id. Per date, since a copy of an event has its
 * timestamp, hence its date (rows outside their date broke a rule already): a date's verdicts do not
 * depend on the range read with it. Leaves TEMP TABLE _silver_suspects: the silver columns, f, r and
 * RULE_COLUMN (the rule's name; NULL for a kept copy).
 */
async function readSuspects(db: Engine, rows: FileRows[]): Promise<void> {
  await db.run(`CREATE OR REPLACE TEMP TABLE _silver_dup_hashes AS
    SELECT DISTINCT h FROM (SELECT h, lead(h) OVER (ORDER BY h) AS next_h FROM _silver_verdicts WHERE rule IS NULL) WHERE h = next_h`);
  await db.run(`CREATE OR REPLACE TEMP TABLE _silver_suspect_places AS
    SELECT f, r, rule FROM _silver_verdicts WHERE rule IS NOT NULL OR h IN (SELECT h FROM _silver_dup_hashes)`);
  const files = (await db.all<{ f: number }>('SELECT DISTINCT f FROM _silver_suspect_places ORDER BY f')).map((x) => x.f);
  const rule = sqlIdent(RULE_COLUMN);
  const selects = files.map((i) => `SELECT ${i}::UINTEGER AS f, file_row_number AS r, ${rows[i]!.columns} FROM ${rows[i]!.source} WHERE file_row_number IN (SELECT r FROM _silver_suspect_places WHERE f = ${i})`);
  await db.run(`CREATE OR REPLACE TEMP TABLE _silver_suspects AS
    SELECT x.*, ${ruleNameSql('p.rule')} AS ${rule} FROM (${selects.length > 0 ? selects.join('\nUNION ALL ') : `SELECT NULL::UINTEGER AS f, NULL::BIGINT AS r, ${NO_ROWS}`}) x JOIN _silver_suspect_places p USING (f, r)`);
  // Which copy is kept depends on content only (not on file or thread order).
  const order = SILVER_COLUMNS.map((c) => sqlIdent(c.name)).join(', ');
  await db.run(`UPDATE _silver_suspects SET ${rule} = ${sqlStr(DUPLICATE_EVENT_ID)} WHERE rowid IN (
    SELECT rowid FROM (SELECT rowid, row_number() OVER (PARTITION BY event_date, event_id ORDER BY ${order}) AS copy FROM _silver_suspects WHERE ${rule} IS NULL)
    WHERE copy > 1)`);
  await db.run('DROP TABLE _silver_dup_hashes; DROP TABLE _silver_suspect_places');
}

/** The TEMP TABLE of the places (f, r) of the rejected rows that the view `table` leaves out. */
const rejectedTable = (table: string): string => sqlIdent(`${table}_rejected`);

/** Drops what readSilver created under `table`: the view and its rejected rows. */
export async function dropSilverView(db: Engine, table = 'events'): Promise<void> {
  await db.run(`DROP VIEW IF EXISTS ${sqlIdent(table)}; DROP TABLE IF EXISTS ${rejectedTable(table)}`);
}

/**
 * Reads silver for [from, to] as TEMP VIEW `table` (default `events`): the accepted rows, in
 * SILVER_COLUMNS, read from the files each time the view is queried (the rejected rows' places are in
 * TEMP TABLE `<table>_rejected`; dropSilverView drops both). Bad rows are counted by rule and (for
 * whole days) written to the quarantine.
 */
export async function readSilver(db: Engine, lake: Lake, opts: SilverReadOptions): Promise<SilverReadReport> {
  validateOptions(opts);
  const table = opts.table ?? 'events';
  const runTime = opts.runTime ?? new Date();
  const quarantine = opts.quarantine ?? opts.hours === undefined;
  const range = dateRange(opts.from, opts.to);

  const missing = await missingOf(lake, range);
  if (missing.length > 0 && !opts.allowMissing) throw new SilverPartitionMissingError(missing, lake.uri);
  const dates = range.filter((d) => !missing.some((m) => m.date === d));

  const partitions: string[] = [];
  const files: SilverFile[] = [];
  for (const d of dates) {
    const r = await dateFiles(lake, d);
    partitions.push(...r.partitions);
    files.push(...r.files);
  }
  const local = await Promise.all(files.map(async (f) => ({ key: f.key, localPath: await lake.localFile(f.key) })));
  const extra = new Set<string>();
  const rows: FileRows[] = [];
  for (const [i, f] of files.entries()) rows.push(await fileRows(db, lake, f, local[i]!.localPath, opts.hours, extra));

  const rule = sqlIdent(RULE_COLUMN);
  let rowsRead: number;
  const quarantinedByRule: Record<string, number> = {};
  let quarantineKeys: string[] = [];
  try {
    await judgeRows(db, lake, rows, local, runTime);
    rowsRead = (await db.one<{ n: number }>('SELECT count(*)::BIGINT AS n FROM _silver_verdicts')).n;
    await readSuspects(db, rows);
    await db.run('DROP TABLE _silver_verdicts');
    const verdicts = await db.all<{ rule: string; rows: number }>(`SELECT ${rule} AS rule, count(*)::BIGINT AS rows FROM _silver_suspects WHERE ${rule} IS NOT NULL GROUP BY ALL`);
    for (const name of SILVER_RULE_NAMES) {
      const n = verdicts.find((v) => v.rule === name)?.rows;
      if (n) quarantinedByRule[name] = n;
    }
    if (quarantine) {
      const dir = await mkdtemp(join(tmpdir(), 'gold-quarantine-'));
      try {
        quarantineKeys = await writeQuarantine(db, lake, { table: '_silver_suspects', ruleColumn: RULE_COLUMN, dates, runTime, dir });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    await dropSilverView(db, table);
    const rejected = rejectedTable(table);
    await db.run(`CREATE TEMP TABLE ${rejected} AS SELECT f, r FROM _silver_suspects WHERE ${rule} IS NOT NULL`);
    const rejectedFiles = new Set((await db.all<{ f: number }>(`SELECT DISTINCT f FROM ${rejected}`)).map((x) => x.f));
    const view = rows.map((x, i) => `SELECT ${x.columns} FROM ${x.source}${where([x.hours, rejectedFiles.has(i) ? `file_row_number NOT IN (SELECT r FROM ${rejected} WHERE f = ${i})` : null])}`);
    await db.run(`CREATE TEMP VIEW ${sqlIdent(table)} AS ${view.length > 0 ? view.join('\nUNION ALL ') : `SELECT ${NO_ROWS}`}`);
  } finally {
    await db.run('DROP TABLE IF EXISTS _silver_verdicts; DROP TABLE IF EXISTS _silver_suspects');
  }
  const rowsQuarantined = Object.values(quarantinedByRule).reduce((a, n) => a + n, 0);

  const extraColumns = [...extra].sort();
  if (extraColumns.length > 0) logger().warn({ lake: lake.uri, from: opts.from, to: opts.to, extraColumns }, 'silver files have columns beyond the contract; ignored');
  return {
    dates,
    partitions,
    partitionsRead: partitions.length,
    files: files.map((f) => f.key),
    filesRead: files.length,
    bytesRead: files.reduce((a, f) => a + f.size, 0),
    rowsRead,
    rowsAccepted: rowsRead - rowsQuarantined,
    rowsQuarantined,
    quarantinedByRule,
    extraColumns,
    quarantineKeys,
    missing,
  };
}
