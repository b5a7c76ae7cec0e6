// Normalization, offline and online, from the same parameters: gold of a toy family for three dates,
// statistical_features computed from it by the family's own SQL for the first two (the third has none),
// training sets with --normalize for entity rows at each date, and the feature server, after each
// date is materialized, for the same entities: equal values for the three methods, constant features
// (stddev 0, IQR 0), a feature without parameters, an entity whose newest online value is of an older
// date than the newest parameters; and the errors.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, sqlStr } from '../../src/engine/duckdb.js';
import { statisticalFeatures } from '../../src/features/families/statistical-features.js';
import type { FamilyDecl } from '../../src/features/types.js';
import { commitPartition, type Lake, openLake, paths } from '../../src/lake/index.js';
import { commitGold, getHistoricalFeatures, listGold, NORMALIZE_METHODS, type NormalizeMethod, TrainingSetInputError } from '../../src/offline/index.js';
import { localFiles } from '../../src/offline/lake-files.js';
import { EmbeddedOnlineStore } from '../../src/online/embedded-store.js';
import { materializeParquet } from '../../src/online/materialize.js';
import { onlineViewOf } from '../../src/online/views.js';
import { registerFamily } from '../../src/registry/index.js';
import { LakeNormalizationSource } from '../../src/serving/normalization-parameters.js';
import type { OnlineFeaturesResponse } from '../../src/serving/online-features.js';
import { createFeatureServer } from '../../src/serving/server.js';
import { addDays, sqlAsOf } from '../../src/shared/dates.js';
import { tempDir } from '../support/env.js';
import { toyFamily } from '../support/toy-family.js';

const engine = { threads: 1, memoryLimit: '1GB' };
const toy: FamilyDecl = toyFamily(
  [
    { name: 'watch', type: 'DOUBLE', description: 'varied doubles' },
    { name: 'plays', type: 'BIGINT', description: 'integers' },
    { name: 'flat', type: 'DOUBLE', description: 'constant: stddev 0, max = min, IQR 0' },
    { name: 'zeros', type: 'DOUBLE', description: 'mostly 0: IQR 0 (and constant on the second date)' },
    { name: 'unstudied', type: 'DOUBLE', description: 'left out of the statistics: no parameters' },
    { name: 'label', type: 'VARCHAR', description: 'not numeric' },
  ],
  { name: 'norm_toy', ttlSeconds: 30 * 86_400, online: true },
);
/** The statistics describe the toy family without `unstudied`. */
const studied: FamilyDecl = { ...toy, features: toy.features.filter((f) => f.name !== 'unstudied') };
const REFS = ['watch', 'plays', 'flat', 'zeros', 'unstudied', 'label'].map((f) => `norm_toy:${f}`);
const USERS = ['u0', 'u1', 'u2', 'u3', 'u4'];

const today = new Date().toISOString().slice(0, 10);
const D1 = addDays(today, -3);
const D2 = addDays(today, -2);
const D3 = addDays(today, -1);

/** Day n's rows: u4 absent on day 2. */
function toyRows(n: number): string {
  const users = n === 2 ? 4 : 5;
  return `SELECT 'u' || i AS user_id, ${n} * 10 + i * i * 1.37 + 0.1 AS watch, (${n} * 7 - i * 3)::BIGINT AS plays, 2.5 AS flat,
    CASE WHEN i = 4 THEN 9.0 ELSE 0.0 END AS zeros, i + 0.5 AS unstudied, 'a' || i AS label FROM range(${users}) t(i)`;
}

async function commitDay(db: Engine, lake: Lake, decl: FamilyDecl, date: string, select: string): Promise<void> {
  const file = join(tempDir(), 'staged.parquet');
  await db.run(
    `COPY (SELECT *, ${sqlAsOf(date)} AS feature_timestamp, ${sqlAsOf(date)} + INTERVAL 1 HOUR AS created_timestamp FROM (${select})) TO ${sqlStr(file)} (FORMAT parquet)`,
  );
  const stagingPath = paths.staging(decl.name, date, 'fixture');
  await commitPartition(lake, stagingPath, [{ localPath: file }]);
  await commitGold(lake, engine, { family: decl, date, stagingPath, runId: 'fixture', schemaVersion: 1, scratchDir: tempDir() });
}

describe('normalization offline and online', () => {
  let db: Engine;
  let lake: Lake;
  let store: EmbeddedOnlineStore;
  let app: FastifyInstance;
  let source: LakeNormalizationSource;
  const view = onlineViewOf(toy, 1);

  beforeAll(async () => {
    db = await Engine.create(engine);
    lake = openLake(tempDir(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    await registerFamily(lake, toy);
    await registerFamily(lake, statisticalFeatures);
    for (const [n, date] of [D1, D2, D3].entries()) {
      await commitDay(db, lake, toy, date, toyRows(n + 1));
      if (n === 2) continue; // no statistics for D3
      // statistical_features by its own SQL, over the day's rows of the toy family.
      await db.run(`CREATE OR REPLACE TABLE norm_toy AS ${toyRows(n + 1)}`);
      await commitDay(db, lake, statisticalFeatures, date, statisticalFeatures.sql({ date: `DATE '${date}'`, asOf: sqlAsOf(date), dependencies: [studied] }));
    }
    store = new EmbeddedOnlineStore(join(tempDir('gold-normalize-'), 'online'));
    source = new LakeNormalizationSource(lake, engine);
    app = createFeatureServer({ store, views: [view], normalization: source });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
    db.close();
    await lake.close();
  });

  async function materialize(date: string): Promise<void> {
    const [part] = await listGold(lake, 'norm_toy', { from: date, to: date });
    await materializeParquet(store, view, await localFiles(lake, part!.files), { engine });
  }

  /** The training set of every user at an hour past as_of(date). */
  async function offline(date: string, features: string[], normalize?: NormalizeMethod) {
    const at = `${sqlAsOf(date)} + INTERVAL 1 HOUR`;
    const sql = `SELECT user_id, ${at} AS event_timestamp FROM (VALUES ${USERS.map((u) => `('${u}')`).join(', ')}) t(user_id)`;
    return getHistoricalFeatures(lake, engine, { entities: { sql }, features, ...(normalize ? { normalize } : {}) });
  }

  async function online(features: string[], normalize?: NormalizeMethod) {
    const res = await app.inject({
      method: 'POST',
      url: '/get-online-features',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ features, entities: { user_id: USERS }, ...(normalize ? { normalize } : {}) }),
    });
    return res;
  }

  /** The training set's columns as the server's: one array of values per feature, entity rows in order. */
  function columns(data: Record<string, unknown>[], names: string[]): unknown[][] {
    return names.map((n) => data.map((r) => r[n] ?? null));
  }

  it('gives online the values of the training set, for each method and date', async () => {
    const names = ['watch', 'plays', 'flat', 'zeros', 'unstudied', 'label'];
    for (const date of [D1, D2]) {
      await materialize(date);
      for (const method of NORMALIZE_METHODS) {
        const set = await offline(date, REFS, method);
        expect(set.normalization).toEqual(
          ['watch', 'plays', 'flat', 'zeros', 'unstudied'].map((f) => ({
            column: f,
            feature: `norm_toy:${f}`,
            method,
            // every user has a value at both times (u4 its D1 row on D2), none with parameters
            missingParameters: f === 'unstudied' ? 5 : 0,
          })),
        );
        const res = await online(REFS, method);
        expect(res.statusCode).toBe(200);
        const body = res.json<OnlineFeaturesResponse>();
        const offlineColumns = columns(set.data!, names);
        expect(body.results.slice(1).map((c) => c.values)).toEqual(offlineColumns);
        // Constants: flat everywhere, zeros on D2 (u4 is absent) and for robust on D1 (IQR 0).
        expect(offlineColumns[2]).toEqual([0, 0, 0, 0, 0]);
        if (method === 'robust') expect(offlineColumns[3]).toEqual([0, 0, 0, 0, 0]);
        if (date === D2 && method !== 'robust') expect(offlineColumns[3]!.slice(0, 4)).toEqual([0, 0, 0, 0]);
        // No parameters: null offline; null with its own status online.
        expect(offlineColumns[4]).toEqual([null, null, null, null, null]);
        expect(body.results[5]!.statuses).toEqual(Array(5).fill('NO_NORMALIZATION_PARAMETERS'));
        expect(body.results[6]!.values).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
        // Really normalized, and with this date's parameters: values differ from the raw ones and across dates.
        expect(offlineColumns[0]!.every((v) => typeof v === 'number' && Math.abs(v) < 10)).toBe(true);
        if (date === D2) {
          // u4's newest value is of D1, normalized with D1's parameters, although D2's are the newest.
          const d1 = await offline(D1, ['norm_toy:watch'], method);
          expect(body.results[1]!.values[4]).toBe(d1.data![4]!.watch);
          expect(body.results[1]!.event_timestamps[4]).toBe(new Date(`${D2}T00:00:00Z`).toISOString());
        }
      }
    }
    // z-score by hand for one value: D1's plays are 7, 4, 1, -2, -5 (mean 1, stddev sqrt(22.5)).
    const d1 = await offline(D1, ['norm_toy:plays'], 'zscore');
    expect(d1.data!.map((r) => r.plays)).toEqual([7, 4, 1, -2, -5].map((x) => (x - 1) / Math.sqrt(22.5)));
  });

  it('normalizes per feature with view:feature:method, over the request-wide method', async () => {
    await materialize(D2);
    const refs = ['norm_toy:watch:minmax', 'norm_toy:plays', 'norm_toy:zeros:robust', 'norm_toy:flat'];
    const set = await offline(D2, refs, 'zscore');
    expect(set.normalization.map((n) => [n.column, n.method])).toEqual([
      ['watch', 'minmax'],
      ['plays', 'zscore'],
      ['zeros', 'robust'],
      ['flat', 'zscore'],
    ]);
    const body = (await online(refs, 'zscore')).json<OnlineFeaturesResponse>();
    expect(body.results.slice(1).map((c) => c.values)).toEqual(columns(set.data!, ['watch', 'plays', 'zeros', 'flat']));
    // Without a request-wide method only the suffixed refs are normalized.
    const only = await offline(D2, ['norm_toy:watch:robust', 'norm_toy:plays']);
    expect(only.normalization.map((n) => n.column)).toEqual(['watch']);
    expect(only.data!.map((r) => r.plays)).toEqual([14, 11, 8, 5, -5]); // u4: its D1 row
    const onlyOnline = (await online(['norm_toy:watch:robust', 'norm_toy:plays'])).json<OnlineFeaturesResponse>();
    expect(onlyOnline.results.slice(1).map((c) => c.values)).toEqual(columns(only.data!, ['watch', 'plays']));
  });

  it("normalizes a feature service's features as its refs declare, over HTTP as in the training set of the same refs", async () => {
    await materialize(D2);
    const refs = ['norm_toy:watch:minmax', 'norm_toy:plays', 'norm_toy:zeros:robust', 'norm_toy:label'];
    const served = createFeatureServer({ store, views: [view], featureServices: { toy_v1: refs }, normalization: source });
    try {
      const res = await served.inject({
        method: 'POST',
        url: '/get-online-features',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ feature_service: 'toy_v1', entities: { user_id: USERS } }),
      });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<OnlineFeaturesResponse>();
      expect(body.metadata.feature_names).toEqual(['user_id', 'watch', 'plays', 'zeros', 'label']);
      const set = await offline(D2, refs);
      expect(set.normalization.map((n) => [n.column, n.method])).toEqual([
        ['watch', 'minmax'],
        ['zeros', 'robust'],
      ]);
      expect(body.results.slice(1).map((c) => c.values)).toEqual(columns(set.data!, ['watch', 'plays', 'zeros', 'label']));
      expect(body.results[1]!.values.every((v) => typeof v === 'number' && v >= 0 && v <= 1)).toBe(true);
    } finally {
      await served.close();
    }
  });

  it('refuses unknown methods, non-numeric features and dates without statistics, offline and online', async () => {
    const bad = async (features: string[], normalize: string | undefined, message: RegExp, date = D2) => {
      const e = await offline(date, features, normalize as NormalizeMethod).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TrainingSetInputError);
      expect((e as Error).message).toMatch(message);
    };
    await bad(['norm_toy:label:zscore'], undefined, /cannot normalize norm_toy:label: it is VARCHAR, and only numeric features \(BIGINT, DOUBLE\)/);
    await bad(['norm_toy:watch:scale'], undefined, /feature reference 'norm_toy:watch:scale': unknown normalization "scale": expected zscore, minmax, robust/);
    await bad(['norm_toy:watch'], 'standard', /unknown normalization "standard": expected zscore, minmax, robust/);
    await bad(['norm_toy:watch', 'norm_toy:watch:zscore'], undefined, /'norm_toy:watch' is listed twice/);
    await bad(['norm_toy:watch'], 'zscore', new RegExp(`statistical_features has no gold partition for feature date\\(s\\) ${D3}`), D3);
    // A lake where statistical_features was never computed.
    const bare = openLake(tempDir(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    await registerFamily(bare, toy);
    const e = await getHistoricalFeatures(bare, engine, { timeRange: { from: D1, to: D1 }, features: ['norm_toy:watch'], normalize: 'zscore' }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(TrainingSetInputError);
    expect((e as Error).message).toMatch(
      /normalization reads its parameters from statistical_features, which cannot be read in lake .*unknown feature view 'statistical_features'/,
    );
    await bare.close();
    // Without normalization, the date without statistics is served as usual.
    expect((await offline(D3, ['norm_toy:watch'])).data![0]!.watch).toBe(30.1);

    await materialize(D2);
    const status = async (body: Record<string, unknown>, code: number, message: RegExp, server = app) => {
      const res = await server.inject({
        method: 'POST',
        url: '/get-online-features',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      expect(res.statusCode).toBe(code);
      expect(res.json<{ message: string }>().message).toMatch(message);
    };
    const entities = { user_id: USERS };
    await status({ features: ['norm_toy:watch'], entities, normalize: 'standard' }, 400, /'normalize': unknown normalization "standard"/);
    await status({ features: ['norm_toy:watch'], entities, normalize: 1 }, 400, /unknown normalization 1/);
    await status({ features: ['norm_toy:label:minmax'], entities }, 400, /cannot normalize norm_toy:label: it is VARCHAR/);
    await status({ features: ['norm_toy:watch:scale'], entities }, 400, /unknown normalization "scale"/);
    const noSource = createFeatureServer({ store, views: [view] });
    await status(
      { features: ['norm_toy:watch'], entities, normalize: 'zscore' },
      400,
      /no normalization parameters \(it was started without a lake\)/,
      noSource,
    );
    await noSource.close();
    const failing = createFeatureServer({ store, views: [view], normalization: { parameters: () => Promise.reject(new Error('lake down')) } });
    await status({ features: ['norm_toy:watch'], entities, normalize: 'zscore' }, 503, /normalization parameters unavailable/, failing);
    await failing.close();
    await materialize(D3);
    await status(
      { features: ['norm_toy:watch'], entities, normalize: 'zscore' },
      400,
      new RegExp(`normalization parameters of feature date ${D3} are missing: statistical_features has no gold partition`),
    );
    // A non-numeric feature beside a request-wide method is served as it is.
    const res = await online(['norm_toy:label'], 'zscore');
    expect(res.json<OnlineFeaturesResponse>().results[1]!.values).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
  });

  it('reads a date of parameters once, and again when its partition is recommitted', async () => {
    let now = 0;
    const s = new LakeNormalizationSource(lake, engine, { recheckMs: 1000, now: () => now });
    const first = await s.parameters(D1);
    expect(first!.get('norm_toy:plays')).toMatchObject({ mean: 1, min: -5, max: 7, p50: 1 });
    await s.parameters(D1);
    expect(s.reads).toBe(1);
    now = 2000; // past recheckMs: the manifest is read again, the file is not (same commit)
    await s.parameters(D1);
    expect(s.reads).toBe(1);
    expect(await s.parameters(D3)).toBeNull();
    // A recomputed D1 (different rows) is read again after recheckMs.
    await db.run(`CREATE OR REPLACE TABLE norm_toy AS ${toyRows(5)}`);
    await commitDay(db, lake, statisticalFeatures, D1, statisticalFeatures.sql({ date: `DATE '${D1}'`, asOf: sqlAsOf(D1), dependencies: [studied] }));
    expect((await s.parameters(D1))!.get('norm_toy:plays')!.mean).toBe(1);
    now = 4000;
    expect((await s.parameters(D1))!.get('norm_toy:plays')!.mean).toBe(29);
    expect(s.reads).toBe(2);
  });
});
