// On-demand features in the feature server's request path: computed from the stored features fetched
// in the same store call and from request_data, with missing entities reading as null.
import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../../src/features/families/index.js';
import { ON_DEMAND_FEATURES } from '../../src/features/on-demand/index.js';
import type { OnlineReadRequest, OnlineReadResult, OnlineStore } from '../../src/online/store.js';
import { onlineViewOf } from '../../src/online/views.js';
import { Catalog, FeatureRequestError, getOnlineFeatures } from '../../src/serving/online-features.js';
import { createFeatureServer } from '../../src/serving/server.js';

const views = FAMILIES.filter((f) => f.online !== false).map((f) => onlineViewOf(f, 1));
const catalog = new Catalog({ views, onDemand: ON_DEMAND_FEATURES });

/** A store holding a few rows per view, by entity key; every other key not found. */
function fakeStore(data: Record<string, Record<string, Record<string, unknown>>>): { store: OnlineStore; calls: OnlineReadRequest[][] } {
  const calls: OnlineReadRequest[][] = [];
  const store = {
    location: 'fake',
    kind: 'fake',
    read: async (reqs: OnlineReadRequest[]): Promise<OnlineReadResult[][]> => {
      calls.push(reqs);
      return reqs.map((req) =>
        req.entityKeys.map((key) => {
          const row = data[req.view.name]?.[key];
          return row
            ? { entityKey: key, status: 'present' as const, featureTimestamp: Date.UTC(2024, 0, 2), values: req.features!.map((f) => row[f] ?? null) }
            : { entityKey: key, status: 'not_found' as const, featureTimestamp: null, values: req.features!.map(() => null) };
        }),
      );
    },
  } as unknown as OnlineStore;
  return { store, calls };
}

describe('on-demand features served', () => {
  const { store, calls } = fakeStore({
    user_embeddings: { u1: { vector: [1, 0] } },
    video_embeddings: { v1: { vector: [1, 1] }, v2: { vector: [0, 2] } },
    user_features: { u1: { top_category_30d: 'music', video_count_7d: 4 } },
  });

  it('computes pair features for one user and many candidates in one store call', async () => {
    const res = await getOnlineFeatures(
      store,
      catalog,
      {
        features: ['user_features:video_count_7d', 'on_demand:user_video_cosine', 'on_demand:in_top_category', 'on_demand:request_hour_local'],
        entities: { user_id: ['u1', 'u1', 'u1'], video_id: ['v1', 'v2', 'v3'] },
        request_data: { video_category: ['music', 'news', null], request_time: ['2024-07-01T23:30:00Z', '2024-01-01T23:30:00Z', '2024-01-02T08:00:00Z'] },
      },
      { maxEntities: 1000 },
    );
    expect(calls).toHaveLength(1);
    expect(res.metadata.feature_names).toEqual(['user_id', 'video_id', 'video_count_7d', 'user_video_cosine', 'in_top_category', 'request_hour_local']);
    const [, , count, cosine, top, hour] = res.results;
    expect(count!.values).toEqual([4, 4, 4]);
    expect(cosine!.values[0]).toBeCloseTo(Math.SQRT1_2, 15);
    expect(cosine!.values[1]).toBe(0);
    // v3 has no vector: null, as the training set gives for a missing entity.
    expect(cosine!.values[2]).toBeNull();
    expect(cosine!.statuses).toEqual(['PRESENT', 'PRESENT', 'NULL_VALUE']);
    expect(top!.values).toEqual([true, false, null]);
    expect(hour!.values).toEqual([1, 0, 9]);
  });

  it('defaults request_time to the server clock and checks request_data', async () => {
    const now = Date.UTC(2024, 6, 1, 10, 0);
    const res = await getOnlineFeatures(store, catalog, { features: ['on_demand:request_hour_local'], entities: {} }, { maxEntities: 10, now });
    expect(res.results[0]!.values).toEqual([12]);
    const bad = (body: unknown) => getOnlineFeatures(store, catalog, body, { maxEntities: 10 });
    await expect(bad({ features: ['on_demand:in_top_category'], entities: { user_id: ['u1'] } })).rejects.toThrow(/missing request_data.video_category/);
    await expect(bad({ features: ['on_demand:in_top_category'], entities: { user_id: ['u1'] }, request_data: { video_category: ['a', 'b'] } })).rejects.toThrow(
      FeatureRequestError,
    );
    await expect(bad({ features: ['on_demand:nope'], entities: {} })).rejects.toThrow(/unknown on-demand feature 'nope'/);
    await expect(bad({ features: ['on_demand:request_hour_local'], entities: {}, request_data: { request_time: ['yesterday'] } })).rejects.toThrow(
      /request_data.request_time\[0\] must be an ISO time/,
    );
  });

  it('scores one user against 1,000 candidates in one call, reading the user once', async () => {
    const videos = Array.from({ length: 1000 }, (_, i) => `c${i}`);
    const many = fakeStore({
      user_embeddings: { u1: { vector: [0.5, -1, 2] } },
      user_features: { u1: { top_category_30d: 'music' } },
      video_embeddings: Object.fromEntries(videos.map((v, i) => [v, { vector: [Math.fround(Math.sin(i)), Math.fround(Math.cos(i)), 0.25] }])),
    });
    const res = await getOnlineFeatures(
      many.store,
      catalog,
      {
        features: ['on_demand:user_video_cosine', 'on_demand:in_top_category'],
        entities: { user_id: videos.map(() => 'u1'), video_id: videos },
        request_data: { video_category: videos.map((_, i) => (i % 2 ? 'music' : 'news')) },
      },
      { maxEntities: 1000 },
    );
    expect(many.calls).toHaveLength(1);
    const sizes = Object.fromEntries(many.calls[0]!.map((r) => [r.view.name, r.entityKeys.length]));
    expect(sizes).toEqual({ user_embeddings: 1, user_features: 1, video_embeddings: 1000 });
    expect(res.results.map((c) => c.values.length)).toEqual([1000, 1000, 1000, 1000]);
    const u = [0.5, -1, 2];
    videos.forEach((_, i) => {
      const v = [Math.fround(Math.sin(i)), Math.fround(Math.cos(i)), 0.25];
      const dot = (a: number[], b: number[]) => a.reduce((s, x, k) => s + x * b[k]!, 0);
      expect(res.results[2]!.values[i]).toBe(dot(u, v) / (Math.sqrt(dot(u, u)) * Math.sqrt(dot(v, v))));
    });
    expect(res.results[3]!.values.slice(0, 4)).toEqual([false, true, false, true]);
  });

  it('are served over HTTP, listed in the OpenAPI document', async () => {
    const app = createFeatureServer({ views, onDemand: ON_DEMAND_FEATURES, store });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/get-online-features',
        payload: {
          features: ['on_demand:user_video_cosine', 'on_demand:in_top_category'],
          entities: { user_id: ['u1', 'u1'], video_id: ['v1', 'v2'] },
          request_data: { video_category: ['music', 'news'] },
        },
      });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<{ metadata: { feature_names: string[] }; results: { values: unknown[] }[] }>();
      expect(body.metadata.feature_names).toEqual(['user_id', 'video_id', 'user_video_cosine', 'in_top_category']);
      expect(body.results[3]!.values).toEqual([true, false]);
      const bad = await app.inject({
        method: 'POST',
        url: '/get-online-features',
        payload: { features: ['on_demand:in_top_category'], entities: { user_id: ['u1'] }, request_data: { video_category: [3] } },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json<{ message: string }>().message).toMatch(/request_data.video_category\[0\] must be a VARCHAR or null/);
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).body;
      expect(doc).toContain('on_demand:user_video_cosine');
      expect(doc).toContain('request_data');
    } finally {
      await app.close();
    }
  });
});
