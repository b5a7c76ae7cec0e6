// Reading silver for a date range as a DuckDB view of the accepted rows, with validation and quarantine.
//
// Only the range's `event_date=` folders are touched (partition pruning); inside a complete date
// (its _SUCCESS present), each `event_type=` folder's committed files are read: the ones its manifest
// lists, or, under an upstream writer's empty marker or no marker, every Parquet file in it. An hour
// range becomes a filter on event_timestamp that DuckDB pushes into the Parquet scan, where row-group
// statistics skip the groups outside it (files are sorted by event_timestamp).
//
// Validation copies no rows. The rows that may be rejected are found by their place (file, row
// number): those that break a row rule, by one filter per condition of each rule, which the Parquet
// scan checks against each row group's statistics and dictionaries before decoding anything (a clean
// day decodes almost nothing for them); and the candidate duplicates, by sorting a 64-bit hash of
// every row's (event_id, event_date), the one column decoded in full. Only those rows are read again
// in full, to judge them exactly and to quarantine. The accepted rows are then a view over the files
// that leaves out the rejected places. Rows read = rows accepted + rows quarantined, by construction:
// every row read gets exactly one verdict. Statistics are trusted, as every Parquet query engine does;
// a corrupt page that no check had to decode is named when a query of the view reads it
// (silverQueryError).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentCancellation } from '../engine/cancellation.js';
import { type Engine, sqlIdent, sqlStr } from '../engine/duckdb.js';
import { COMMIT_MARKER, CorruptManifestError, joinKey, type Lake, type PartitionManifest, partitionValue, paths, readManifest } from '../lake/index.js';
import { assertDate, dateRange } from '../shared/dates.js';
import { logger } from '../shared/logger.js';
import { SILVER_COLUMNS, SILVER_FILE_COLUMNS } from './contract.js';
import { type MissingPartition, SilverFileError, SilverPartitionMissingError, SilverSchemaError } from './errors.js';
import { writeQuarantine } from './quarantine.js';
import { brokenRowConditionsSql, DUPLICATE_EVENT_ID, firstBrokenRowRuleSql, SILVER_RULE_NAMES } from './rules.js';

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
  /** Complete dates with no file to read (also logged as a warning). */
  emptyDates: string[];
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
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b > 24 || a >= b)
      throw new RangeError(`invalid hour range [${a}, ${b}): expected whole hours 0 <= start < end <= 24`);
    if (o.quarantine)
      throw new RangeError("quarantine needs whole days: a date's quarantine is replaced on each read, so an hour range would drop the other hours' bad rows");
  }
}

/** A partition's row count as its manifest states it, to check against its files. */
interface RowClaim {
  marker: string;
  rows: number;
  keys: string[];
}

/** Characters that DuckDB would read as a glob (or that no file name of a writer holds): a name with one is refused, not expanded. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what the check refuses
const UNSAFE_NAME = /[*?[\]{}\x00-\x1f\x7f]/;

/** The manifest at prefix; a marker that does not parse, or lists what cannot be, is bad input naming it. */
async function checkedManifest(lake: Lake, prefix: string): Promise<PartitionManifest | null> {
  const marker = joinKey(prefix, COMMIT_MARKER);
  let manifest: PartitionManifest | null;
  try {
    manifest = await readManifest(lake, prefix);
  } catch (e) {
    // Anything else (I/O) may pass on a retry.
    if (e instanceof CorruptManifestError) throw new SilverFileError(marker, lake.uri, e.message);
    throw e;
  }
  const unsafe = manifest?.files.find((f) => UNSAFE_NAME.test(f.name));
  if (unsafe) throw new SilverFileError(marker, lake.uri, `lists ${JSON.stringify(unsafe.name)}: glob or control characters are not allowed in file names`);
  return manifest;
}

/**
 * The committed files of one complete date, by event_type folder, each checked against the lake: a
 * listed file must be there at its listed size, and a type that the date's marker lists files for
 * must not have a manifest listing none.
 */
async function dateFiles(lake: Lake, date: string): Promise<{ partitions: string[]; files: SilverFile[]; claims: RowClaim[] }> {
  const datePrefix = paths.silverDate(date);
  const dateManifest = await checkedManifest(lake, datePrefix);
  // An upstream writer's empty marker says nothing about the types.
  const listedPerType = new Map<string, number>();
  if (dateManifest && dateManifest.commitId !== 'external') {
    for (const f of dateManifest.files) {
      const dir = f.name.split('/')[0]!;
      listedPerType.set(dir, (listedPerType.get(dir) ?? 0) + 1);
    }
  }
  const partitions: string[] = [];
  const files: SilverFile[] = [];
  const claims: RowClaim[] = [];
  for (const dir of await lake.listDirs(datePrefix)) {
    const eventType = partitionValue(dir, 'event_type');
    if (eventType === undefined) continue;
    const prefix = joinKey(datePrefix, dir);
    const marker = joinKey(prefix, COMMIT_MARKER);
    const manifest = await checkedManifest(lake, prefix);
    const inLake = new Map((await lake.list(prefix)).filter((e) => !e.key.slice(prefix.length + 1).includes('/')).map((e) => [e.key, e.size]));
    let entries: { key: string; size: number }[];
    if (manifest) {
      const expected = listedPerType.get(dir) ?? 0;
      if (manifest.files.length === 0 && expected > 0)
        throw new SilverFileError(marker, lake.uri, `lists no files, while the date's marker lists ${expected} in ${dir}`);
      entries = manifest.files.map((f) => {
        const key = joinKey(prefix, f.name);
        const size = inLake.get(key);
        if (size === undefined) throw new SilverFileError(key, lake.uri, `listed in ${marker} but not in the lake`);
        if (size !== f.size) throw new SilverFileError(key, lake.uri, `is ${size} bytes, ${marker} says ${f.size}`);
        return { key, size };
      });
      if (typeof manifest.meta.rows === 'number') claims.push({ marker, rows: manifest.meta.rows, keys: entries.map((e) => e.key) });
    } else {
      // No marker in the type folder: the date's marker vouches for what is in it.
      entries = [...inLake].filter(([key]) => key.endsWith('.parquet')).map(([key, size]) => ({ key, size }));
      const unsafe = entries.find((e) => UNSAFE_NAME.test(e.key));
      if (unsafe) throw new SilverFileError(unsafe.key, lake.uri, 'glob or control characters are not allowed in file names');
    }
    partitions.push(prefix);
    files.push(...entries.map((e) => ({ ...e, date, eventType })));
  }
  return { partitions, files, claims };
}

/** Each manifest's row count against its files' Parquet footers. */
async function checkRowClaims(db: Engine, lake: Lake, claims: RowClaim[], localPath: Map<string, string>): Promise<void> {
  for (const c of claims) {
    let rows = 0;
    for (const key of c.keys) {
      try {
        rows += (await db.one<{ n: number }>(`SELECT num_rows::BIGINT AS n FROM parquet_file_metadata(${sqlStr(localPath.get(key)!)})`)).n;
      } catch (e) {
        throw new SilverFileError(key, lake.uri, (e as Error).message);
      }
    }
    if (rows !== c.rows) throw new SilverFileError(c.marker, lake.uri, `says ${c.rows} rows, its files hold ${rows}`);
  }
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
      // Hashing every value decodes every page (statistics cannot answer it), and keeps nothing.
      await db.run(`SELECT bit_xor(hash(COLUMNS(*))) FROM read_parquet(${sqlStr(f.localPath)}, hive_partitioning = false)`);
    } catch (e) {
      return { key: f.key, detail: (e as Error).message };
    }
  }
  return null;
}

/** The error to raise for one that came from reading files: a SilverFileError when one of them does not decode, else itself. */
async function fileErrorOf(db: Engine, lake: Lake, files: { key: string; localPath: string }[], error: unknown): Promise<unknown> {
  if (!(error instanceof Error) || currentCancellation()?.aborted) return error;
  const bad = await culprit(db, files, error);
  return bad ? new SilverFileError(bad.key, lake.uri, bad.detail) : error;
}

/** Runs fn; when it fails and one of the files does not decode, throws a SilverFileError that names it. */
async function namingBadFile<T>(db: Engine, lake: Lake, files: { key: string; localPath: string }[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw await fileErrorOf(db, lake, files, e);
  }
}

/**
 * The error to raise when a query of the view of `report` failed: a SilverFileError when one of its
 * files does not decode, else the error itself. The read decodes only what its checks need, so a
 * corrupt page in a row group that no check had to look at is found by the first query that reads it.
 */
export async function silverQueryError(db: Engine, lake: Lake, report: SilverReadReport, error: unknown): Promise<unknown> {
  const files = await Promise.all(report.files.map(async (key) => ({ key, localPath: await lake.localFile(key) })));
  return fileErrorOf(db, lake, files, error);
}

/**
 * Finds the places (f: the file's index, r: its row number) of the rows that may be rejected, in TEMP
 * TABLE _silver_suspect_places, and returns the number of rows read. Suspects are the rows that break
 * some row rule, found by one filter per condition of each rule (the Parquet scan decodes only the
 * row groups whose statistics allow a row to meet it), and the rows whose hash of (event_id,
 * event_date) repeats in the range: equal ids have equal hashes, so sorting the hashes of every row,
 * the one pass that decodes a column of every row, finds the candidate duplicates.
 */
async function findSuspects(db: Engine, rows: FileRows[], runTime: Date): Promise<number> {
  const select = (x: FileRows, what: string, conditions: (string | null)[]): string =>
    `SELECT ${what} FROM (SELECT file_row_number, ${x.columns} FROM ${x.source}${where([x.hours])})${where(conditions)}`;
  const union = (selects: string[], none: string): string => (selects.length > 0 ? selects.join('\nUNION ALL ') : none);
  const { n } = await db.one<{ n: number }>(
    `SELECT count(*)::BIGINT AS n FROM (${union(
      rows.map((x) => select(x, '1', [])),
      'SELECT 1 LIMIT 0',
    )})`,
  );
  await db.run(`CREATE OR REPLACE TEMP TABLE _silver_dup_hashes AS
    SELECT DISTINCT h FROM (SELECT h, lead(h) OVER (ORDER BY h) AS next_h FROM (${union(
      rows.map((x) => select(x, 'hash(event_id, event_date) AS h', [])),
      'SELECT NULL::UBIGINT AS h LIMIT 0',
    )}))
    WHERE h = next_h`);
  const hasDuplicates = (await db.one<{ n: number }>('SELECT count(*)::BIGINT AS n FROM _silver_dup_hashes')).n > 0;
  const place = (i: number): string => `${i}::UINTEGER AS f, file_row_number AS r`;
  const broken = rows.flatMap((x, i) => brokenRowConditionsSql({ runTime, partition: x.partition }).map((c) => select(x, place(i), [c])));
  const repeated = hasDuplicates ? rows.map((x, i) => select(x, place(i), ['hash(event_id, event_date) IN (SELECT h FROM _silver_dup_hashes)'])) : [];
  await db.run(`CREATE OR REPLACE TEMP TABLE _silver_suspect_places AS
    SELECT DISTINCT f, r FROM (${union([...broken, ...repeated], 'SELECT NULL::UINTEGER AS f, NULL::BIGINT AS r LIMIT 0')})`);
  await db.run('DROP TABLE _silver_dup_hashes');
  return n;
}

/**
 * Reads the suspects again, in full, and judges them exactly: the first row rule each breaks, then, among
 * those that break none, all but one copy of an event_id of a date become duplicate_event_id. Per date,
 * since a copy of an event has its timestamp, hence its date (rows outside their date broke a rule
 * already): a date's verdicts do not depend on the range read with it. Leaves TEMP TABLE
 * _silver_suspects: the silver columns, f, r and RULE_COLUMN (the rule's name; NULL for a kept copy).
 */
async function judgeSuspects(db: Engine, rows: FileRows[], runTime: Date): Promise<void> {
  const files = (await db.all<{ f: number }>('SELECT DISTINCT f FROM _silver_suspect_places ORDER BY f')).map((x) => x.f);
  const rule = sqlIdent(RULE_COLUMN);
  const selects = files.map((i) => {
    const x = rows[i]!;
    return `SELECT ${i}::UINTEGER AS f, file_row_number AS r, * EXCLUDE (file_row_number), ${firstBrokenRowRuleSql({ runTime, partition: x.partition })} AS ${rule}
      FROM (SELECT file_row_number, ${x.columns} FROM ${x.source} WHERE file_row_number IN (SELECT r FROM _silver_suspect_places WHERE f = ${i}))`;
  });
  await db.run(
    `CREATE OR REPLACE TEMP TABLE _silver_suspects AS ${selects.length > 0 ? selects.join('\nUNION ALL ') : `SELECT NULL::UINTEGER AS f, NULL::BIGINT AS r, *, NULL::VARCHAR AS ${rule} FROM (SELECT ${NO_ROWS})`}`,
  );
  // Which copy is kept depends on content only (not on file or thread order).
  const order = SILVER_COLUMNS.map((c) => sqlIdent(c.name)).join(', ');
  await db.run(`UPDATE _silver_suspects SET ${rule} = ${sqlStr(DUPLICATE_EVENT_ID)} WHERE rowid IN (
    SELECT rowid FROM (SELECT rowid, row_number() OVER (PARTITION BY event_date, event_id ORDER BY ${order}) AS copy FROM _silver_suspects WHERE ${rule} IS NULL)
    WHERE copy > 1)`);
  await db.run('DROP TABLE _silver_suspect_places');
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
  const claims: RowClaim[] = [];
  const emptyDates: string[] = [];
  for (const d of dates) {
    const r = await dateFiles(lake, d);
    partitions.push(...r.partitions);
    files.push(...r.files);
    claims.push(...r.claims);
    if (r.files.length === 0) emptyDates.push(d);
  }
  if (emptyDates.length > 0) logger().warn({ lake: lake.uri, emptyDates }, 'silver dates complete but without any file: no events read for them');
  const local = await Promise.all(files.map(async (f) => ({ key: f.key, localPath: await lake.localFile(f.key) })));
  await checkRowClaims(db, lake, claims, new Map(local.map((l) => [l.key, l.localPath])));
  const extra = new Set<string>();
  const rows: FileRows[] = [];
  for (const [i, f] of files.entries()) rows.push(await fileRows(db, lake, f, local[i]!.localPath, opts.hours, extra));

  const rule = sqlIdent(RULE_COLUMN);
  let rowsRead: number;
  const quarantinedByRule: Record<string, number> = {};
  let quarantineKeys: string[] = [];
  try {
    rowsRead = await namingBadFile(db, lake, local, async () => {
      const n = await findSuspects(db, rows, runTime);
      await judgeSuspects(db, rows, runTime);
      return n;
    });
    const verdicts = await db.all<{ rule: string; rows: number }>(
      `SELECT ${rule} AS rule, count(*)::BIGINT AS rows FROM _silver_suspects WHERE ${rule} IS NOT NULL GROUP BY ALL`,
    );
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
    const view = rows.map(
      (x, i) =>
        `SELECT ${x.columns} FROM ${x.source}${where([x.hours, rejectedFiles.has(i) ? `file_row_number NOT IN (SELECT r FROM ${rejected} WHERE f = ${i})` : null])}`,
    );
    await db.run(`CREATE TEMP VIEW ${sqlIdent(table)} AS ${view.length > 0 ? view.join('\nUNION ALL ') : `SELECT ${NO_ROWS}`}`);
  } finally {
    await db.run('DROP TABLE IF EXISTS _silver_dup_hashes; DROP TABLE IF EXISTS _silver_suspect_places; DROP TABLE IF EXISTS _silver_suspects');
  }
  const rowsQuarantined = Object.values(quarantinedByRule).reduce((a, n) => a + n, 0);

  const extraColumns = [...extra].sort();
  if (extraColumns.length > 0)
    logger().warn({ lake: lake.uri, from: opts.from, to: opts.to, extraColumns }, 'silver files have columns beyond the contract; ignored');
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
    emptyDates,
  };
}
