// Online store benchmark: materialize 1 million users x 20 features of mixed types (DOUBLE, BIGINT,
// VARCHAR, TIMESTAMP, FLOAT[], VARCHAR[]) from Parquet: into a store that keeps nothing (reading and
// encoding alone), into Redis (new keys; a restatement over existing keys, in bulk and through the
// script only; below the watermark, every row compared; the real user_features view), with Redis's and
// this process's CPU per row, and into the embedded store; then online reads: library p50/p99 for one entity with
// all features and for 100 entities, and the HTTP feature server (in a worker thread, so that the load
// generator does not share its event loop) at a fixed ~2,000 requests/s of one entity, and at a fixed
// rate of 100-entity requests. Last, the ceiling: redis-benchmark (Redis's own C client, pipelined)
// sending the same number of plain `SET key value PXAT t` of the records' mean size to the same Redis,
// which is the most any client could write into it on this machine, with nothing to read or encode.
// Run: npm run bench -- online
// (GOLD_BENCH_USERS default 1,000,000; GOLD_BENCH_REDIS default redis://127.0.0.1:6379;
//  GOLD_BENCH_HTTP_SECONDS default 10 per HTTP phase)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type EngineOptions, sqlStr, withEngine } from '../src/engine/duckdb.js';
import { userFeatures } from '../src/features/families/user-features.js';
import { EmbeddedOnlineStore } from '../src/online/embedded-store.js';
import { materializeParquet } from '../src/online/materialize.js';
import { RedisOnlineStore } from '../src/online/redis-store.js';
import type { OnlineStore } from '../src/online/store.js';
import type { OnlineViewSpec } from '../src/online/view.js';
import { onlineViewOf } from '../src/online/views.js';
import { createFeatureServer } from '../src/serving/server.js';
import { peakRss, report } from './util.js';

const USERS = Number(process.env.GOLD_BENCH_USERS ?? 1_000_000);
const REDIS_URL = process.env.GOLD_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const HTTP_SECONDS = Number(process.env.GOLD_BENCH_HTTP_SECONDS ?? 10);
const KEY_PREFIX = 'gold-bench:';
const ENGINE: EngineOptions = { threads: 2, memoryLimit: '4GB', tempDir: join(tmpdir(), 'gold-bench-duckdb') };

const view: OnlineViewSpec = {
  name: 'bench_user_features',
  version: 1,
  keys: ['user_id'],
  ttlSeconds: 2 * 86_400,
  features: [
    ...[
      'watch_time_1d',
      'watch_time_7d',
      'watch_time_30d',
      'watch_time_total',
      'avg_session_duration_30d',
      'completion_rate_30d',
      'interaction_rate_30d',
      'days_since_last_event',
    ].map((name) => ({ name, type: 'DOUBLE' })),
    ...['video_count_1d', 'video_count_7d', 'video_count_30d', 'unique_videos_30d', 'session_count_7d', 'session_count_30d'].map((name) => ({
      name,
      type: 'BIGINT',
    })),
    { name: 'top_category_30d', type: 'VARCHAR' },
    { name: 'device_type', type: 'VARCHAR' },
    { name: 'first_event', type: 'TIMESTAMP' },
    { name: 'last_event', type: 'TIMESTAMP' },
    { name: 'embedding', type: 'FLOAT[]' },
    { name: 'recent_categories', type: 'VARCHAR[]' },
  ],
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarize(ms: number[]): { p50: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1]! };
}

async function writeGold(path: string, featureTs: number, createdTs: number): Promise<void> {
  const ts = (ms: number) => `make_timestamp(${ms * 1000})`;
  await withEngine(ENGINE, (db) =>
    db.run(`COPY (SELECT 'u' || lpad(i::VARCHAR, 7, '0') AS user_id,
        round(random() * 3600, 2) AS watch_time_1d, round(random() * 20000, 2) AS watch_time_7d, round(random() * 80000, 2) AS watch_time_30d,
        round(random() * 1e6, 2) AS watch_time_total, round(random() * 3600, 3) AS avg_session_duration_30d,
        CASE WHEN i % 9 = 0 THEN NULL ELSE round(random(), 4) END AS completion_rate_30d,
        CASE WHEN i % 9 = 0 THEN NULL ELSE round(random(), 4) END AS interaction_rate_30d, round(random() * 30, 4) AS days_since_last_event,
        (random() * 10)::BIGINT AS video_count_1d, (random() * 60)::BIGINT AS video_count_7d, (random() * 250)::BIGINT AS video_count_30d,
        (random() * 120)::BIGINT AS unique_videos_30d, (random() * 12)::BIGINT AS session_count_7d, (random() * 45)::BIGINT AS session_count_30d,
        ['comedy', 'drama', 'news', 'sports', 'music', 'kids'][1 + i % 6] AS top_category_30d, ['mobile', 'tv', 'desktop'][1 + i % 3] AS device_type,
        ${ts(featureTs)} - to_seconds((random() * 8e6)::BIGINT) AS first_event, ${ts(featureTs)} - to_seconds((random() * 86400)::BIGINT) AS last_event,
        [round(random(), 3)::FLOAT, round(random(), 3)::FLOAT, round(random(), 3)::FLOAT, round(random(), 3)::FLOAT] AS embedding,
        ['comedy', 'news'][1:1 + i % 3] AS recent_categories,
        ${ts(featureTs)} AS feature_timestamp, ${ts(createdTs)} AS created_timestamp
      FROM range(${USERS}) t(i)) TO ${sqlStr(path)} (FORMAT parquet, COMPRESSION zstd)`),
  );
}

/** A gold partition of the real user_features view (its 17 features) for USERS users. */
async function writeUserFeatures(path: string, featureTs: number): Promise<void> {
  const cols = userFeatures.features.map((f) =>
    f.type === 'BIGINT'
      ? `(random() * 200)::BIGINT AS ${f.name}`
      : f.type === 'VARCHAR'
        ? `['comedy', 'drama', 'news', 'sports', 'music', 'kids'][1 + i % 6] AS ${f.name}`
        : `round(random() * 10000, 6) AS ${f.name}`,
  );
  await withEngine(ENGINE, (db) =>
    db.run(`COPY (SELECT 'u' || lpad(i::VARCHAR, 7, '0') AS user_id, ${cols.join(', ')},
        make_timestamp(${featureTs * 1000}) AS feature_timestamp, make_timestamp(${(featureTs + 60_000) * 1000}) AS created_timestamp
      FROM range(${USERS}) t(i)) TO ${sqlStr(path)} (FORMAT parquet, COMPRESSION zstd)`),
  );
}

/** CPU microseconds the Redis server has used so far (INFO cpu: its main thread and the rest). */
async function redisCpuMicros(store: RedisOnlineStore): Promise<number> {
  const info = await store.redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

async function timedMaterialize(store: OnlineStore, file: string, v: OnlineViewSpec = view) {
  const heapBefore = process.memoryUsage().heapUsed;
  let heapMax = heapBefore;
  const cpuBefore = store instanceof RedisOnlineStore ? await redisCpuMicros(store) : 0;
  const clientBefore = process.cpuUsage();
  const r = await materializeParquet(store, v, [file], { engine: ENGINE, onProgress: () => (heapMax = Math.max(heapMax, process.memoryUsage().heapUsed)) });
  const client = process.cpuUsage(clientBefore);
  const redisMicrosPerRow = store instanceof RedisOnlineStore ? ((await redisCpuMicros(store)) - cpuBefore) / r.rows : 0;
  // This process's CPU, DuckDB's threads included.
  const clientMicrosPerRow = (client.user + client.system) / r.rows;
  return {
    ...r,
    rowsPerSecond: Math.round(r.rows / r.seconds),
    heapGrowthMb: Math.round((heapMax - heapBefore) / 1024 ** 2),
    redisMicrosPerRow,
    clientMicrosPerRow,
  };
}

/** Mean byte size of the records stored for a view (a sample of its keys). */
async function meanRecordBytes(store: RedisOnlineStore, v: OnlineViewSpec): Promise<number> {
  const [, keys] = await store.redis.scan('0', 'MATCH', `${store.viewPrefix(v)}*`, 'COUNT', 1000);
  const sizes = await Promise.all(keys.map((k) => store.redis.strlen(k)));
  return Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length);
}

/**
 * redis-benchmark's pipelined `SET key value PXAT t` of `bytes`-byte values on `requests` random keys
 * out of `keys`: requests/s and Redis CPU per request. The keys are deleted afterwards.
 */
async function redisCeiling(store: RedisOnlineStore, requests: number, keys: number, bytes: number): Promise<{ rps: number; redisMicrosPerOp: number } | null> {
  const url = new URL(REDIS_URL);
  const prefix = `${KEY_PREFIX}ceiling:`;
  const expireAt = String(Date.now() + 3_600_000);
  const cpuBefore = await redisCpuMicros(store);
  const r = spawnSync(
    'redis-benchmark',
    [
      '-h',
      url.hostname,
      '-p',
      url.port || '6379',
      '-n',
      String(requests),
      '-r',
      String(keys),
      '-P',
      '500',
      '-q',
      '--csv',
      'SET',
      `${prefix}__rand_int__`,
      'x'.repeat(bytes),
      'PXAT',
      expireAt,
    ],
    { encoding: 'utf8' },
  );
  // redis-benchmark comes with Redis's tools; without it the ceiling is left out, not the benchmark.
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return null;
  if (r.status !== 0) throw new Error(`redis-benchmark failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr}`);
  const redisMicrosPerOp = ((await redisCpuMicros(store)) - cpuBefore) / requests;
  // --csv prints a header line, then "test","rps",... for the command.
  const rps = Number(r.stdout.trim().split('\n').at(-1)!.split(',')[1]!.replaceAll('"', ''));
  for (let cursor = '0'; ; ) {
    const [next, found] = await store.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 10_000);
    if (found.length > 0) await store.redis.unlink(...found);
    if ((cursor = next) === '0') break;
  }
  return { rps: Math.round(rps), redisMicrosPerOp };
}

const userKey = () => `u${String(Math.floor(Math.random() * USERS)).padStart(7, '0')}`;

async function libraryReads(store: OnlineStore, entities: number, count: number) {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const keys = Array.from({ length: entities }, userKey);
    const t = performance.now();
    const [rows] = await store.read([{ view, entityKeys: keys }]);
    ms.push(performance.now() - t);
    if (rows!.some((r) => r.status !== 'present')) throw new Error('bench: an entity was not served');
  }
  return summarize(ms);
}

/** Requests at a fixed rate (open loop: latency includes any queueing), over keep-alive connections. */
async function httpLoad(port: number, entities: number, rate: number, seconds: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const ms: number[] = [];
  let errors = 0;
  let outstanding = 0;
  let dropped = 0;
  const send = () =>
    new Promise<void>((resolve) => {
      const body = JSON.stringify({
        features: view.features.map((f) => `${view.name}:${f.name}`),
        entities: { user_id: Array.from({ length: entities }, userKey) },
      });
      const t = performance.now();
      outstanding++;
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/get-online-features',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            ms.push(performance.now() - t);
            if (res.statusCode !== 200) errors++;
            outstanding--;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        outstanding--;
        resolve();
      });
      req.end(body);
    });
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; sent < due; sent++) {
      if (outstanding >= 512) dropped++;
      else inFlight.push(send());
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  return { ...summarize(ms), rps: Math.round(ms.length / elapsed), errors, dropped };
}

/** Worker thread: the feature server over its own Redis connection. */
async function serveInWorker(): Promise<void> {
  const store = new RedisOnlineStore(REDIS_URL, { keyPrefix: KEY_PREFIX });
  const app = createFeatureServer({ store, views: [view], maxEntities: 1000 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  parentPort!.postMessage(typeof address === 'object' && address ? address.port : 0);
  parentPort!.once('message', async () => {
    await app.close();
    await store.close();
    parentPort!.close();
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gold-bench-online-'));
  const redis = new RedisOnlineStore(REDIS_URL, { keyPrefix: KEY_PREFIX });
  const embedded = new EmbeddedOnlineStore(join(dir, 'online'));
  const figures: Record<string, number | string> = { users: USERS, features: view.features.length, 'load average at start': loadavg()[0]! };
  try {
    await redis.deleteView(view);
    const featureTs = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
    const day = join(dir, 'day.parquet');
    const restated = join(dir, 'day-restated.parquet');
    const t = performance.now();
    await writeGold(day, featureTs, featureTs + 60_000);
    await writeGold(restated, featureTs, featureTs + 120_000);
    figures['parquet generation s (2 files)'] = (performance.now() - t) / 1000;

    // Reading the Parquet and building the records, with a store that keeps nothing: the client's share.
    const kept = async (_v: OnlineViewSpec, rows: readonly unknown[]) => ({ written: rows.length, skippedOlder: 0, skippedExpired: 0 });
    const discard: OnlineStore = {
      kind: 'embedded',
      location: 'nowhere',
      writeRecords: kept,
      writeBatch: kept,
      ping: async () => undefined,
      close: async () => undefined,
      read: async () => [],
      deleteView: async () => 0,
      stats: async () => ({ keys: 0, bytes: 0 }),
      latestFeatureTimestamp: async () => undefined,
    };
    const read = await timedMaterialize(discard, day);
    figures['read + encode only rows/s'] = read.rowsPerSecond;
    figures['read + encode only client CPU us/row'] = read.clientMicrosPerRow;
    const memBefore = (await redis.stats()).bytes;
    const fresh = await timedMaterialize(redis, day);
    figures['redis materialize rows/s (new keys)'] = fresh.rowsPerSecond;
    figures['redis materialize s (new keys)'] = fresh.seconds;
    figures['redis CPU us/row (new keys)'] = fresh.redisMicrosPerRow;
    figures['client CPU us/row (new keys)'] = fresh.clientMicrosPerRow;
    figures['redis bytes per entity'] = Math.round(((await redis.stats()).bytes - memBefore) / USERS);
    const recordBytes = await meanRecordBytes(redis, view);
    figures['record bytes (mean)'] = recordBytes;
    const again = await timedMaterialize(redis, restated);
    figures['redis materialize rows/s (restate)'] = again.rowsPerSecond;
    figures['redis materialize s (restate)'] = again.seconds;
    figures['redis CPU us/row (restate)'] = again.redisMicrosPerRow;
    figures['client CPU us/row (restate)'] = again.clientMicrosPerRow;
    // The same writes through the script alone (no bulk transactions): the watermark spares the compare.
    const scriptOnly = new RedisOnlineStore(REDIS_URL, { keyPrefix: KEY_PREFIX, bulkMinRows: Number.POSITIVE_INFINITY });
    const scripted = await timedMaterialize(scriptOnly, restated).finally(() => scriptOnly.close());
    figures['redis materialize rows/s (script, watermark, no compare)'] = scripted.rowsPerSecond;
    figures['redis CPU us/row (script, watermark, no compare)'] = scripted.redisMicrosPerRow;
    figures['client CPU us/row (script, watermark, no compare)'] = scripted.clientMicrosPerRow;
    // Below the watermark (as when an older date is restated after a newer one): every row compared.
    await redis.redis.set(redis.watermarkKey(view), '9'.repeat(26));
    const compared = await timedMaterialize(redis, restated);
    figures['redis materialize rows/s (every row compared)'] = compared.rowsPerSecond;
    figures['redis CPU us/row (every row compared)'] = compared.redisMicrosPerRow;
    figures['client CPU us/row (every row compared)'] = compared.clientMicrosPerRow;
    figures['materialize JS heap growth MB'] = Math.max(fresh.heapGrowthMb, again.heapGrowthMb, compared.heapGrowthMb);
    // The real user_features view (17 features), new keys.
    const userView = onlineViewOf(userFeatures, 1);
    const userDay = join(dir, 'user-features.parquet');
    await writeUserFeatures(userDay, featureTs);
    await redis.deleteView(userView);
    const users = await timedMaterialize(redis, userDay, userView);
    await redis.deleteView(userView);
    figures['redis materialize rows/s (user_features, new keys)'] = users.rowsPerSecond;
    figures['redis CPU us/row (user_features, new keys)'] = users.redisMicrosPerRow;
    for (const [what, r] of [
      ['new keys', fresh],
      ['restate', again],
      ['script', scripted],
      ['compared', compared],
      ['user_features', users],
    ] as const) {
      if (r.written !== USERS) throw new Error(`bench: the ${what} run wrote ${r.written} rows of ${USERS}`);
    }
    const emb = await timedMaterialize(embedded, day);
    figures['embedded materialize rows/s'] = emb.rowsPerSecond;

    for (const [name, store] of [
      ['redis', redis],
      ['embedded', embedded],
    ] as const) {
      await libraryReads(store, 1, 2000); // warm-up
      const one = await libraryReads(store, 1, 20_000);
      figures[`${name} library 1 entity p50 ms`] = one.p50;
      figures[`${name} library 1 entity p99 ms`] = one.p99;
      const hundred = await libraryReads(store, 100, 2000);
      figures[`${name} library 100 entities p50 ms`] = hundred.p50;
      figures[`${name} library 100 entities p99 ms`] = hundred.p99;
    }

    const worker = new Worker(new URL(import.meta.url), { workerData: { serve: true } });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    // Each phase after a warm-up at its own rate: JIT, and the keep-alive connections that rate needs.
    await httpLoad(port, 1, 2000, 3);
    const single = await httpLoad(port, 1, 2000, HTTP_SECONDS);
    figures['http 1 entity target rps'] = 2000;
    figures['http 1 entity achieved rps'] = single.rps;
    figures['http 1 entity p50 ms'] = single.p50;
    figures['http 1 entity p99 ms'] = single.p99;
    figures['http 1 entity max ms'] = single.max;
    figures['http 1 entity errors+dropped'] = single.errors + single.dropped;
    await httpLoad(port, 100, 200, 3);
    const batch = await httpLoad(port, 100, 200, HTTP_SECONDS);
    figures['http 100 entities target rps'] = 200;
    figures['http 100 entities achieved rps'] = batch.rps;
    figures['http 100 entities p50 ms'] = batch.p50;
    figures['http 100 entities p99 ms'] = batch.p99;
    figures['http 100 entities errors+dropped'] = batch.errors + batch.dropped;
    worker.postMessage('stop');
    await new Promise((r) => worker.once('exit', r));
    // Twice as many requests as users, on random keys out of as many: new keys first, then mostly existing ones.
    const ceiling = await redisCeiling(redis, 2 * USERS, USERS, recordBytes);
    figures['ceiling: redis-benchmark SET PXAT requests/s'] = ceiling?.rps ?? 'redis-benchmark not found';
    if (ceiling) figures['ceiling: redis-benchmark redis CPU us/request'] = ceiling.redisMicrosPerOp;
    figures['peak RSS MB'] = peakRss();
    figures['load average at end'] = loadavg()[0]!;
  } finally {
    await redis.deleteView(view);
    await redis.close();
    await embedded.close();
    rmSync(dir, { recursive: true, force: true });
  }
  report('online', figures);
}

if (isMainThread) await main();
else if ((workerData as { serve?: boolean }).serve) await serveInWorker();
