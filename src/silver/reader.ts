// Reading silver for a date range into a DuckDB table of accepted rows, with validation and quarantine.
//
// Only the range's `event_date=` folders are touched (partition pruning); inside a complete date
// (its _SUCCESS present), each `event_type=` folder's committed files are read: the ones its manifest
// lists, or, under an upstream writer's empty marker or no marker, every Parquet file in it. An hour
// range becomes a filter on event_timestamp that DuckDB pushes into the Parquet scan, where row-group
// statistics skip the groups outside it (files are sorted by event_timestamp).
//
// Validation is one scan: every row rule is one CASE evaluated while the rows are stored; duplicates
// of event_id are then found among the stored rows by sorting their 64-bit hashes (exact comparison
// only for the few colliding ids). Rows read = rows accepted + rows quarantined, by construction:
// every row read gets exactly one verdict.
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
import { DUPLICATE_EVENT_ID, firstBrokenRowRuleSql, SILVER_RULE_NAMES } from './rules.js';

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
  /** Name of the TEMP TABLE created (default `events`); replaced if it exists. */
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

/** The SELECT of one file's rows in the reader's columns (checked against the contract). */
async function fileSelect(db: Engine, lake: Lake, f: SilverFile, localPath: string, hours: [number, number] | undefined, extra: Set<string>): Promise<string> {
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
  const hourFilter = hours
    ? ` WHERE event_timestamp >= TIMESTAMP ${sqlStr(f.date)} + INTERVAL ${hours[0]} HOUR AND event_timestamp < TIMESTAMP ${sqlStr(f.date)} + INTERVAL ${hours[1]} HOUR`
    : '';
  return `SELECT ${columns.join(', ')}, ${sqlStr(f.eventType)} AS event_type, DATE ${sqlStr(f.date)} AS event_date FROM read_parquet(${sqlStr(localPath)}, hive_partitioning = false)${hourFilter}`;
}

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
 * Marks all but one copy of each event_id of a date among otherwise accepted rows as duplicate_event_id.
 * Per date: a copy of an event has its timestamp, hence its date (rows outside their date are
 * quarantined first), and a date's verdicts then do not depend on the range read with it, so the
 * daily job's one-day reads and a range read quarantine the same rows.
 */
async function markDuplicates(db: Engine, table: string): Promise<void> {
  const t = sqlIdent(table);
  const rule = sqlIdent(RULE_COLUMN);
  // Equal ids have equal hashes: sorting the hashes finds the (rare) candidates cheaply. The date is
  // folded into the hash so that one sorted column still does it.
  await db.run(`CREATE OR REPLACE TEMP TABLE _silver_dup_hashes AS
    SELECT DISTINCT h FROM (SELECT h, lead(h) OVER (ORDER BY h) AS next_h FROM (SELECT hash(event_id, event_date) AS h FROM ${t} WHERE ${rule} IS NULL)) WHERE h = next_h`);
  const { n } = await db.one<{ n: number }>('SELECT count(*)::BIGINT AS n FROM _silver_dup_hashes');
  if (n > 0) {
    // Which copy is kept depends on content only (not on file or thread order).
    const order = SILVER_COLUMNS.map((c) => sqlIdent(c.name)).join(', ');
    await db.run(`UPDATE ${t} SET ${rule} = ${sqlStr(DUPLICATE_EVENT_ID)} WHERE rowid IN (
      SELECT rowid FROM (
        SELECT rowid, row_number() OVER (PARTITION BY event_date, event_id ORDER BY ${order}) AS copy
        FROM ${t} WHERE ${rule} IS NULL AND hash(event_id, event_date) IN (SELECT h FROM _silver_dup_hashes))
      WHERE copy > 1)`);
  }
  await db.run('DROP TABLE _silver_dup_hashes');
}

/**
 * Reads silver for [from, to] into TEMP TABLE `table` (default `events`): the accepted rows, in
 * SILVER_COLUMNS. Bad rows are counted by rule and (for whole days) written to the quarantine.
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
  const selects: string[] = [];
  for (const [i, f] of files.entries()) selects.push(await fileSelect(db, lake, f, local[i]!.localPath, opts.hours, extra));

  const t = sqlIdent(table);
  const rule = sqlIdent(RULE_COLUMN);
  const schema = `${SILVER_COLUMNS.map((c) => `${sqlIdent(c.name)} ${c.type}`).join(', ')}, ${rule} VARCHAR`;
  await db.run(`CREATE OR REPLACE TEMP TABLE ${t} (${schema})`);
  if (selects.length > 0) {
    try {
      await db.run(`INSERT INTO ${t} SELECT *, ${firstBrokenRowRuleSql({ runTime })} FROM (${selects.join('\nUNION ALL ')})`);
    } catch (e) {
      const bad = await culprit(db, local, e as Error);
      await db.run(`DROP TABLE IF EXISTS ${t}`);
      if (bad) throw new SilverFileError(bad.key, lake.uri, bad.detail);
      throw e;
    }
  }
  await markDuplicates(db, table);

  const verdicts = await db.all<{ rule: string | null; rows: number }>(`SELECT ${rule} AS rule, count(*)::BIGINT AS rows FROM ${t} GROUP BY ALL`);
  const quarantinedByRule: Record<string, number> = {};
  for (const name of SILVER_RULE_NAMES) {
    const rows = verdicts.find((v) => v.rule === name)?.rows;
    if (rows) quarantinedByRule[name] = rows;
  }
  const rowsRead = verdicts.reduce((a, v) => a + v.rows, 0);
  const rowsQuarantined = verdicts.reduce((a, v) => a + (v.rule === null ? 0 : v.rows), 0);

  let quarantineKeys: string[] = [];
  if (quarantine) {
    const dir = await mkdtemp(join(tmpdir(), 'gold-quarantine-'));
    try {
      quarantineKeys = await writeQuarantine(db, lake, { table, ruleColumn: RULE_COLUMN, dates, runTime, dir });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (rowsQuarantined > 0) await db.run(`DELETE FROM ${t} WHERE ${rule} IS NOT NULL`);
  await db.run(`ALTER TABLE ${t} DROP COLUMN ${rule}`);

  const extraColumns = [...extra].sort();
  if (extraColumns.length > 0) logger().warn({ lake: lake.uri, from: opts.from, to: opts.to, extraColumns }, 'silver files have columns beyond the contract; ignored');
  return {
    dates,
    partitions,
    partitionsRead: partitions.length,
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
