// Building the daily partials of a date from its silver, and folding the history states forward.
// Each committed partial records its lineage (the silver it was read from, the inputs of a history
// state, a hash of its SQL), so that a change of silver or of a definition is detected and everything
// downstream of it is recomputed, and nothing else.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Engine, parquetScan, sqlStr, withEngine } from '../../engine/duckdb.js';
import { commitPartition, committedFiles, type Lake, paths, readManifest } from '../../lake/index.js';
import { addDays, assertDate, sqlDate } from '../../shared/dates.js';
import { mapLimit } from '../../shared/map-limit.js';
import { SILVER_COLUMNS } from '../../silver/contract.js';
import { dropSilverView, readSilver, type SilverReadReport, silverQueryError } from '../../silver/reader.js';
import { firstBrokenRowRuleSql } from '../../silver/rules.js';
import { silverDates } from '../../silver/status.js';
import { type FeatureContext, scratchFolder } from '../context.js';
import {
  DAILY_PARTIALS,
  type DailyPartialName,
  HISTORY_PARTIALS,
  type HistoryPartialName,
  LINK_PARTIALS,
  type LinkPartialName,
  leavingLengths,
  type WindowPartialName,
  windowFoldSql,
} from './definitions.js';
import { partialSql, windowPartial, windowPartialNames } from './windows.js';

export class SilverGapError extends Error {
  override name = 'SilverGapError';
  readonly nonRetryable = true;
  readonly type = 'SilverGap';
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);
// A daily partial depends on its SQL and on which rows silver accepts: a change of either recomputes it.
const SILVER_RULES_TEXT = `${SILVER_COLUMNS.map((c) => `${c.name} ${c.type}`).join(',')}|${firstBrokenRowRuleSql({ runTime: new Date(0) })}`;
const dailySqlHash = (n: DailyPartialName): string => sha(`${DAILY_PARTIALS[n].sql}\n${SILVER_RULES_TEXT}`);
const historySqlHash = (n: HistoryPartialName): string => sha(HISTORY_PARTIALS[n].sql);
const linkSqlHash = (n: LinkPartialName): string => sha(partialSql(n));
const windowSqlHash = (n: WindowPartialName): string => sha(partialSql(n));

/** Identifies a date's silver content: changes when any of its files or markers change, even rewritten at the same size. */
export async function silverFingerprint(lake: Lake, date: string): Promise<string> {
  const entries = await lake.list(paths.silverDate(date));
  return sha(entries.map((e) => `${e.key}:${e.size}:${e.version}`).join('\n'));
}

export interface PartialsDayReport {
  date: string;
  /** The silver read when the daily partials were (re)computed; absent when they were up to date. */
  silver?: SilverReadReport;
  dailyComputed: boolean;
  historyComputed: boolean;
  windowsComputed: boolean;
  linksComputed: boolean;
  rows: Record<string, number>;
  seconds: number;
}

async function commitQuery(
  db: Engine,
  lake: Lake,
  dir: string,
  prefix: string,
  sql: string,
  meta: Record<string, unknown>,
): Promise<{ rows: number; commitId: string }> {
  const file = join(dir, `${prefix.replace(/[^A-Za-z0-9]+/g, '_')}.parquet`);
  await db.run(`COPY (${sql}) TO ${sqlStr(file)} (FORMAT parquet, COMPRESSION zstd)`);
  const { rows } = await db.one<{ rows: number }>(`SELECT count(*)::BIGINT AS rows FROM read_parquet(${sqlStr(file)})`);
  const m = await commitPartition(lake, prefix, [{ localPath: file }], { ...meta, rows });
  return { rows, commitId: m.commitId };
}

async function dailyUpToDate(lake: Lake, date: string, fingerprint: string): Promise<boolean> {
  for (const name of Object.keys(DAILY_PARTIALS) as DailyPartialName[]) {
    const m = await readManifest(lake, paths.partials(name, date));
    if (!m || m.meta.silverFingerprint !== fingerprint || m.meta.sqlHash !== dailySqlHash(name)) return false;
    // Rows in the future of the run that read them may not be any more: each run judges them again.
    if (typeof m.meta.futureRows === 'number' && m.meta.futureRows > 0) return false;
  }
  return true;
}

/**
 * The first silver date up to `upTo` whose daily partials are behind its silver (late or restated
 * data, changed rules), or null: every date from it on needs computing again, since history states
 * fold forward. Dates are checked several at a time.
 */
export async function firstStaleDate(lake: Lake, upTo: string): Promise<string | null> {
  const dates = (await silverDates(lake)).filter((d) => d <= upTo);
  const upToDate = await mapLimit(dates, 16, async (d) => dailyUpToDate(lake, d, await silverFingerprint(lake, d)));
  return dates.find((_, i) => !upToDate[i]) ?? null;
}

async function commitIdOf(lake: Lake, prefix: string): Promise<string | null> {
  return (await readManifest(lake, prefix))?.commitId ?? null;
}

/**
 * Commit ids of daily partials, read once per ensurePartials call: each date's links look back over 29
 * dates' partials, which would otherwise be read again for every date (a request each on S3).
 */
class CommitIds {
  private readonly known = new Map<string, Promise<string | null>>();
  constructor(private readonly lake: Lake) {}
  of(prefix: string): Promise<string | null> {
    let id = this.known.get(prefix);
    if (!id) this.known.set(prefix, (id = commitIdOf(this.lake, prefix)));
    return id;
  }
  committed(prefix: string, commitId: string): void {
    this.known.set(prefix, Promise.resolve(commitId));
  }
}

async function historyUpToDate(lake: Lake, date: string, previousDate: string | null): Promise<boolean> {
  for (const name of Object.keys(HISTORY_PARTIALS) as HistoryPartialName[]) {
    const m = await readManifest(lake, paths.partials(name, date));
    if (!m || m.meta.sqlHash !== historySqlHash(name)) return false;
    const inputs = m.meta.inputs as { previous: string | null; today: string } | undefined;
    const previous = previousDate ? await commitIdOf(lake, paths.partials(name, previousDate)) : null;
    const today = await commitIdOf(lake, paths.partials(HISTORY_PARTIALS[name].from, date));
    if (!inputs || inputs.previous !== previous || inputs.today !== today) return false;
  }
  return true;
}

const tagged = async (commits: CommitIds, prefix: string): Promise<string> => `${prefix}@${(await commits.of(prefix)) ?? 'missing'}`;

/** What a window state of `date` folds, as prefix@commit: the previous date's state, the date's daily partial, and those of the days leaving its windows. */
async function windowInputs(
  commits: CommitIds,
  name: WindowPartialName,
  date: string,
  previousDate: string | null,
  silver: readonly string[],
): Promise<{ previous: string | null; today: string; leaving: Record<number, string> }> {
  const w = windowPartial(name);
  const leaving: Record<number, string> = {};
  for (const days of leavingLengths(w)) {
    const d = addDays(date, -days);
    if (silver.includes(d)) leaving[days] = await tagged(commits, paths.partials(w.from, d));
  }
  return {
    previous: previousDate ? await tagged(commits, paths.partials(name, previousDate)) : null,
    today: await tagged(commits, paths.partials(w.from, date)),
    leaving,
  };
}

async function windowsUpToDate(lake: Lake, commits: CommitIds, date: string, previousDate: string | null, silver: readonly string[]): Promise<boolean> {
  for (const name of windowPartialNames()) {
    const m = await readManifest(lake, paths.partials(name, date));
    if (!m || m.meta.sqlHash !== windowSqlHash(name)) return false;
    if (JSON.stringify(m.meta.inputs) !== JSON.stringify(await windowInputs(commits, name, date, previousDate, silver))) return false;
  }
  return true;
}

/** The daily partitions a link partial of `date` reads: the date's, then the lookback days' (silver dates only), as prefix@commit. */
async function linkInputs(commits: CommitIds, name: LinkPartialName, date: string, silver: readonly string[]): Promise<{ today: string; before: string[] }> {
  const link = LINK_PARTIALS[name];
  const first = addDays(date, -link.lookbackDays);
  const before = silver.filter((d) => d >= first && d < date).map((d) => paths.partials(link.from, d));
  return { today: await tagged(commits, paths.partials(link.from, date)), before: await Promise.all(before.map((p) => tagged(commits, p))) };
}

async function linksUpToDate(lake: Lake, commits: CommitIds, date: string, silver: readonly string[]): Promise<boolean> {
  for (const name of Object.keys(LINK_PARTIALS) as LinkPartialName[]) {
    const m = await readManifest(lake, paths.partials(name, date));
    if (!m || m.meta.sqlHash !== linkSqlHash(name)) return false;
    if (JSON.stringify(m.meta.inputs) !== JSON.stringify(await linkInputs(commits, name, date, silver))) return false;
  }
  return true;
}

async function localFiles(lake: Lake, prefix: string): Promise<string[]> {
  const keys = await committedFiles(lake, prefix);
  if (!keys) throw new Error(`partition not committed: ${lake.uri}/${prefix}`);
  return Promise.all(keys.map((k) => lake.localFile(k)));
}

/** A temp view over a committed partition's files. */
async function partitionView(db: Engine, lake: Lake, view: string, prefix: string): Promise<void> {
  await db.run(`CREATE OR REPLACE TEMP VIEW ${view} AS SELECT * FROM ${parquetScan(await localFiles(lake, prefix))}`);
}

async function buildDaily(
  ctx: FeatureContext,
  db: Engine,
  dir: string,
  commits: CommitIds,
  date: string,
  fingerprint: string,
  runTime: Date | undefined,
): Promise<{ silver: SilverReadReport; rows: Record<string, number> }> {
  const silver = await readSilver(db, ctx.lake, { from: date, to: date, runTime, table: 'events' });
  const rows: Record<string, number> = {};
  for (const [name, p] of Object.entries(DAILY_PARTIALS) as [DailyPartialName, (typeof DAILY_PARTIALS)[DailyPartialName]][]) {
    // `events` reads the silver files at each query: asking for them again keeps an S3 lake's cache from
    // evicting them during a long day (and fetches back, to the same path, any it did evict).
    await Promise.all(silver.files.map((k) => ctx.lake.localFile(k)));
    const r = await commitQuery(db, ctx.lake, dir, paths.partials(name, date), `SELECT ${sqlDate(date)} AS day, * FROM (${p.sql}) ORDER BY ALL`, {
      silverFingerprint: fingerprint,
      sqlHash: dailySqlHash(name),
      silverRowsAccepted: silver.rowsAccepted,
      futureRows: silver.quarantinedByRule.timestamp_in_future ?? 0,
    }).catch(async (e: unknown) => {
      throw await silverQueryError(db, ctx.lake, silver, e);
    });
    commits.committed(paths.partials(name, date), r.commitId);
    rows[name] = r.rows;
  }
  await dropSilverView(db, 'events');
  return { silver, rows };
}

async function buildHistory(ctx: FeatureContext, db: Engine, dir: string, date: string, previousDate: string | null): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  for (const [name, h] of Object.entries(HISTORY_PARTIALS) as [HistoryPartialName, (typeof HISTORY_PARTIALS)[HistoryPartialName]][]) {
    const todayPrefix = paths.partials(h.from, date);
    await partitionView(db, ctx.lake, 'today', todayPrefix);
    if (previousDate) {
      await partitionView(db, ctx.lake, 'previous', paths.partials(name, previousDate));
    } else {
      await db.run(`CREATE OR REPLACE TEMP VIEW previous AS SELECT * EXCLUDE (day) FROM today LIMIT 0`);
    }
    const r = await commitQuery(db, ctx.lake, dir, paths.partials(name, date), `SELECT ${sqlDate(date)} AS day, * FROM (${h.sql}) ORDER BY ALL`, {
      sqlHash: historySqlHash(name),
      inputs: {
        previous: previousDate ? await commitIdOf(ctx.lake, paths.partials(name, previousDate)) : null,
        today: await commitIdOf(ctx.lake, todayPrefix),
      },
    });
    rows[name] = r.rows;
  }
  return rows;
}

const prefixOf = (tag: string): string => tag.slice(0, tag.lastIndexOf('@'));

async function buildWindows(
  ctx: FeatureContext,
  db: Engine,
  dir: string,
  commits: CommitIds,
  date: string,
  previousDate: string | null,
  silver: readonly string[],
): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  for (const name of windowPartialNames()) {
    const w = windowPartial(name);
    const inputs = await windowInputs(commits, name, date, previousDate, silver);
    await partitionView(db, ctx.lake, 'today', prefixOf(inputs.today));
    for (const [days, tag] of Object.entries(inputs.leaving)) await partitionView(db, ctx.lake, `leaving_${days}`, prefixOf(tag));
    if (inputs.previous) await partitionView(db, ctx.lake, 'previous', prefixOf(inputs.previous));
    const sql = windowFoldSql(w, { previous: inputs.previous !== null, leaving: Object.keys(inputs.leaving).map(Number) });
    const r = await commitQuery(db, ctx.lake, dir, paths.partials(name, date), `SELECT ${sqlDate(date)} AS day, * FROM (${sql}) ORDER BY ALL`, {
      sqlHash: windowSqlHash(name),
      inputs,
    });
    commits.committed(paths.partials(name, date), r.commitId);
    rows[name] = r.rows;
  }
  return rows;
}

async function buildLinks(
  ctx: FeatureContext,
  db: Engine,
  dir: string,
  commits: CommitIds,
  date: string,
  silver: readonly string[],
): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  // Pairs computed for this date, by what they are computed from: link partials with the same pairs share them.
  const pairsTables = new Map<string, string>();
  try {
    for (const [name, link] of Object.entries(LINK_PARTIALS) as [LinkPartialName, (typeof LINK_PARTIALS)[LinkPartialName]][]) {
      const inputs = await linkInputs(commits, name, date, silver);
      const pairsKey = `${link.from}\n${link.lookbackDays}\n${link.pairs}`;
      let table = pairsTables.get(pairsKey);
      if (!table) {
        await partitionView(db, ctx.lake, 'today', prefixOf(inputs.today));
        const beforeFiles = (await mapLimit(inputs.before, 16, (tag) => localFiles(ctx.lake, prefixOf(tag)))).flat();
        await db.run(
          `CREATE OR REPLACE TEMP VIEW before AS ${beforeFiles.length > 0 ? `SELECT * FROM ${parquetScan(beforeFiles)}` : 'SELECT * FROM today LIMIT 0'}`,
        );
        table = `pairs_${pairsTables.size}`;
        await db.run(`CREATE OR REPLACE TEMP TABLE ${table} AS ${link.pairs}`);
        pairsTables.set(pairsKey, table);
      }
      await db.run(`CREATE OR REPLACE TEMP VIEW pairs AS SELECT * FROM ${table}`);
      const r = await commitQuery(db, ctx.lake, dir, paths.partials(name, date), `SELECT ${sqlDate(date)} AS day, * FROM (${link.sql}) ORDER BY ALL`, {
        sqlHash: linkSqlHash(name),
        inputs,
      });
      rows[name] = r.rows;
    }
  } finally {
    for (const table of pairsTables.values()) await db.run(`DROP TABLE IF EXISTS ${table}`);
  }
  return rows;
}

export interface EnsurePartialsOptions {
  /** The run's time, for the silver rule against timestamps in the future. */
  runTime?: Date;
  onDay?: (r: PartialsDayReport) => void;
}

/**
 * Makes the partials of every silver date up to `date` exist and be current, oldest first (history
 * states fold forward), recomputing only what is missing or stale. Silver must be contiguous from its
 * first date to `date`: a gap would silently shorten windows, so it is an error naming the dates.
 */
export async function ensurePartials(ctx: FeatureContext, date: string, opts: EnsurePartialsOptions = {}): Promise<PartialsDayReport[]> {
  assertDate(date);
  const all = await silverDates(ctx.lake);
  const dates = all.filter((d) => d <= date);
  if (dates.length === 0 || dates[dates.length - 1] !== date) {
    throw new SilverGapError(`no silver for ${date} in lake ${ctx.lake.uri} (silver dates: ${all.length ? `${all[0]}..${all[all.length - 1]}` : 'none'})`);
  }
  const gaps: string[] = [];
  for (let d = dates[0]!, i = 0; d <= date; d = addDays(d, 1)) {
    if (dates[i] === d) i++;
    else gaps.push(d);
  }
  if (gaps.length > 0)
    throw new SilverGapError(`silver is missing for ${gaps.length} date(s) before ${date}: ${gaps.slice(0, 10).join(', ')}${gaps.length > 10 ? ', ...' : ''}`);

  const reports: PartialsDayReport[] = [];
  const commits = new CommitIds(ctx.lake);
  const dir = await scratchFolder(ctx, 'partials');
  try {
    await withEngine(ctx.engine, async (db) => {
      for (const [i, d] of dates.entries()) {
        const t0 = Date.now();
        const previous = i > 0 ? dates[i - 1]! : null;
        const fingerprint = await silverFingerprint(ctx.lake, d);
        const report: PartialsDayReport = {
          date: d,
          dailyComputed: false,
          historyComputed: false,
          windowsComputed: false,
          linksComputed: false,
          rows: {},
          seconds: 0,
        };
        if (!(await dailyUpToDate(ctx.lake, d, fingerprint))) {
          const r = await buildDaily(ctx, db, dir, commits, d, fingerprint, opts.runTime);
          report.silver = r.silver;
          report.rows = r.rows;
          report.dailyComputed = true;
        }
        if (report.dailyComputed || !(await historyUpToDate(ctx.lake, d, previous))) {
          Object.assign(report.rows, await buildHistory(ctx, db, dir, d, previous));
          report.historyComputed = true;
        }
        if (report.dailyComputed || !(await windowsUpToDate(ctx.lake, commits, d, previous, dates))) {
          Object.assign(report.rows, await buildWindows(ctx, db, dir, commits, d, previous, dates));
          report.windowsComputed = true;
        }
        // A link reads the lookback days' partials too: a change of any of them (recomputed above, oldest first) shows in its inputs.
        if (report.dailyComputed || !(await linksUpToDate(ctx.lake, commits, d, dates))) {
          Object.assign(report.rows, await buildLinks(ctx, db, dir, commits, d, dates));
          report.linksComputed = true;
        }
        report.seconds = (Date.now() - t0) / 1000;
        if (report.dailyComputed || report.historyComputed || report.windowsComputed || report.linksComputed) {
          reports.push(report);
          opts.onDay?.(report);
        }
      }
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return reports;
}

export { localFiles as partitionLocalFiles };
