// Normalization end to end on the real pipeline: silver for three days, `gold run daily --local` for
// two dates (every family, statistical_features included, committed and materialized to the embedded
// store), then `gold training-set --normalize` over both dates and `gold features online --normalize`
// for every user: each user's online value (its newest row) equals the training set's row of the same
// entity and date, for the three methods. And a feature service (ranking_v1, user and video features,
// some normalized by its refs): its training set equals what the server returns for the same
// (user, video) pairs at the same point in time.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, sqlStr } from '../../src/engine/duckdb.js';
import { userFeatures } from '../../src/features/families/user-features.js';
import { featureService } from '../../src/features/services/index.js';
import { isNormalizable, NORMALIZE_METHODS } from '../../src/offline/normalize.js';
import type { OnlineFeaturesResponse } from '../../src/serving/online-features.js';
import { addDays } from '../../src/shared/dates.js';
import { pipelineFixture } from '../support/pipeline-fixture.js';

const numeric = userFeatures.features.filter((f) => isNormalizable(f.type)).map((f) => f.name);

describe('normalization on the real pipeline', () => {
  const { home, D1, D2, gold } = pipelineFixture('normalize', 25);

  it.each(NORMALIZE_METHODS)('serves each user the normalized value of its training-set row (%s)', async (method) => {
    const out = join(home, `set-${method}.parquet`);
    const refs = numeric.map((f) => `user_features:${f}`);
    const t = await gold('--json', 'training-set', '--from', D1, '--to', D2, '--features', refs.join(','), '--normalize', method, '--out', out);
    expect(t.code, t.err).toBe(0);
    const summary = JSON.parse(t.out) as { normalization: { column: string; method: string; missingParameters: number }[] };
    expect(summary.normalization.map((n) => [n.column, n.method, n.missingParameters])).toEqual(numeric.map((f) => [f, method, 0]));
    // Each user's newest row in the range: what the online store holds.
    const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
    const rows = await db.all<Record<string, unknown>>(
      `SELECT * FROM read_parquet(${sqlStr(out)}) QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY event_timestamp DESC) = 1 ORDER BY user_id`,
    );
    db.close();
    expect(rows.length).toBeGreaterThan(10);
    // (user_features has a row for every user known in its windows, so these are all of D2; an entity
    // whose newest online row is older than the newest parameters is tested in normalize.test.ts.)

    const args = rows.flatMap((r) => ['--entity', `user_id=${r.user_id as string}`]);
    const o = await gold('--json', 'features', 'online', ...args, '--features', refs.join(','), '--normalize', method);
    expect(o.code, o.err).toBe(0);
    const body = JSON.parse(o.out) as OnlineFeaturesResponse;
    expect(body.results[0]!.values).toEqual(rows.map((r) => r.user_id));
    expect(body.results[1]!.event_timestamps).toEqual(rows.map((r) => (r.event_timestamp as Date).toISOString()));
    numeric.forEach((f, j) => {
      expect(body.results[1 + j]!.values, f).toEqual(rows.map((r) => r[f] ?? null));
    });
    if (method === 'zscore') {
      const bad = await gold('training-set', '--from', D1, '--to', D2, '--features', refs[0]!, '--normalize', 'scale', '--out', out);
      expect(bad.code).not.toBe(0);
      expect(bad.err).toMatch(/--normalize.*expected zscore, minmax, robust/);
      const badOnline = await gold('features', 'online', '--entity', 'user_id=x', '--normalize', 'unit');
      expect(badOnline.err).toMatch(/--normalize.*expected zscore, minmax, robust/);
    }
    // Normalized, not raw: a z-scored or robust-scaled column is centred, min-max within [0, 1] on its date.
    const values = rows.map((r) => r[numeric[0]!]).filter((v): v is number => typeof v === 'number');
    if (method === 'minmax') expect(values.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('gives the training set of a feature service the values the server returns for it', async () => {
    const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
    // Entities of D2 (the newest rows: what the online store holds), as (user, video) pairs.
    const idsOf = async (ref: string, key: string): Promise<string[]> => {
      const out = join(home, `ids-${key}.parquet`);
      const r = await gold('training-set', '--from', D2, '--to', D2, '--features', ref, '--out', out);
      expect(r.code, r.err).toBe(0);
      return (await db.all<{ id: string }>(`SELECT DISTINCT ${key} AS id FROM read_parquet(${sqlStr(out)}) ORDER BY id`)).map((x) => x.id);
    };
    const users = (await idsOf('user_features:video_count_7d', 'user_id')).slice(0, 12);
    const videos = await idsOf('item_features:view_count_7d', 'video_id');
    expect(users.length).toBeGreaterThan(5);
    const pairs = users.map((u, i) => [u, videos[(i * 7) % videos.length]!] as const);
    // One hour after as_of(D2): the point in time of D2's rows, still inside every view's TTL now.
    const entities = join(home, 'ranking-entities.csv');
    writeFileSync(entities, ['user_id,video_id,event_timestamp', ...pairs.map(([u, v]) => `${u},${v},${addDays(D2, 1)} 01:00:00`)].join('\n'));
    const out = join(home, 'ranking.parquet');
    const t = await gold('--json', 'training-set', '--entities', entities, '--feature-service', 'ranking_v1', '--full-names', '--out', out);
    expect(t.code, t.err).toBe(0);
    const summary = JSON.parse(t.out) as { normalization: { feature: string; method: string; missingParameters: number }[] };
    const refs = featureService('ranking_v1').features;
    const normalized = refs.filter((r) => r.split(':').length === 3);
    expect(summary.normalization.map((n) => `${n.feature}:${n.method}`)).toEqual(normalized);
    expect(summary.normalization.every((n) => n.missingParameters === 0)).toBe(true);
    const rows = await db.all<Record<string, unknown>>(`SELECT * FROM read_parquet(${sqlStr(out)})`);
    db.close();

    const o = await gold(
      '--json',
      'features',
      'online',
      ...pairs.flatMap(([u, v]) => ['--entity', `user_id=${u}`, '--entity', `video_id=${v}`]),
      '--feature-service',
      'ranking_v1',
    );
    expect(o.code, o.err).toBe(0);
    const body = JSON.parse(o.out) as OnlineFeaturesResponse;
    const columns = refs.map((r) => r.split(':').slice(0, 2).join('__'));
    expect(body.metadata.feature_names).toEqual(['user_id', 'video_id', ...columns]);
    expect(body.results[0]!.values).toEqual(rows.map((r) => r.user_id));
    expect(body.results[1]!.values).toEqual(rows.map((r) => r.video_id));
    columns.forEach((c, j) => {
      const served = body.results[2 + j]!;
      expect(
        served.statuses.every((st) => st === 'PRESENT' || st === 'NULL_VALUE'),
        c,
      ).toBe(true);
      expect(served.event_timestamps, c).toEqual(rows.map(() => `${addDays(D2, 1)}T00:00:00.000Z`));
      expect(served.values, c).toEqual(rows.map((r) => r[c] ?? null));
    });
    const statuses = body.results.slice(2).flatMap((c) => c.statuses);
    expect(statuses.filter((st) => st === 'PRESENT').length).toBeGreaterThan(0.9 * statuses.length);
    // The normalized ones are normalized (not the raw values), identically on both sides.
    const z = columns.indexOf('user_features__watch_time_7d');
    expect(rows.some((r) => (r.user_features__watch_time_7d as number) < 0)).toBe(true);
    expect(body.results[2 + z]!.values.some((v) => (v as number) < 0)).toBe(true);

    const unknown = await gold('training-set', '--entities', entities, '--feature-service', 'nope', '--out', out);
    expect(unknown.err).toMatch(/unknown feature service 'nope' \(declared: ranking_v1, candidate_retrieval_v1, ranking_v2\)/);
    const both = await gold(
      'training-set',
      '--entities',
      entities,
      '--feature-service',
      'ranking_v1',
      '--features',
      'user_features:watch_time_7d',
      '--out',
      out,
    );
    expect(both.err).toMatch(/give --features REFS or --feature-service NAME/);
    const unknownOnline = await gold('features', 'online', '--entity', 'user_id=x', '--feature-service', 'nope');
    expect(unknownOnline.err).toMatch(/unknown feature service 'nope' \(served: ranking_v1, candidate_retrieval_v1, ranking_v2;/);
  });
});
