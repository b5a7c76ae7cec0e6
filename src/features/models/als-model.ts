// The embeddings model of a date: implicit ALS on the 30-day window's (user, video) interactions,
// trained once per date and stored in the lake (models/als/feature_date=D/) with its lineage and
// quality report; the user_embeddings and video_embeddings families are thin SQL over it.
// The data crosses into JavaScript here only because the ALS kernel runs on typed arrays.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBFloatType, DuckDBListValue, LIST } from '@duckdb/node-api';
import { type Engine, parquetScan, sqlStr, withEngine } from '../../engine/duckdb.js';
import { commitPartition, type Lake, paths, readManifest } from '../../lake/index.js';
import { addDays, sqlDate } from '../../shared/dates.js';
import { silverDates } from '../../silver/status.js';
import { type FeatureContext, scratchFolder } from '../context.js';
import { type AlsParams, DEFAULT_ALS_PARAMS, trainAls } from '../embeddings/als.js';
import { evaluateRanking, type RankingEvaluation } from '../embeddings/evaluation.js';
import { similarItems } from '../embeddings/similarity.js';
import { partitionLocalFiles } from '../partials/build.js';
import type { FamilyDecl } from '../types.js';

export const ALS_WINDOW_DAYS = 30;
export const SIMILAR_VIDEOS = 20;
const modelPrefix = (date: string) => paths.model('als', date);

/**
 * Raw interaction strength of a user with a video over the window: plays, completions and explicit
 * signals count, and watch time with diminishing returns.
 */
export const CONFIDENCE_SQL = `sum(play_starts) + 2 * sum(completes) + 3 * (sum(likes) + sum(shares) + sum(adds)) + ln(1 + sum(watch_seconds) / 60)`;

export interface AlsModelReport {
  date: string;
  users: number;
  videos: number;
  interactions: number;
  params: AlsParams;
  loss: number[];
  trainSeconds: number;
  warmStartedUsers: number;
  warmStartedVideos: number;
  /** Mean cosine distance between a vector and the previous date's, over ids known on both dates. */
  userDrift: number | null;
  videoDrift: number | null;
  /** The previous date's model ranking this date's plays (the day after its window), against popularity. */
  heldOut: (RankingEvaluation & { model: string; k: number }) | null;
}

export interface AlsModelResult {
  prefix: string;
  reused: boolean;
  report: AlsModelReport;
}

function windowDates(first: string, date: string): string[] {
  return Array.from({ length: ALS_WINDOW_DAYS }, (_, i) => addDays(date, -i)).filter((d) => d >= first);
}

/** What a model is trained from: the window's partials, the parameters, and the model it warm-starts from (its commit, or none). */
async function inputsFingerprint(lake: Lake, dates: string[], params: AlsParams, previousCommit: string | null): Promise<string> {
  const h = createHash('sha256')
    .update(JSON.stringify(params))
    .update(CONFIDENCE_SQL)
    .update(previousCommit ?? 'none');
  for (const d of dates) h.update((await readManifest(lake, paths.partials('user_video_day', d)))?.commitId ?? 'missing');
  return h.digest('hex').slice(0, 16);
}

/** Loads a window's interactions as the view `interactions` (user, video, dense indices, strength). */
async function loadInteractions(ctx: FeatureContext, db: Engine, dates: string[], view: string): Promise<void> {
  const files: string[] = [];
  for (const d of dates) files.push(...(await partitionLocalFiles(ctx.lake, paths.partials('user_video_day', d))));
  await db.run(`CREATE OR REPLACE TEMP TABLE ${view} AS
    WITH pairs AS (
      SELECT user_id, video_id, ${CONFIDENCE_SQL} AS strength
      FROM ${parquetScan(files)} GROUP BY user_id, video_id)
    SELECT user_id, video_id, strength,
      (dense_rank() OVER (ORDER BY user_id) - 1)::INTEGER AS u,
      (dense_rank() OVER (ORDER BY video_id) - 1)::INTEGER AS v
    FROM pairs WHERE strength > 0`);
}

/** The result's columns as arrays, one per column even when there are no rows (DuckDB gives none then). */
async function columns(db: Engine, sql: string): Promise<unknown[][]> {
  const reader = await db.conn.runAndReadAll(sql);
  const cols = reader.getColumnsJS() as unknown[][];
  return Array.from({ length: reader.columnCount }, (_, i) => cols[i] ?? []);
}

async function interactionArrays(db: Engine, table: string) {
  const [u, v, s] = await columns(db, `SELECT u, v, strength::FLOAT FROM ${table}`);
  const { n_users, n_items } = await db.one<{ n_users: number; n_items: number }>(
    `SELECT coalesce(max(u) + 1, 0)::INTEGER AS n_users, coalesce(max(v) + 1, 0)::INTEGER AS n_items FROM ${table}`,
  );
  return {
    nUsers: n_users,
    nItems: n_items,
    userIdx: Int32Array.from(u as number[]),
    itemIdx: Int32Array.from(v as number[]),
    confidence: Float32Array.from(s as number[]),
  };
}

/** Vectors of a stored model for the ids of a table, in its index space, with a known mask. */
async function alignedVectors(db: Engine, idTable: string, idCol: string, idxCol: string, n: number, f: number, file: string | undefined) {
  const factors = new Float32Array(n * f);
  const known = new Uint8Array(n);
  if (!file) return { factors, known, count: 0 };
  const [idx, vec] = await columns(
    db,
    `SELECT DISTINCT t.${idxCol}, p.vector FROM ${idTable} t JOIN read_parquet(${sqlStr(file)}) p ON p.${idCol} = t.${idCol} WHERE len(p.vector) = ${f}`,
  );
  for (let i = 0; i < idx!.length; i++) {
    const r = idx![i] as number;
    factors.set(vec![i] as number[], r * f);
    known[r] = 1;
  }
  return { factors, known, count: idx!.length };
}

async function writeVectors(
  db: Engine,
  file: string,
  table: string,
  idCol: string,
  ids: string[],
  factors: Float32Array,
  f: number,
  similar?: { neighbours: Int32Array; scores: Float32Array; k: number; videoIds: string[] },
): Promise<void> {
  await db.run(
    `CREATE OR REPLACE TEMP TABLE ${table} (${idCol} VARCHAR, vector FLOAT[]${similar ? ', similar_videos VARCHAR[], similar_scores FLOAT[]' : ''})`,
  );
  const appender = await db.conn.createAppender(table);
  const floatList = LIST(DuckDBFloatType.instance);
  for (let i = 0; i < ids.length; i++) {
    appender.appendVarchar(ids[i]!);
    appender.appendList(new DuckDBListValue(Array.from(factors.subarray(i * f, (i + 1) * f))), floatList);
    if (similar) {
      const row = Array.from(similar.neighbours.subarray(i * similar.k, (i + 1) * similar.k));
      appender.appendList(row.map((j) => similar.videoIds[j]!));
      appender.appendList(new DuckDBListValue(Array.from(similar.scores.subarray(i * similar.k, (i + 1) * similar.k))), floatList);
    }
    appender.endRow();
  }
  appender.closeSync();
  await db.run(`COPY (SELECT * FROM ${table} ORDER BY ${idCol}) TO ${sqlStr(file)} (FORMAT parquet, COMPRESSION zstd)`);
}

async function idsOf(db: Engine, table: string, idCol: string, idxCol: string): Promise<string[]> {
  const [ids] = await columns(db, `SELECT ${idCol} FROM (SELECT DISTINCT ${idCol}, ${idxCol} FROM ${table}) ORDER BY ${idxCol}`);
  return ids as string[];
}

async function modelFiles(lake: Lake, date: string): Promise<{ users: string; videos: string } | undefined> {
  const m = await readManifest(lake, modelPrefix(date));
  if (!m) return undefined;
  const files = await partitionLocalFiles(lake, modelPrefix(date));
  return { users: files[0]!, videos: files[1]! };
}

/** The quality report of the date's model (loss, held-out recall against popularity, drift), if trained. */
export async function readAlsModelReport(lake: Lake, date: string): Promise<AlsModelReport | undefined> {
  return (await readManifest(lake, modelPrefix(date)))?.meta.report as AlsModelReport | undefined;
}

/** The quality reports of the models the landed families were computed from, for the run record. */
export async function modelReports(lake: Lake, date: string, familiesLanded: readonly FamilyDecl[]): Promise<{ models?: { als: AlsModelReport } }> {
  const als = familiesLanded.some((f) => f.models?.includes('als')) ? await readAlsModelReport(lake, date) : undefined;
  return als ? { models: { als } } : {};
}

/**
 * Whether the date's model exists and was trained from the inputs there are now: its window's partials
 * and the day before's model (a model trained cold, before the day before's existed, is not).
 */
export async function alsModelCurrent(lake: Lake, date: string, params: AlsParams = DEFAULT_ALS_PARAMS): Promise<boolean> {
  const m = await readManifest(lake, modelPrefix(date));
  if (!m) return false;
  const first = (await silverDates(lake))[0] ?? date;
  const previousCommit = (await readManifest(lake, modelPrefix(addDays(date, -1))))?.commitId ?? null;
  return m.meta.fingerprint === (await inputsFingerprint(lake, windowDates(first, date), params, previousCommit));
}

/**
 * Trains (or reuses, when its inputs are unchanged) the model of a date, warm-started from the day
 * before's model when there is one. The warm start is part of its inputs: a model trained cold because
 * the day before's was not there yet is trained again once it is.
 */
export async function ensureAlsModel(ctx: FeatureContext, date: string, params: AlsParams = DEFAULT_ALS_PARAMS): Promise<AlsModelResult> {
  const first = (await silverDates(ctx.lake))[0] ?? date;
  const dates = windowDates(first, date);
  const previousCommit = (await readManifest(ctx.lake, modelPrefix(addDays(date, -1))))?.commitId ?? null;
  const fingerprint = await inputsFingerprint(ctx.lake, dates, params, previousCommit);
  const existing = await readManifest(ctx.lake, modelPrefix(date));
  if (existing && existing.meta.fingerprint === fingerprint) return { prefix: modelPrefix(date), reused: true, report: existing.meta.report as AlsModelReport };

  const dir = await scratchFolder(ctx, 'als');
  try {
    return await withEngine(ctx.engine, async (db) => {
      await loadInteractions(ctx, db, dates, 'interactions');
      const data = await interactionArrays(db, 'interactions');
      const f = params.factors;
      const previous = await modelFiles(ctx.lake, addDays(date, -1));
      const warmUsers = await alignedVectors(db, 'interactions', 'user_id', 'u', data.nUsers, f, previous?.users);
      const warmVideos = await alignedVectors(db, 'interactions', 'video_id', 'v', data.nItems, f, previous?.videos);
      const model = await trainAls(data, params, {
        userFactors: warmUsers.factors,
        userKnown: warmUsers.known,
        itemFactors: warmVideos.factors,
        itemKnown: warmVideos.known,
      });
      const userIds = await idsOf(db, 'interactions', 'user_id', 'u');
      const videoIds = await idsOf(db, 'interactions', 'video_id', 'v');
      const similar = await similarItems(model.itemFactors, data.nItems, f, SIMILAR_VIDEOS);
      const usersFile = join(dir, 'users.parquet');
      const videosFile = join(dir, 'videos.parquet');
      await writeVectors(db, usersFile, 'user_vectors', 'user_id', userIds, model.userFactors, f);
      await writeVectors(db, videosFile, 'video_vectors', 'video_id', videoIds, model.itemFactors, f, { ...similar, videoIds });

      const drift = async (file: string | undefined, current: string, idCol: string): Promise<number | null> => {
        if (!file) return null;
        const r = await db.one<{ d: number | null }>(`SELECT avg(1 - list_cosine_similarity(c.vector, p.vector)) AS d
          FROM read_parquet(${sqlStr(current)}) c JOIN read_parquet(${sqlStr(file)}) p USING (${idCol})`);
        return r.d;
      };
      const report: AlsModelReport = {
        date,
        users: data.nUsers,
        videos: data.nItems,
        interactions: data.userIdx.length,
        params,
        loss: model.loss,
        trainSeconds: model.seconds,
        warmStartedUsers: warmUsers.count,
        warmStartedVideos: warmVideos.count,
        userDrift: await drift(previous?.users, usersFile, 'user_id'),
        videoDrift: await drift(previous?.videos, videosFile, 'video_id'),
        heldOut: previous ? await evaluatePrevious(ctx, db, first, date, previous) : null,
      };
      await commitPartition(ctx.lake, modelPrefix(date), [{ localPath: usersFile }, { localPath: videosFile }], {
        fingerprint,
        files: ['users', 'videos'],
        report,
      });
      return { prefix: modelPrefix(date), reused: false, report };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Recall@10 of the previous date's model on this date's plays (the day after its window). */
async function evaluatePrevious(ctx: FeatureContext, db: Engine, first: string, date: string, previous: { users: string; videos: string }) {
  const k = 10;
  await loadInteractions(ctx, db, windowDates(first, addDays(date, -1)), 'prev_interactions');
  const train = await interactionArrays(db, 'prev_interactions');
  const f = DEFAULT_ALS_PARAMS.factors;
  const users = await alignedVectors(db, 'prev_interactions', 'user_id', 'u', train.nUsers, f, previous.users);
  const videos = await alignedVectors(db, 'prev_interactions', 'video_id', 'v', train.nItems, f, previous.videos);
  const today = await partitionLocalFiles(ctx.lake, paths.partials('user_video_day', date));
  const [hu, hv] = await columns(
    db,
    `SELECT DISTINCT pu.u, pv.v FROM ${parquetScan(today)} t
    JOIN (SELECT DISTINCT user_id, u FROM prev_interactions) pu USING (user_id)
    JOIN (SELECT DISTINCT video_id, v FROM prev_interactions) pv USING (video_id)
    WHERE t.play_starts > 0 AND t.day = ${sqlDate(date)}`,
  );
  if (hu!.length === 0) return null;
  const r = evaluateRanking({
    userFactors: users.factors,
    itemFactors: videos.factors,
    factors: f,
    nItems: train.nItems,
    train,
    heldOut: { userIdx: Int32Array.from(hu as number[]), itemIdx: Int32Array.from(hv as number[]) },
    k,
    maxUsers: 2000,
  });
  return { ...r, model: addDays(date, -1), k };
}

/** Local files of a date's model: [users, videos]. */
export async function alsModelFiles(lake: Lake, date: string): Promise<{ users: string; videos: string }> {
  const files = await modelFiles(lake, date);
  if (!files) throw new Error(`no ALS model for ${date} in lake ${lake.uri}`);
  return files;
}
