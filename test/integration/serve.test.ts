// The feature server over real stores: Feast-shaped answers, a clear 4xx for each malformed request,
// 503 when the store is down, metrics, health, OpenAPI; and the CLI paths (`gold serve`,
// `gold features online`) over the embedded store.
import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerOnline } from '../../src/cli/commands/online.js';
import { runFeatureServer } from '../../src/cli/commands/serve.js';
import { addGlobalOptions } from '../../src/cli/context.js';
import { loadSettings } from '../../src/config/settings.js';
import { family } from '../../src/features/families/index.js';
import { openLake } from '../../src/lake/index.js';
import { EmbeddedOnlineStore } from '../../src/online/embedded-store.js';
import { encodeEntityKey } from '../../src/online/entity-key.js';
import { RedisOnlineStore } from '../../src/online/redis-store.js';
import type { OnlineViewSpec } from '../../src/online/view.js';
import { registerFamily } from '../../src/registry/index.js';
import type { OnlineFeaturesResponse } from '../../src/serving/online-features.js';
import { createFeatureServer } from '../../src/serving/server.js';
import { servingCatalog, setViewProvider } from '../../src/serving/view-provider.js';
import { tempDir } from '../support/env.js';

const users: OnlineViewSpec = {
  name: 'user_features',
  version: 1,
  keys: ['user_id'],
  ttlSeconds: 3600,
  features: [
    { name: 'watch_time_7d', type: 'DOUBLE' },
    { name: 'top_category', type: 'VARCHAR' },
    { name: 'last_event', type: 'TIMESTAMP' },
    { name: 'embedding', type: 'FLOAT[]' },
  ],
};
const pairs: OnlineViewSpec = {
  name: 'user_video',
  version: 2,
  keys: ['user_id', 'video_id'],
  ttlSeconds: 3600,
  features: [{ name: 'plays', type: 'BIGINT' }],
};
const clashing: OnlineViewSpec = { name: 'other', version: 1, keys: ['user_id'], ttlSeconds: 3600, features: [{ name: 'watch_time_7d', type: 'DOUBLE' }] };
const views = [users, pairs, clashing];
const featureServices = { ranking: ['user_features:watch_time_7d', 'user_video:plays'] };

const NOW = Date.now();
const TS = NOW - 60_000;
const OLD = NOW - 2 * 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

async function seed(store: EmbeddedOnlineStore | RedisOnlineStore): Promise<void> {
  await store.writeBatch(users, [
    { entityKey: 'u1', featureTimestamp: TS, values: [12.5, 'comedy', new Date(TS - 1000), [0.5, 1]] },
    { entityKey: 'u2', featureTimestamp: TS, values: [3, null, new Date(TS - 2000), []] },
  ]);
  await store.writeBatch(pairs, [{ entityKey: encodeEntityKey(['u1', 'v1']), featureTimestamp: TS, values: [4] }]);
}

function post(app: FastifyInstance, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  return app.inject({ method: 'POST', url: '/get-online-features', headers, payload: typeof body === 'string' ? body : JSON.stringify(body) });
}

describe('feature server over the embedded store', () => {
  let store: EmbeddedOnlineStore;
  let app: FastifyInstance;
  beforeAll(async () => {
    store = new EmbeddedOnlineStore(join(tempDir('gold-serve-'), 'online'));
    await seed(store);
    // u3: written while fresh (as of OLD), now past the one-hour TTL.
    await store.writeBatch(users, [{ entityKey: 'u3', featureTimestamp: OLD, values: [1, 'news', new Date(OLD), [2]] }], OLD);
    app = createFeatureServer({ store, views, featureServices, maxEntities: 5, bodyLimitBytes: 4096 });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('answers in Feast shape: entity columns first, then each feature with values, statuses and event timestamps', async () => {
    const res = await post(app, {
      features: ['user_features:watch_time_7d', 'user_video:plays', 'user_features:top_category', 'user_features:last_event', 'user_features:embedding'],
      entities: { user_id: ['u1', 'u2', 'u3', 'nobody'], video_id: ['v1', 'v1', 'v1', 'v1'] },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<OnlineFeaturesResponse>();
    expect(body.metadata.feature_names).toEqual(['user_id', 'video_id', 'watch_time_7d', 'plays', 'top_category', 'last_event', 'embedding']);
    expect(body.results[0]).toEqual({
      values: ['u1', 'u2', 'u3', 'nobody'],
      statuses: ['PRESENT', 'PRESENT', 'PRESENT', 'PRESENT'],
      event_timestamps: [null, null, null, null],
    });
    expect(body.results[2]).toEqual({
      values: [12.5, 3, null, null],
      statuses: ['PRESENT', 'PRESENT', 'OUTSIDE_MAX_AGE', 'NOT_FOUND'],
      event_timestamps: [iso(TS), iso(TS), iso(OLD), null],
    });
    expect(body.results[3]).toEqual({
      values: [4, null, null, null],
      statuses: ['PRESENT', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND'],
      event_timestamps: [iso(TS), null, null, null],
    });
    expect(body.results[4]!.statuses).toEqual(['PRESENT', 'NULL_VALUE', 'OUTSIDE_MAX_AGE', 'NOT_FOUND']);
    expect(body.results[5]!.values).toEqual([iso(TS - 1000), iso(TS - 2000), null, null]);
    expect(body.results[6]!.values).toEqual([[0.5, 1], [], null, null]);
  });

  it('serves a feature service, numeric entity values, and full feature names', async () => {
    const res = await post(app, { feature_service: 'ranking', entities: { user_id: ['u1'], video_id: ['v1'] }, full_feature_names: true });
    expect(res.statusCode).toBe(200);
    const body = res.json<OnlineFeaturesResponse>();
    expect(body.metadata.feature_names).toEqual(['user_id', 'video_id', 'user_features__watch_time_7d', 'user_video__plays']);
    expect(body.results.slice(2).map((r) => r.values[0])).toEqual([12.5, 4]);
    const numeric = await post(app, { features: ['user_video:plays'], entities: { user_id: ['u1'], video_id: [7] } });
    expect(numeric.json<OnlineFeaturesResponse>().results[2]!.statuses).toEqual(['NOT_FOUND']);
  });

  const malformed: [string, unknown, number, RegExp][] = [
    ['bad JSON', '{"features": [', 400, /not valid JSON/i],
    ['a body that is not an object', '[1, 2]', 400, /must be a JSON object/],
    ['an unknown field', { features: ['user_features:watch_time_7d'], entities: { user_id: ['u1'] }, entitys: {} }, 400, /unknown field\(s\) entitys/],
    ['no features', { entities: { user_id: ['u1'] } }, 400, /'features' must be an array/],
    ['an empty feature list', { features: [], entities: { user_id: ['u1'] } }, 400, /'features' is empty/],
    [
      'a malformed ref',
      { features: ['watch_time_7d'], entities: { user_id: ['u1'] } },
      400,
      /invalid feature reference "watch_time_7d": expected 'view:feature'/,
    ],
    ['a ref listed twice', { features: ['user_features:watch_time_7d', 'user_features:watch_time_7d'], entities: { user_id: ['u1'] } }, 400, /listed twice/],
    [
      'an unknown view',
      { features: ['nope:x'], entities: { user_id: ['u1'] } },
      404,
      /unknown feature view 'nope' \(known: user_features, user_video, other\)/,
    ],
    ['an unknown feature', { features: ['user_features:nope'], entities: { user_id: ['u1'] } }, 404, /unknown feature 'nope' in view user_features/],
    [
      'both features and a service',
      { features: ['user_features:watch_time_7d'], feature_service: 'ranking', entities: { user_id: ['u1'] } },
      400,
      /either 'features' or 'feature_service'/,
    ],
    ['an unknown service', { feature_service: 'nope', entities: { user_id: ['u1'] } }, 404, /unknown feature service 'nope' \(known: ranking\)/],
    ['a missing entity key', { features: ['user_video:plays'], entities: { user_id: ['u1'] } }, 400, /missing entity key column\(s\) video_id/],
    [
      'an entity column no view uses',
      { features: ['user_features:watch_time_7d'], entities: { user_id: ['u1'], userid: ['u1'] } },
      400,
      /entity column\(s\) userid are not keys/,
    ],
    ['entities that are not an object', { features: ['user_features:watch_time_7d'], entities: ['u1'] }, 400, /'entities' must be an object/],
    [
      'an entity column that is not an array',
      { features: ['user_features:watch_time_7d'], entities: { user_id: 'u1' } },
      400,
      /entities.user_id must be an array/,
    ],
    [
      'entity columns of different lengths',
      { features: ['user_video:plays'], entities: { user_id: ['u1', 'u2'], video_id: ['v1'] } },
      400,
      /different lengths: user_id: 2, video_id: 1/,
    ],
    ['no entities', { features: ['user_features:watch_time_7d'], entities: { user_id: [] } }, 400, /no entities given/],
    [
      'a null entity value',
      { features: ['user_features:watch_time_7d'], entities: { user_id: ['u1', null] } },
      400,
      /entities.user_id\[1\] must be a string or a number, got null/,
    ],
    [
      'a numeric key beyond 2^53 (JSON.parse rounds it to another key)',
      '{"features":["user_features:watch_time_7d"],"entities":{"user_id":[9007199254740993]}}',
      400,
      /entities.user_id\[0\] is 9007199254740992, beyond the whole numbers a JSON number holds exactly .*give the key as a string/,
    ],
    [
      'a numeric key that is not a whole number',
      { features: ['user_features:watch_time_7d'], entities: { user_id: [7, 1.5] } },
      400,
      /entities.user_id\[1\] is 1.5, not a whole number: give such a key as a string/,
    ],
    [
      'too many entities',
      { features: ['user_features:watch_time_7d'], entities: { user_id: ['a', 'b', 'c', 'd', 'e', 'f'] } },
      413,
      /too many entities: 6 in one request, at most 5/,
    ],
    [
      'a name clash',
      { features: ['user_features:watch_time_7d', 'other:watch_time_7d'], entities: { user_id: ['u1'] } },
      400,
      /'watch_time_7d' would appear twice.*full_feature_names: true/,
    ],
    [
      'a non-boolean full_feature_names',
      { features: ['user_features:watch_time_7d'], entities: { user_id: ['u1'] }, full_feature_names: 'yes' },
      400,
      /must be true or false/,
    ],
    ['a body over the limit', { features: ['user_features:watch_time_7d'], entities: { user_id: ['x'.repeat(5000)] } }, 413, /body/i],
  ];
  it.each(malformed)('answers %s with a clear 4xx', async (_what, body, status, message) => {
    const res = await post(app, body);
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ statusCode: status, error: expect.any(String) });
    expect(res.json<{ message: string }>().message).toMatch(message);
  });

  it('answers an entity column that is not an array with a 400 naming it, also beside columns of different lengths', async () => {
    const stats: OnlineViewSpec = { name: 'stats', version: 1, keys: ['family', 'feature'], ttlSeconds: 3600, features: [{ name: 'mean', type: 'DOUBLE' }] };
    const own = createFeatureServer({ store, views: [users, stats] });
    for (const [feature, kind] of [
      [null, 'null'],
      [5, 'a number'],
      [{}, 'an object'],
      ['x', 'a string'],
    ] as const) {
      const res = await post(own, { features: ['user_features:watch_time_7d', 'stats:mean'], entities: { user_id: ['u1', 'u2'], family: ['f'], feature } });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ message: string }>().message).toBe(`entities.feature must be an array of values, got ${kind}`);
    }
    await own.close();
  });

  it('reads numeric keys up to the largest whole number JSON holds exactly', async () => {
    const key = String(Number.MAX_SAFE_INTEGER);
    await store.writeBatch(pairs, [{ entityKey: encodeEntityKey(['u9', key]), featureTimestamp: TS, values: [9] }]);
    const res = await post(app, `{"features":["user_video:plays"],"entities":{"user_id":["u9"],"video_id":[${key}]}}`);
    expect(res.statusCode).toBe(200);
    expect(res.json<OnlineFeaturesResponse>().results[2]).toMatchObject({ values: [9], statuses: ['PRESENT'] });
  });

  it('refuses a body that is not JSON, and unknown routes', async () => {
    expect((await post(app, 'user_id=u1', { 'content-type': 'text/csv' })).statusCode).toBe(415);
    const empty = await app.inject({ method: 'POST', url: '/get-online-features', headers: { 'content-type': 'application/json' } });
    expect(empty.statusCode).toBe(400);
    const route = await app.inject({ method: 'GET', url: '/get-online-features' });
    expect(route.statusCode).toBe(404);
    expect(route.json<{ message: string }>().message).toMatch(/no route GET \/get-online-features \(routes: POST \/get-online-features/);
  });

  it('reports health', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', store: 'embedded', views: 3 });
  });

  it('exposes request counts, latency histograms, store read latency and rows by status', async () => {
    const before = await app.inject({ method: 'GET', url: '/metrics' });
    const count = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    const ok = /gold_serving_requests_total\{route="\/get-online-features",status="200"\} (\d+)/;
    await post(app, { features: ['user_features:watch_time_7d'], entities: { user_id: ['u1', 'u3', 'zz'] } });
    await post(app, { features: ['nope:x'], entities: { user_id: ['u1'] } });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    const text = res.body;
    expect(count(text, ok) - count(before.body, ok)).toBe(1);
    expect(count(text, /gold_serving_requests_total\{route="\/get-online-features",status="404"\} (\d+)/)).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/gold_serving_request_duration_seconds_bucket\{le="0.001",route="\/get-online-features"\} \d+/);
    expect(text).toMatch(/gold_serving_store_read_duration_seconds_count\{store="embedded"\} [1-9]/);
    expect(count(text, /gold_serving_rows_total\{view="user_features",status="outside_ttl"\} (\d+)/)).toBeGreaterThanOrEqual(1);
    expect(count(text, /gold_serving_rows_total\{view="user_features",status="not_found"\} (\d+)/)).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/gold_serving_entities_per_request_bucket\{le="5"\} [1-9]/);
    expect(text).toMatch(/process_cpu_user_seconds_total/);
  });

  it('describes itself in OpenAPI, with the refs and services it holds', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: { Request: { properties: { features: { items: { enum: string[] } }; feature_service: { enum: string[] } } } } };
    }>();
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths)).toEqual(['/get-online-features', '/health', '/metrics', '/openapi.json'].filter((p) => p !== '/openapi.json'));
    expect(doc.components.schemas.Request.properties.features.items.enum).toContain('user_video:plays');
    expect(doc.components.schemas.Request.properties.feature_service.enum).toEqual(['ranking']);
  });

  it('refuses a catalog it cannot serve, at creation', () => {
    expect(() => createFeatureServer({ store, views: [users, users] })).toThrow(/'user_features' is listed twice/);
    expect(() => createFeatureServer({ store, views, featureServices: { bad: ['user_features:nope'] } })).toThrow(
      /feature service 'bad': unknown feature 'nope'/,
    );
    expect(() => createFeatureServer({ store, views: [{ ...users, ttlSeconds: -1 }] })).toThrow(/ttlSeconds must be > 0/);
  });
});

describe('feature server over Redis', () => {
  const store = new RedisOnlineStore('redis://127.0.0.1:6379', { keyPrefix: `gold-test-serve-${randomBytes(4).toString('hex')}:` });
  const down = new RedisOnlineStore('redis://127.0.0.1:1');
  afterAll(async () => {
    await store.deleteView(users);
    await store.deleteView(pairs);
    await store.close();
    await down.close();
  });

  it('serves from Redis', async () => {
    await seed(store);
    const app = createFeatureServer({ store, views });
    const res = await post(app, { features: ['user_features:watch_time_7d', 'user_video:plays'], entities: { user_id: ['u1', 'u2'], video_id: ['v1', 'v1'] } });
    expect(
      res
        .json<OnlineFeaturesResponse>()
        .results.slice(2)
        .map((r) => r.statuses),
    ).toEqual([
      ['PRESENT', 'PRESENT'],
      ['PRESENT', 'NOT_FOUND'],
    ]);
    await app.close();
  });

  it('answers 503 and reports unhealthy within the command timeout when the store accepts connections but never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s.on('data', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const hung = new RedisOnlineStore(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 300 });
    const app = createFeatureServer({ store: hung, views });
    try {
      const t0 = performance.now();
      const res = await post(app, { features: ['user_features:watch_time_7d'], entities: { user_id: ['u1'] } });
      expect(res.statusCode).toBe(503);
      // Where the store is stays in the server's log.
      expect(res.json<{ message: string }>().message).toBe('online store (redis) unavailable; the server log has the cause under this request id');
      const health = await app.inject({ method: 'GET', url: '/health' });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({ status: 'unavailable', store: 'redis' });
      expect(performance.now() - t0).toBeLessThan(3000);
    } finally {
      await app.close();
      await hung.close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('answers 503 and reports unhealthy when the store is down', async () => {
    const app = createFeatureServer({ store: down, views });
    const res = await post(app, { features: ['user_features:watch_time_7d'], entities: { user_id: ['u1'] } });
    expect(res.statusCode).toBe(503);
    expect(res.json<{ message: string }>().message).toMatch(/^online store \(redis\) unavailable/);
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ status: 'unavailable', store: 'redis' });
    await app.close();
  });
});

describe('default view provider', () => {
  it('serves each online family of the lake registry at its latest registered version', async () => {
    const home = tempDir('gold-serve-registry-');
    const s = loadSettings({ home, onlineStore: 'embedded' }, {});
    expect((await servingCatalog(s)).views).toEqual([]);
    const lake = openLake(s.lake, s);
    await registerFamily(lake, family('user_features'));
    await lake.close();
    const { views: served } = await servingCatalog(s);
    expect(served.map((v) => [v.name, v.version, v.keys])).toEqual([['user_features', 1, ['user_id']]]);
    expect(served[0]!.features.map((f) => f.name)).toEqual(family('user_features').features.map((f) => f.name));
  });
});

describe('CLI', () => {
  const home = tempDir('gold-serve-cli-');
  const settings = loadSettings({ home, onlineStore: 'embedded', logLevel: 'warn' }, {});
  beforeAll(async () => {
    setViewProvider(async () => ({ views, featureServices }));
    const store = new EmbeddedOnlineStore(join(home, 'online'));
    await seed(store);
    await store.close();
  });

  it('gold serve listens, serves the provider views from the configured store, and stops on signal', async () => {
    const stop = new AbortController();
    let address = '';
    const running = runFeatureServer(settings, { port: 0, host: '127.0.0.1', maxEntities: 10 }, stop.signal, (a) => (address = a));
    await vi.waitFor(() => expect(address).toMatch(/^http:\/\/127.0.0.1:\d+$/));
    const res = await fetch(`${address}/get-online-features`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ features: ['user_features:top_category'], entities: { user_id: ['u1'] } }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as OnlineFeaturesResponse).results[1]!.values).toEqual(['comedy']);
    stop.abort();
    await running;
    await expect(fetch(`${address}/health`)).rejects.toThrow();
  });

  async function cli(args: string[]): Promise<{ out: string; err: string; code: number }> {
    const program = addGlobalOptions(new Command('gold')).exitOverride();
    registerOnline(program);
    program.commands.forEach((c) => c.exitOverride().commands.forEach((sub) => sub.exitOverride()));
    const out: string[] = [];
    const err: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    const env = process.env.GOLD_HOME;
    process.env.GOLD_HOME = home;
    process.exitCode = 0;
    try {
      await program.parseAsync(args, { from: 'user' });
    } catch (e) {
      // commander's own argument errors, which exit the real CLI with their message.
      if (!(e instanceof CommanderError)) throw e;
      process.exitCode = e.exitCode;
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      process.env.GOLD_HOME = env;
    }
    const code = Number(process.exitCode ?? 0);
    process.exitCode = 0;
    return { out: out.join(''), err: err.join(''), code };
  }

  it('gold features online prints every feature of the views keyed by the given entity', async () => {
    const { out, code } = await cli(['features', 'online', '--entity', 'user_id=u1', '--online-store', 'embedded']);
    expect(code).toBe(0);
    expect(out).toMatch(/^user_id=u1\n/);
    expect(out).toMatch(/user_features:watch_time_7d\s+12.5\s+PRESENT\s+\(/);
    expect(out).toMatch(/user_features:embedding\s+\[0.5,1\]\s+PRESENT/);
    expect(out).toMatch(/other:watch_time_7d\s+null\s+NOT_FOUND/);
    expect(out).not.toMatch(/user_video/);
  });

  it('gold features online --json gives the server response for the refs and entities asked', async () => {
    const { out, code } = await cli([
      'features',
      'online',
      '--entity',
      'user_id=u1',
      '--entity',
      'video_id=v1',
      '--entity',
      'user_id=u2',
      '--entity',
      'video_id=v1',
      '--features',
      'user_video:plays',
      '--json',
    ]);
    expect(code).toBe(0);
    const body = JSON.parse(out) as OnlineFeaturesResponse;
    expect(body.metadata.feature_names).toEqual(['user_id', 'video_id', 'user_video__plays']);
    expect(body.results[2]).toMatchObject({ values: [4, null], statuses: ['PRESENT', 'NOT_FOUND'] });
  });

  it('gold features online fails with a one-line reason on bad input', async () => {
    expect(await cli(['features', 'online'])).toMatchObject({ code: 1, err: expect.stringMatching(/give the entity to read with --entity KEY=VALUE/) });
    expect(await cli(['features', 'online', '--entity', 'user_id'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/option '--entity <KEY=VALUE>' argument 'user_id' is invalid. expected KEY=VALUE/),
    });
    expect(await cli(['features', 'online', '--entity', 'session_id=s1'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/no feature view is keyed by session_id/),
    });
    expect(await cli(['features', 'online', '--entity', 'user_id=u1', '--features', 'user_features:nope'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/unknown feature 'nope' in view user_features/),
    });
  });
});
