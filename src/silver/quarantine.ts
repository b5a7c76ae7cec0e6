// The quarantine: silver rows that broke a rule, kept in the lake per date with the rule (the first
// one broken, and all of them) and the time of the run that found them. A date's quarantine is one
// partition, replaced whole each time the date is read, so that reading twice quarantines once.
import { join } from 'node:path';
import { type Engine, sqlIdent, sqlStr } from '../engine/duckdb.js';
import { commitPartition, deletePartition, joinKey, type Lake, paths, readManifest } from '../lake/index.js';
import { SILVER_COLUMNS } from './contract.js';
import { brokenRowRulesSql, DUPLICATE_EVENT_ID, sqlTimestamp } from './rules.js';

export interface QuarantineWrite {
  /** Table of rows with their rule column: those with a rule are quarantined (the others, kept copies, are not). */
  table: string;
  ruleColumn: string;
  /** Every date read: each gets its quarantine replaced (removed when it has no bad row any more). */
  dates: string[];
  runTime: Date;
  /** A local folder for the files before upload. */
  dir: string;
}

/** Columns of a quarantine file: the silver columns, then rule, rules and run_time. */
export function quarantineSelect(w: Pick<QuarantineWrite, 'ruleColumn' | 'runTime'>): string {
  const rule = sqlIdent(w.ruleColumn);
  return `${SILVER_COLUMNS.map((c) => sqlIdent(c.name)).join(', ')},
    ${rule} AS rule,
    CASE WHEN ${rule} = ${sqlStr(DUPLICATE_EVENT_ID)} THEN [${sqlStr(DUPLICATE_EVENT_ID)}] ELSE ${brokenRowRulesSql({ runTime: w.runTime })} END AS rules,
    ${sqlTimestamp(w.runTime)} AS run_time`;
}

/** Writes each date's quarantined rows; returns the lake keys of the files written. */
export async function writeQuarantine(db: Engine, lake: Lake, w: QuarantineWrite): Promise<string[]> {
  const counts = await db.all<{ d: string; rows: number }>(
    `SELECT strftime(event_date, '%Y-%m-%d') AS d, count(*)::BIGINT AS rows FROM ${sqlIdent(w.table)} WHERE ${sqlIdent(w.ruleColumn)} IS NOT NULL GROUP BY ALL`,
  );
  const rowsByDate = new Map(counts.map((c) => [c.d, c.rows]));
  const keys: string[] = [];
  for (const date of w.dates) {
    const prefix = paths.quarantine(date);
    const rows = rowsByDate.get(date) ?? 0;
    if (rows === 0) {
      if (await readManifest(lake, prefix)) await deletePartition(lake, prefix);
      continue;
    }
    const file = join(w.dir, `quarantine-${date}.parquet`);
    await db.run(`COPY (SELECT ${quarantineSelect(w)} FROM ${sqlIdent(w.table)}
        WHERE ${sqlIdent(w.ruleColumn)} IS NOT NULL AND event_date = DATE ${sqlStr(date)} ORDER BY event_timestamp, event_id)
      TO ${sqlStr(file)} (FORMAT parquet, COMPRESSION zstd)`);
    const manifest = await commitPartition(lake, prefix, [{ localPath: file }], { rows, runTime: w.runTime.toISOString() });
    keys.push(...manifest.files.map((f) => joinKey(prefix, f.name)));
  }
  return keys;
}
