// The feature server on a network: secrets never shown (logs, /health, 503 bodies), bearer tokens
// (several at once, open routes configurable), TLS, request ids, 429 with Retry-After over the
// concurrency cap, 400 for an oversized entity key, and the GOLD_SERVE_* settings checked. Over real
// Redis servers of their own (one with a password, one paused to hold requests in flight).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServeConfig } from '../../src/config/serve.js';
import { EmbeddedOnlineStore } from '../../src/online/embedded-store.js';
import { RedisOnlineStore } from '../../src/online/redis-store.js';
import type { OnlineViewSpec } from '../../src/online/view.js';
import { createFeatureServer } from '../../src/serving/server.js';
import { packageRoot } from '../../src/tools/binaries.js';
import { tempDir } from '../support/env.js';
import { startServeProcess } from '../support/serve-process.js';
import { type RedisServer, startRedis, testCertificates } from '../support/servers.js';

const view: OnlineViewSpec = { name: 'user_features', version: 1, keys: ['user_id'], ttlSeconds: 3600, features: [{ name: 'watch_time_7d', type: 'DOUBLE' }] };
const body = (ids: unknown[]) => JSON.stringify({ features: ['user_features:watch_time_7d'], entities: { user_id: ids } });
const post = (app: FastifyInstance, ids: unknown[], headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/get-online-features', headers: { 'content-type': 'application/json', ...headers }, payload: body(ids) });

// Every character that broke the old redaction, in one password.
const PASSWORD = 'alpha@s/e:c%r?e#t&omega';

describe('a Redis password', () => {
  let redis: RedisServer;
  let url: string;
  beforeAll(async () => {
    redis = await startRedis(['--requirepass', PASSWORD]);
    url = redis.url.replace('redis://', `redis://:${encodeURIComponent(PASSWORD)}@`);
  });
  afterAll(() => redis.stop());

  it('reaches the store and is in no /health answer, up or down', async () => {
    const store = new RedisOnlineStore(`${url}/0`);
    const app = createFeatureServer({ store, views: [view] });
    try {
      const up = await app.inject({ method: 'GET', url: '/health' });
      expect(up.statusCode).toBe(200);
      expect(up.json()).toEqual({ status: 'ok', store: 'redis', views: 1 });
      expect(store.location).toBe(`redis://***@127.0.0.1:${new URL(redis.url).port}/0`);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('is in no 503 body when the store refuses it, nor its address', async () => {
    const store = new RedisOnlineStore(redis.url.replace('redis://', `redis://:${encodeURIComponent(`${PASSWORD}x`)}@`), { commandTimeoutMs: 500 });
    const app = createFeatureServer({ store, views: [view] });
    try {
      for (const res of [await post(app, ['u1']), await app.inject({ method: 'GET', url: '/health' })]) {
        expect(res.statusCode).toBe(503);
        expect(res.body).not.toMatch(/alpha|omega|127\.0\.0\.1|redis:/);
        expect(res.json()).toMatchObject({ requestId: res.headers['x-request-id'] });
      }
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('is in nothing `gold serve` writes or answers, given in user info or in the query', async () => {
    const port = new URL(redis.url).port;
    for (const store of [url, `redis://127.0.0.1:${port}/0?password=${encodeURIComponent(PASSWORD)}`]) {
      const serve = await startServeProcess({ GOLD_ONLINE_STORE: store, GOLD_HOME: tempDir('gold-serve-secret-'), GOLD_LOG_LEVEL: 'debug' });
      try {
        const health = await fetch(`${serve.address}/health`);
        expect(health.status).toBe(200);
        expect(await health.text()).not.toMatch(/alpha|omega|127\.0\.0\.1/);
      } finally {
        await serve.stop();
      }
      expect(serve.stderr()).toMatch(/feature server listening/);
      expect(serve.stderr()).not.toMatch(/alpha|omega/);
    }
  });
});

describe('a secret in a connection string', () => {
  const gold = join(packageRoot, 'bin', 'gold.js');
  const run = (args: string[], env: Record<string, string>) =>
    promisify(execFile)(process.execPath, [gold, ...args], { env: { ...process.env, GOLD_HOME: tempDir('gold-secret-cli-'), ...env } }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );

  it('is in no CLI error nor `gold doctor` report', async () => {
    for (const store of [`redis://:${PASSWORD}@127.0.0.1:1/0`, `redis://127.0.0.1:1/0?password=${encodeURIComponent(PASSWORD)}`]) {
      const doctor = await run(['--json', '--temporal-address', '127.0.0.1:1', 'doctor'], { GOLD_ONLINE_STORE: store, GOLD_LOG_LEVEL: 'debug' });
      expect(doctor.code).toBe(1);
      expect(doctor.out).toMatch(/online store reachable/);
      expect(doctor.out).not.toMatch(/alpha|omega/);
      const bad = await run(['--online-store', store.replace('redis', 'memcached'), 'serve'], {});
      expect(bad.out).toMatch(/invalid setting --online-store="memcached:/);
      expect(bad.out).not.toMatch(/alpha|omega/);
    }
  });

  it('is in no log line, in a field or in the message', async () => {
    const logger = pathToFileURL(join(packageRoot, 'dist', 'src', 'shared', 'logger.js')).href;
    const script = `const { logger } = await import(${JSON.stringify(logger)}); logger().warn({ err: 'no answer from redis://:${PASSWORD}@h:1/0', store: 'rediss://h:1?token=alpha' }, 'cannot reach redis://u:alpha@h:1');`;
    const r = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    expect(r.stderr).toMatch(/cannot reach redis:\/\/\*\*\*@h:1/);
    expect(r.stderr).toMatch(/"store":"rediss:\/\/h:1\?\*\*\*"/);
    expect(r.stderr).not.toMatch(/alpha|omega/);
  });
});

describe('bearer tokens', () => {
  const TOKENS = ['old-token-0123456789abcdef', 'new-token-fedcba9876543210'];
  let store: EmbeddedOnlineStore;
  beforeAll(() => {
    store = new EmbeddedOnlineStore(join(tempDir('gold-serve-auth-'), 'online'));
  });
  afterAll(() => store.close());

  it('accepts each of several tokens (rotation) and refuses a missing, wrong or partial one with 401', async () => {
    const app = createFeatureServer({ store, views: [view], auth: { tokens: TOKENS, open: [] } });
    for (const t of TOKENS) expect((await post(app, ['u1'], { authorization: `Bearer ${t}` })).statusCode).toBe(200);
    for (const authorization of [
      undefined,
      'Bearer wrong-token-0123456789ab',
      `Bearer ${TOKENS[0]!.slice(0, -1)}`,
      `Bearer ${TOKENS[0]}x`,
      TOKENS[0]!,
      `Basic ${TOKENS[0]}`,
    ]) {
      const res = await post(app, ['u1'], authorization === undefined ? {} : { authorization });
      expect(res.statusCode, String(authorization)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
    // Unknown routes too: the route list is not shown to strangers.
    expect((await app.inject({ method: 'GET', url: '/nope' })).statusCode).toBe(401);
    await app.close();
  });

  it('leaves /health and /metrics open or protected as configured', async () => {
    const open = createFeatureServer({ store, views: [view], auth: { tokens: TOKENS, open: ['health'] } });
    expect((await open.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await open.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await open.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(401);
    await open.close();
    const closed = createFeatureServer({ store, views: [view], auth: { tokens: TOKENS, open: ['metrics'] } });
    expect((await closed.inject({ method: 'GET', url: '/health' })).statusCode).toBe(401);
    expect((await closed.inject({ method: 'GET', url: '/health', headers: { authorization: `Bearer ${TOKENS[1]}` } })).statusCode).toBe(200);
    expect((await closed.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    await closed.close();
  });

  it('are read from GOLD_SERVE_TOKENS, checked, and never echoed in an error', () => {
    expect(loadServeConfig({ GOLD_SERVE_TOKENS: ` ${TOKENS.join(' , ')} ` }).auth).toEqual({ tokens: TOKENS, open: ['health'] });
    expect(loadServeConfig({}).auth).toEqual({ tokens: [], open: ['health'] });
    expect(() => loadServeConfig({ GOLD_SERVE_TOKENS: `${TOKENS[0]},short-secret` })).toThrow(
      'invalid setting GOLD_SERVE_TOKENS: token 2 is shorter than 16 characters',
    );
    expect(() => loadServeConfig({ GOLD_SERVE_TOKENS: 'short-secret' })).not.toThrow(/short-secret/);
    expect(() => loadServeConfig({ GOLD_SERVE_OPEN_ROUTES: 'health,admin' })).toThrow(/GOLD_SERVE_OPEN_ROUTES="health,admin": unknown route\(s\) admin/);
    expect(loadServeConfig({ GOLD_SERVE_OPEN_ROUTES: 'none' }).auth.open).toEqual([]);
    expect(() => loadServeConfig({ GOLD_SERVE_MAX_CONCURRENT: '0' })).toThrow('invalid setting GOLD_SERVE_MAX_CONCURRENT: must be more than 0');
    expect(() => loadServeConfig({ GOLD_SERVE_HEADERS_TIMEOUT_MS: '20000' })).toThrow(
      /GOLD_SERVE_HEADERS_TIMEOUT_MS: must be at most GOLD_SERVE_REQUEST_TIMEOUT_MS/,
    );
    expect(() => loadServeConfig({ GOLD_SERVE_TLS_CERT: '/x.pem' })).toThrow('GOLD_SERVE_TLS_CERT and GOLD_SERVE_TLS_KEY go together');
    expect(() => loadServeConfig({ GOLD_SERVE_TLS_CERT: '/nonexistent/c.pem', GOLD_SERVE_TLS_KEY: '/nonexistent/k.pem' })).toThrow(
      'invalid setting GOLD_SERVE_TLS_CERT: cannot read /nonexistent/c.pem: ENOENT',
    );
  });
});

describe('requests', () => {
  let store: EmbeddedOnlineStore;
  let app: FastifyInstance;
  beforeAll(async () => {
    store = new EmbeddedOnlineStore(join(tempDir('gold-serve-req-'), 'online'));
    await store.writeBatch(view, [{ entityKey: 'u1', featureTimestamp: Date.now(), values: [1.5] }]);
    app = createFeatureServer({ store, views: [view] });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('over the embedded store: /health writes nothing (no LMDB transaction), and says when the store cannot be read', async () => {
    const txn = () => (store.root.getStats() as { lastTxnId: number }).lastTxnId;
    const before = txn();
    for (let i = 0; i < 5; i++) expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect(txn()).toBe(before);
    const closed = new EmbeddedOnlineStore(join(tempDir('gold-serve-closed-'), 'online'));
    await closed.close();
    await expect(closed.ping()).rejects.toThrow(/^embedded online store at .* cannot be read/);
  });

  it('answer 400 for an entity key of 70,000 characters, naming the limit', async () => {
    const res = await post(app, ['u1', 'x'.repeat(70_000)]);
    expect(res.statusCode).toBe(400);
    expect(res.json<{ message: string }>().message).toBe('entity row 1 of view user_features has a key of 70000 bytes, at most 1024');
    expect((await post(app, ['é'.repeat(512)])).statusCode).toBe(200);
    expect((await post(app, ['é'.repeat(513)])).statusCode).toBe(400);
  });

  it("carry a request id: the client's when it is sane, else a new one", async () => {
    const mine = await post(app, ['u1'], { 'x-request-id': 'abc-123' });
    expect(mine.headers['x-request-id']).toBe('abc-123');
    const odd = await post(app, ['u1'], { 'x-request-id': 'bad id\twith spaces' });
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await post(app, [null]);
    expect(bad.json()).toMatchObject({ statusCode: 400, requestId: bad.headers['x-request-id'] });
  });
});

describe('the concurrency cap', () => {
  it('answers 429 with Retry-After past maxConcurrentRequests, and serves again once requests finish', async () => {
    const redis = await startRedis();
    const store = new RedisOnlineStore(redis.url, { commandTimeoutMs: 3000 });
    const app = createFeatureServer({ store, views: [view], limits: { maxConcurrentRequests: 2 } });
    try {
      expect((await post(app, ['u1'])).statusCode).toBe(200);
      // Paused, Redis holds the first two requests in flight.
      redis.process.kill('SIGSTOP');
      const held = [post(app, ['u1']), post(app, ['u2'])];
      await new Promise((r) => setTimeout(r, 200));
      const refused = await post(app, ['u3']);
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
      redis.process.kill('SIGCONT');
      expect((await Promise.all(held)).map((r) => r.statusCode)).toEqual([200, 200]);
      expect((await post(app, ['u3'])).statusCode).toBe(200);
    } finally {
      redis.process.kill('SIGCONT');
      await app.close();
      await store.close();
      await redis.stop();
    }
  });
});

describe('TLS', () => {
  it('serves HTTPS with the given certificate and key', async () => {
    const certs = testCertificates();
    const config = loadServeConfig({ GOLD_SERVE_TLS_CERT: certs.cert, GOLD_SERVE_TLS_KEY: certs.key });
    const store = new EmbeddedOnlineStore(join(tempDir('gold-serve-tls-'), 'online'));
    const app = createFeatureServer({ store, views: [view], tls: config.tls });
    try {
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      expect(address).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(`${address}/health`, { ca: readFileSync(certs.ca) }, (r) => {
          let b = '';
          r.on('data', (d: Buffer) => (b += d.toString()));
          r.on('end', () => resolve({ status: r.statusCode!, body: b }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ status: 'ok' });
      await expect(fetch(`${address.replace('https', 'http')}/health`)).rejects.toThrow();
    } finally {
      await app.close();
      await store.close();
    }
  });
});
