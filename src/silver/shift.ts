// Distribution shifts injected into a committed silver date, to prove that the validation gate sees a
// real change on the day it happens (the drift study, bench/drift.ts, and its test). Each rewrites the
// date's events in DuckDB and commits them like the generator does (type partitions, then the date's
// marker), so the pipeline reads them as ordinary silver:
//   - watch_time: watch_seconds x3 for a fifth of the users (by user_id hash);
//   - category_share: the date's most played category doubles its share of plays, taken from other
//     categories' videos (by video_id hash, so a video keeps one category);
//   - device_gone: every event of one device type (tablet) disappears.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EngineOptions, sqlStr, withEngine } from '../engine/duckdb.js';
import {
  COMMIT_MARKER,
  commitPartition,
  committedFiles,
  deletePartition,
  joinKey,
  type Lake,
  newCommitId,
  type PartitionManifest,
  partitionValue,
  paths,
  readManifest,
} from '../lake/index.js';
import { assertDate } from '../shared/dates.js';
import { SILVER_FILE_COLUMNS } from './contract.js';
import { SILVER_ROW_GROUP_SIZE } from './generator.js';

export const SHIFT_KINDS = ['watch_time', 'category_share', 'device_gone'] as const;
export type ShiftKind = (typeof SHIFT_KINDS)[number];

/** The device type the device_gone shift removes. */
export const GONE_DEVICE = 'tablet';

export interface ShiftReport {
  date: string;
  kind: ShiftKind;
  rowsBefore: number;
  rowsAfter: number;
  /** The category whose share doubled (category_share). */
  category?: string;
}

export async function injectShift(lake: Lake, engine: EngineOptions, date: string, kind: ShiftKind): Promise<ShiftReport> {
  assertDate(date);
  if (!SHIFT_KINDS.includes(kind)) throw new Error(`unknown shift '${kind}': expected ${SHIFT_KINDS.join(', ')}`);
  const datePrefix = paths.silverDate(date);
  const marker = await readManifest(lake, datePrefix);
  if (!marker) throw new Error(`no committed silver for ${date} in lake ${lake.uri}: nothing to shift`);
  const types = (await lake.listDirs(datePrefix)).map((d) => partitionValue(d, 'event_type')).filter((t): t is string => t !== undefined);
  const dir = await mkdtemp(join(tmpdir(), 'gold-silver-shift-'));
  try {
    return await withEngine(engine, async (db) => {
      const sources: string[] = [];
      for (const t of types) {
        const keys = await committedFiles(lake, paths.silverPartition(date, t));
        for (const k of keys ?? []) sources.push(`SELECT *, ${sqlStr(t)} AS event_type FROM read_parquet(${sqlStr(await lake.localFile(k))})`);
      }
      await db.run(`CREATE TEMP TABLE shifted_in AS ${sources.join(' UNION ALL ')}`);
      const { n: rowsBefore } = await db.one<{ n: number }>('SELECT count(*)::BIGINT AS n FROM shifted_in');
      let category: string | undefined;
      let select: string;
      if (kind === 'watch_time') {
        select = 'SELECT * REPLACE (CASE WHEN hash(user_id) % 5 = 0 THEN watch_seconds * 3 ELSE watch_seconds END AS watch_seconds) FROM shifted_in';
      } else if (kind === 'device_gone') {
        select = `SELECT * FROM shifted_in WHERE device_type IS DISTINCT FROM ${sqlStr(GONE_DEVICE)}`;
      } else {
        const top = await db.one<{ category: string; share: number }>(
          "SELECT category, count(*) / sum(count(*)) OVER () AS share FROM shifted_in WHERE event_type = 'play_start' GROUP BY category ORDER BY count(*) DESC, category LIMIT 1",
        );
        category = top.category;
        // Moving a share p of the other categories' videos to it doubles its share s: s + p (1 - s) = 2 s.
        const p = top.share / (1 - top.share);
        select = `SELECT * REPLACE (CASE WHEN category <> ${sqlStr(top.category)} AND hash(video_id) % 1000000 < ${Math.round(p * 1e6)} THEN ${sqlStr(top.category)} ELSE category END AS category) FROM shifted_in`;
      }
      await db.run(`CREATE TEMP TABLE shifted AS ${select}`);
      const { n: rowsAfter } = await db.one<{ n: number }>('SELECT count(*)::BIGINT AS n FROM shifted');
      // Readers see the date as incomplete while it is rewritten: the marker goes first, comes back last.
      await lake.delete(joinKey(datePrefix, COMMIT_MARKER));
      const files: PartitionManifest['files'] = [];
      const columns = SILVER_FILE_COLUMNS.map((c) => c.name);
      for (const t of types) {
        const rows = (await db.one<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM shifted WHERE event_type = ${sqlStr(t)}`)).n;
        if (rows === 0) {
          await deletePartition(lake, paths.silverPartition(date, t));
          continue;
        }
        const file = join(dir, `${t}.parquet`);
        await db.run(`COPY (SELECT ${columns.join(', ')} FROM shifted WHERE event_type = ${sqlStr(t)} ORDER BY event_timestamp, event_id)
          TO ${sqlStr(file)} (FORMAT parquet, PARQUET_VERSION v2, ROW_GROUP_SIZE ${SILVER_ROW_GROUP_SIZE})`);
        const m = await commitPartition(lake, paths.silverPartition(date, t), [{ localPath: file }], { ...marker.meta, rows, shift: kind });
        files.push(...m.files.map((f) => ({ name: `event_type=${t}/${f.name}`, size: f.size })));
      }
      await lake.write(
        joinKey(datePrefix, COMMIT_MARKER),
        JSON.stringify({ commitId: newCommitId(), committedAt: new Date().toISOString(), files, meta: { ...marker.meta, shift: kind } }, null, 1),
      );
      return { date, kind, rowsBefore, rowsAfter, ...(category ? { category } : {}) };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
