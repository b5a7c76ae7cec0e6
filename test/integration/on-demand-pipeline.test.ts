// On-demand features end to end on the real pipeline: silver for three days, `gold run daily --local`
// for two dates (ALS embeddings and user features committed to gold and materialized to the embedded
// store), then a training set with on-demand features (SQL over the point-in-time joined stored
// columns and the entity rows' request columns) and the same rows through the feature server's
// request path (JavaScript over the stored values read in the same call and request_data): equal,
// doubles within 1e-12 relative, nulls (missing entities included) the same.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ON_DEMAND_FEATURES } from '../../src/features/on-demand/index.js';
import { FEATURE_SERVICES } from '../../src/features/services/index.js';
import { openLake } from '../../src/lake/index.js';
import { getHistoricalFeatures } from '../../src/offline/training-set.js';
import { openOnlineStore } from '../../src/online/open.js';
import { onlineViews } from '../../src/online/views.js';
import { LakeNormalizationSource } from '../../src/serving/normalization-parameters.js';
import { Catalog, getOnlineFeatures } from '../../src/serving/online-features.js';
import { servedFeatureServices } from '../../src/serving/view-provider.js';
import { addDays } from '../../src/shared/dates.js';
import { tempDir } from '../support/env.js';
import { pipelineFixture } from '../support/pipeline-fixture.js';

describe('on-demand features on the real pipeline', () => {
  const { home, lakeDir, D2, gold } = pipelineFixture('on-demand', 31);

  it('gives the training set the values the server computes for the same rows', async () => {
    const lake = openLake(lakeDir, { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    const engine = { threads: 1, memoryLimit: '1GB' };
    const ids = async (ref: string, key: string): Promise<string[]> => {
      const t = await getHistoricalFeatures(lake, engine, { timeRange: { from: D2, to: D2 }, features: [ref] });
      return [...new Set(t.data!.map((r) => r[key] as string))].sort();
    };
    const tops = await getHistoricalFeatures(lake, engine, { timeRange: { from: D2, to: D2 }, features: ['user_features:top_category_30d'] });
    const topOf = new Map(tops.data!.map((r) => [r.user_id as string, r.top_category_30d as string | null]));
    const users = (await ids('user_features:top_category_30d', 'user_id')).slice(0, 10);
    const videos = await ids('video_embeddings:vector', 'video_id');
    expect(users.length).toBeGreaterThan(5);
    expect(videos.length).toBeGreaterThan(5);
    const categories = ['music', 'gaming', 'news', 'sports', 'comedy', 'education', ''];
    // One user, many candidates (and a user and a video no view knows): pairs in a fixed order.
    // The candidate's category: the user's top category for some, others for the rest.
    const pairs = [...users, 'no_such_user'].flatMap((u, i) =>
      [...videos.slice(0, 6), 'no_such_video'].map((v, j) => ({ u, v, c: (i + j) % 3 === 0 ? (topOf.get(u) ?? 'music') : categories[(i + j) % 7]! })),
    );
    const entities = join(home, 'pairs.csv');
    writeFileSync(
      entities,
      ['user_id,video_id,event_timestamp,video_category', ...pairs.map((p) => `${p.u},${p.v},${addDays(D2, 1)} 00:30:00,${p.c}`)].join('\n'),
    );
    const features = ['user_features:top_category_30d', 'on_demand:user_video_cosine', 'on_demand:in_top_category', 'on_demand:request_hour_local'];
    const t = await getHistoricalFeatures(lake, engine, { entities, features, fullFeatureNames: true });
    const rows = t.data!;
    expect(t.columns).toEqual([
      'user_id',
      'video_id',
      'event_timestamp',
      'video_category',
      'user_features__top_category_30d',
      'on_demand__user_video_cosine',
      'on_demand__in_top_category',
      'on_demand__request_hour_local',
    ]);

    // A feature reading request data alone: no view read; request_time from an entity column.
    const times = join(home, 'times.csv');
    const instants = ['2024-03-31 00:30:00', '2024-03-31 01:30:00', '2024-10-27 00:30:00', '2024-10-27 01:30:00'];
    writeFileSync(times, ['event_timestamp,request_time', ...instants.map((t) => `${addDays(D2, 1)} 00:30:00,${t}`)].join('\n'));
    const local = await getHistoricalFeatures(lake, engine, { entities: times, features: ['on_demand:request_hour_local'] });
    // Paris: summer time starts 2024-03-31 01:00 UTC and ends 2024-10-27 01:00 UTC.
    expect(local.data!.map((r) => r.request_hour_local)).toEqual([1, 3, 2, 2]);
    const hourOf = ON_DEMAND_FEATURES.find((f) => f.decl.name === 'request_hour_local')!;
    expect(instants.map((t) => hourOf.evaluate({ request_time: Date.parse(`${t.replace(' ', 'T')}Z`) * 1000 }))).toEqual([1, 3, 2, 2]);

    const views = await onlineViews(lake);
    await lake.close();
    const store = openOnlineStore('embedded', home);
    try {
      const catalog = new Catalog({ views, onDemand: ON_DEMAND_FEATURES });
      const body = {
        features,
        entities: { user_id: pairs.map((p) => p.u), video_id: pairs.map((p) => p.v) },
        // The CSV's empty category is a null in DuckDB; the request sends null for it.
        request_data: { video_category: pairs.map((p) => p.c || null), request_time: pairs.map(() => `${addDays(D2, 1)}T00:30:00Z`) },
        full_feature_names: true,
      };
      const res = await getOnlineFeatures(store, catalog, body, { maxEntities: 1000 });
      expect(res.metadata.feature_names).toEqual(['user_id', 'video_id', 'user_features__top_category_30d', ...t.columns.slice(5)]);
      expect(res.results[2]!.values).toEqual(rows.map((r) => r.user_features__top_category_30d ?? null));
      for (const [k, name] of t.columns.slice(5).entries()) {
        const served = res.results[3 + k]!.values;
        rows.forEach((r, i) => {
          const a = served[i] as number | boolean | null;
          const b = (r[name] ?? null) as number | boolean | null;
          if (typeof a === 'number' && typeof b === 'number')
            expect(Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b)), `${name} row ${i}`).toBe(true);
          else expect(a, `${name} row ${i}: ${JSON.stringify(pairs[i])}`).toBe(b);
        });
      }
      const cosine = rows.map((r) => r.on_demand__user_video_cosine);
      expect(cosine.filter((x) => typeof x === 'number').length).toBeGreaterThan(pairs.length / 2);
      expect(cosine.filter((x) => x === null).length).toBeGreaterThan(0);
      expect(rows.some((r) => r.on_demand__in_top_category === true)).toBe(true);
      // Every row's request time is its event_timestamp, 00:30 UTC: 01:30 or 02:30 in Paris by the season.
      const hours = new Set(rows.map((r) => r.on_demand__request_hour_local));
      expect(hours.size).toBe(1);
      expect([1, 2]).toContain([...hours][0]);
    } finally {
      await store.close();
    }
  });

  it('gives the training set of ranking_v2 (stored, normalized and on-demand features) what the server returns for it', async () => {
    const lake = openLake(lakeDir, { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    const engine = { threads: 1, memoryLimit: '1GB' };
    const store = openOnlineStore('embedded', home);
    try {
      const of = async (ref: string, key: string) =>
        [
          ...new Set((await getHistoricalFeatures(lake, engine, { timeRange: { from: D2, to: D2 }, features: [ref] })).data!.map((r) => r[key] as string)),
        ].sort();
      const user = (await of('user_features:video_count_7d', 'user_id'))[0]!;
      // One user and every candidate video (and one no view knows), in one request.
      const videos = [...(await of('item_features:view_count_7d', 'video_id')), 'no_such_video'];
      const entities = join(home, 'ranking-v2.csv');
      writeFileSync(
        entities,
        [
          'user_id,video_id,event_timestamp,video_category',
          ...videos.map((v, i) => `${user},${v},${addDays(D2, 1)} 01:00:00,${['music', 'gaming', 'news'][i % 3]}`),
        ].join('\n'),
      );
      const t = await getHistoricalFeatures(lake, engine, { entities, featureService: 'ranking_v2', fullFeatureNames: true });
      const rows = t.data!;
      const views = await onlineViews(lake);
      const catalog = new Catalog({ views, featureServices: servedFeatureServices(FEATURE_SERVICES, views), onDemand: ON_DEMAND_FEATURES });
      const res = await getOnlineFeatures(
        store,
        catalog,
        {
          feature_service: 'ranking_v2',
          entities: { user_id: videos.map(() => user), video_id: videos },
          request_data: {
            video_category: videos.map((_, i) => ['music', 'gaming', 'news'][i % 3]),
            request_time: videos.map(() => `${addDays(D2, 1)}T01:00:00Z`),
          },
          full_feature_names: true,
        },
        { maxEntities: 1000, normalization: new LakeNormalizationSource(lake, engine) },
      );
      const names = res.metadata.feature_names.slice(2);
      expect(names).toEqual(t.columns.slice(4));
      expect(names.slice(-3)).toEqual(['on_demand__user_video_cosine', 'on_demand__in_top_category', 'on_demand__request_hour_local']);
      names.forEach((name, k) => {
        const served = res.results[2 + k]!.values;
        rows.forEach((r, i) => {
          const a = served[i] as unknown;
          const b = (r[name] ?? null) as unknown;
          if (typeof a === 'number' && typeof b === 'number')
            expect(Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b)), `${name} row ${i}`).toBe(true);
          else expect(a, `${name} row ${i}`).toEqual(b);
        });
      });
      expect(rows.filter((r) => typeof r.on_demand__user_video_cosine === 'number').length).toBeGreaterThan(videos.length / 2);
      expect(rows[rows.length - 1]!.on_demand__user_video_cosine).toBeNull();

      // The command line sends request fields as the server's request_data.
      const cli = await gold(
        '--json',
        'features',
        'online',
        '--entity',
        `user_id=${user}`,
        '--entity',
        `video_id=${videos[0]}`,
        '--features',
        'on_demand:in_top_category,user_features:top_category_30d,on_demand:user_video_cosine',
        '--request',
        `video_category=${rows[0]!.user_features__top_category_30d}`,
      );
      expect(cli.code, cli.err).toBe(0);
      const cliBody = JSON.parse(cli.out) as { metadata: { feature_names: string[] }; results: { values: unknown[] }[] };
      expect(cliBody.metadata.feature_names).toEqual([
        'user_id',
        'video_id',
        'user_features__top_category_30d',
        'on_demand__in_top_category',
        'on_demand__user_video_cosine',
      ]);
      expect(cliBody.results[3]!.values).toEqual([rows[0]!.user_features__top_category_30d === null ? null : true]);
      expect(cliBody.results[4]!.values).toEqual([res.results[res.results.length - 3]!.values[0]]);
    } finally {
      await store.close();
      await lake.close();
    }
  });
});
