// Materialization from gold Parquet into both online stores: streamed in bounded chunks, resumable after
// a crash with the exact final state, guarded by timestamps, and refusing bad input.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineOptions, sqlStr, withEngine } from '../../src/engine/duckdb.js';
import { EmbeddedOnlineStore } from '../../src/online/embedded-store.js';
import { encodeEntityKey } from '../../src/online/entity-key.js';
import { type MaterializeCheckpoint, MaterializeError, MaterializeInputError, materializeParquet } from '../../src/online/materialize.js';
import { RedisOnlineStore } from '../../src/online/redis-store.js';
import type { EncodedRow, OnlineStore, WriteResult } from '../../src/online/store.js';
import type { OnlineViewSpec } from '../../src/online/view.js';
import { tempDir } from '../support/env.js';

const ENGINE: EngineOptions = { threads: 2, memoryLimit: '1GB' };
const ROWS = 2500;
const dir = tempDir('gold-materialize-');
const NOW = Date.now();
/** Whole hours, so that the Parquet TIMESTAMPs hold them exactly. */
const D1 = Math.floor((NOW - 5 * 3_600_000) / 3_600_000) * 3_600_000;
const D2 = D1 + 3_600_000;

const view: OnlineViewSpec = {
  name: 'user_features',
  version: 1,
  keys: ['user_id'],
  ttlSeconds: 2 * 86_400,
  features: [
    { name: 'watch_time_7d', type: 'DOUBLE' },
    { name: 'video_count_7d', type: 'BIGINT' },
    { name: 'top_category', type: 'VARCHAR' },
    { name: 'last_event', type: 'TIMESTAMP' },
    { name: 'embedding', type: 'FLOAT[]' },
    { name: 'recent', type: 'VARCHAR[]' },
    { name: 'completion_rate', type: 'DOUBLE' },
  ],
};

const pairView: OnlineViewSpec = {
  name: 'stats',
  version: 1,
  keys: ['family', 'feature'],
  ttlSeconds: 86_400,
  features: [{ name: 'mean', type: 'DOUBLE' }],
};

const ts = (ms: number) => `make_timestamp(${ms * 1000})`;

/** A gold-like partition: ROWS users, values derived from the row number and a salt, at feature time `at`. */
async function partition(name: string, at: number, createdAt: number, salt: number, rows = ROWS): Promise<string> {
  const path = join(dir, `${name}.parquet`);
  await withEngine(ENGINE, (db) =>
    db.run(`COPY (SELECT 'u' || i AS user_id,
        (i * 1.5 + ${salt})::DOUBLE AS watch_time_7d,
        (i + ${salt})::BIGINT AS video_count_7d,
        CASE WHEN i % 3 = 0 THEN NULL ELSE 'cat' || (i % 5) END AS top_category,
        ${ts(at)} - to_seconds(i) AS last_event,
        [i::FLOAT / 4, ${salt}::FLOAT] AS embedding,
        CASE WHEN i % 2 = 0 THEN ['a|' || i, 'x"y'] ELSE [] END AS recent,
        CASE WHEN i % 7 = 0 THEN NULL ELSE i / ${rows} END AS completion_rate,
        ${ts(at)} AS feature_timestamp, ${ts(createdAt)} AS created_timestamp
      FROM range(${rows}) t(i)) TO ${sqlStr(path)} (FORMAT parquet, ROW_GROUP_SIZE 1000)`),
  );
  return path;
}

function expected(i: number, at: number, salt: number): unknown[] {
  return [
    i * 1.5 + salt,
    i + salt,
    i % 3 === 0 ? null : `cat${i % 5}`,
    new Date(at - i * 1000),
    [i / 4, salt],
    i % 2 === 0 ? [`a|${i}`, 'x"y'] : [],
    i % 7 === 0 ? null : i / ROWS,
  ];
}

const allKeys = Array.from({ length: ROWS }, (_, i) => `u${i}`);

async function readAll(store: OnlineStore, v = view, keys = allKeys) {
  const [rows] = await store.read([{ view: v, entityKeys: keys }], NOW);
  return rows!;
}

/** The real store, observed: the largest batch it was handed and the most writes pending at once. */
function observed(store: OnlineStore) {
  const seen = { maxBatch: 0, maxPending: 0, pending: 0, batches: 0 };
  const wrapped: OnlineStore = Object.create(store) as OnlineStore;
  wrapped.writeRecords = async (v: OnlineViewSpec, rows: readonly EncodedRow[], now?: number): Promise<WriteResult> => {
    seen.batches++;
    seen.maxBatch = Math.max(seen.maxBatch, rows.length);
    seen.maxPending = Math.max(seen.maxPending, ++seen.pending);
    try {
      return await store.writeRecords(v, rows, now);
    } finally {
      seen.pending--;
    }
  };
  return { wrapped, seen };
}

function memoryCheckpoint(): MaterializeCheckpoint & { saved: number[] } {
  const saved: number[] = [];
  return { saved, load: async () => saved.at(-1), save: async (n) => void saved.push(n) };
}

const prefix = `gold-test-mat-${randomBytes(4).toString('hex')}`;
let n = 0;
const makers: [string, () => OnlineStore][] = [
  ['redis', () => new RedisOnlineStore('redis://127.0.0.1:6379', { keyPrefix: `${prefix}-${n++}:` })],
  ['embedded', () => new EmbeddedOnlineStore(join(tempDir('gold-mat-online-'), 'online'))],
];

let d1: string;
let d2: string;
let d2Restated: string;
beforeAll(async () => {
  d1 = await partition('d1', D1, D1 + 60_000, 1);
  d2 = await partition('d2', D2, D2 + 60_000, 2);
  d2Restated = await partition('d2-restated', D2, D2 + 120_000, 3);
});

describe.each(makers)('materialization into the %s store', (_kind, make) => {
  const opened: OnlineStore[] = [];
  const open = () => {
    const s = make();
    opened.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of opened) {
      await s.deleteView(view);
      await s.deleteView(pairView);
      await s.close();
    }
  });

  it('streams a partition larger than a chunk in bounded, pipelined chunks and serves every row', async () => {
    const { wrapped, seen } = observed(open());
    const progress: number[] = [];
    const r = await materializeParquet(wrapped, view, [d1], { engine: ENGINE, chunkRows: 300, onProgress: (x) => progress.push(x) });
    expect(r).toMatchObject({ rows: ROWS, resumedFrom: 0, written: ROWS, skippedOlder: 0, skippedExpired: 0 });
    expect(seen.batches).toBe(Math.ceil(ROWS / 300));
    expect(seen.maxBatch).toBe(300);
    expect(seen.maxPending).toBeGreaterThan(1); // the next chunk was read while earlier ones were written
    expect(seen.maxPending).toBeLessThanOrEqual(3);
    expect(progress).toEqual([...Array.from({ length: Math.floor(ROWS / 300) }, (_, i) => (i + 1) * 300), ROWS]);
    const rows = await readAll(wrapped);
    expect(rows.every((x) => x.status === 'present' && x.featureTimestamp === D1)).toBe(true);
    for (const i of [0, 1, 2, 7, 999, 1000, ROWS - 1]) expect(rows[i]!.values).toEqual(expected(i, D1, 1));
  });

  it('after a crash midway, resumes from the checkpoint and ends in exactly the state of an uninterrupted run', async () => {
    const reference = open();
    await materializeParquet(reference, view, [d1, d2], { engine: ENGINE, chunkRows: 400 });

    const store = open();
    const checkpoint = memoryCheckpoint();
    const crash = new Error('worker killed');
    await expect(
      materializeParquet(store, view, [d1, d2], {
        engine: ENGINE,
        chunkRows: 400,
        checkpoint,
        onProgress: (done) => {
          if (done >= 2800) throw crash;
        },
      }),
    ).rejects.toBe(crash);
    const crashedAt = checkpoint.saved.at(-1)!;
    expect(crashedAt).toBe(2800);
    const partial = await readAll(store);
    expect(partial.some((x) => x.featureTimestamp === D2)).toBe(true);
    expect(partial.some((x) => x.featureTimestamp === D1)).toBe(true);

    const progress: number[] = [];
    const r = await materializeParquet(store, view, [d1, d2], { engine: ENGINE, chunkRows: 400, checkpoint, onProgress: (x) => progress.push(x) });
    expect(r.rows).toBe(2 * ROWS);
    expect(r.resumedFrom).toBe(crashedAt);
    expect(progress[0]).toBe(crashedAt + 400);
    expect(checkpoint.saved.at(-1)).toBe(2 * ROWS);
    expect(await readAll(store)).toEqual(await readAll(reference));
    expect((await readAll(store)).every((x) => x.featureTimestamp === D2)).toBe(true);
  });

  it('never lets an older date overwrite a newer one, and restates a recomputed date', async () => {
    const store = open();
    await materializeParquet(store, view, [d2], { engine: ENGINE });
    const older = await materializeParquet(store, view, [d1], { engine: ENGINE });
    expect(older).toMatchObject({ written: 0, skippedOlder: ROWS });
    expect((await readAll(store, view, ['u5']))[0]!.values).toEqual(expected(5, D2, 2));
    const restated = await materializeParquet(store, view, [d2Restated], { engine: ENGINE });
    expect(restated).toMatchObject({ written: ROWS, skippedOlder: 0 });
    // The first recomputation (earlier created_timestamp) arriving late does not undo the restatement.
    expect(await materializeParquet(store, view, [d2], { engine: ENGINE })).toMatchObject({ written: 0, skippedOlder: ROWS });
    expect((await readAll(store, view, ['u5']))[0]!.values).toEqual(expected(5, D2, 3));
  });

  it('gives the same state whatever the order of the files', async () => {
    const a = open();
    const b = open();
    await materializeParquet(a, view, [d1, d2Restated, d2], { engine: ENGINE, chunkRows: 700 });
    await materializeParquet(b, view, [d2, d1, d2Restated], { engine: ENGINE, chunkRows: 700 });
    expect(await readAll(a)).toEqual(await readAll(b));
    expect((await readAll(a, view, ['u9']))[0]!.values).toEqual(expected(9, D2, 3));
  });

  it('encodes composite entity keys in SQL exactly as readers do in JS', async () => {
    const store = open();
    const path = join(dir, 'stats.parquet');
    await withEngine(ENGINE, (db) =>
      db.run(`COPY (SELECT * FROM (VALUES ('user_features', 'watch|time', 1.5), ('user|features', 'watch', 2.5), ('a\\', '|b', 3.5)) t(family, feature, mean)
          CROSS JOIN (SELECT ${ts(D2)} AS feature_timestamp, ${ts(D2)} AS created_timestamp)) TO ${sqlStr(path)} (FORMAT parquet)`),
    );
    expect(await materializeParquet(store, pairView, [path], { engine: ENGINE })).toMatchObject({ rows: 3, written: 3 });
    const keys = [
      ['user_features', 'watch|time'],
      ['user|features', 'watch'],
      ['a\\', '|b'],
      ['user_features', 'watch'],
    ].map(encodeEntityKey);
    const [rows] = await store.read([{ view: pairView, entityKeys: keys }], NOW);
    expect(rows!.map((r) => r.values[0])).toEqual([1.5, 2.5, 3.5, null]);
  });

  it('refuses columns of another kind than the view declares, naming each, before any write; accepts another width', async () => {
    const store = open();
    const mistyped = join(dir, 'mistyped.parquet');
    await withEngine(ENGINE, (db) =>
      db.run(`COPY (SELECT * REPLACE (CAST(video_count_7d AS VARCHAR) AS video_count_7d, CAST(embedding AS VARCHAR[]) AS embedding, CAST(feature_timestamp AS DATE) AS feature_timestamp)
        FROM ${sqlStr(d1)}) TO ${sqlStr(mistyped)} (FORMAT parquet)`),
    );
    const refused = materializeParquet(store, view, [mistyped], { engine: ENGINE });
    await expect(refused).rejects.toThrow(
      "materializing user_features: column type(s) differ from the view's: video_count_7d is VARCHAR, declared BIGINT; embedding is VARCHAR[], declared FLOAT[]; feature_timestamp is DATE, declared TIMESTAMP",
    );
    await expect(refused).rejects.toMatchObject({ name: 'MaterializeInputError', nonRetryable: true });
    expect((await readAll(store, view, ['u1']))[0]!.status).toBe('not_found');
    // An INTEGER column for a BIGINT feature is stored alike.
    const narrower = join(dir, 'narrower.parquet');
    await withEngine(ENGINE, (db) =>
      db.run(`COPY (SELECT * REPLACE (CAST(video_count_7d AS INTEGER) AS video_count_7d) FROM ${sqlStr(d1)}) TO ${sqlStr(narrower)} (FORMAT parquet)`),
    );
    expect(await materializeParquet(store, view, [narrower], { engine: ENGINE })).toMatchObject({ written: ROWS });
    expect((await readAll(store, view, ['u1']))[0]!.values).toEqual(expected(1, D1, 1));
  });

  it('refuses input it cannot materialize, with the reason', async () => {
    const store = open();
    await expect(materializeParquet(store, view, [join(dir, 'nope.parquet')], { engine: ENGINE })).rejects.toThrow(/no such file: .*nope\.parquet/);
    await expect(materializeParquet(store, view, [], { engine: ENGINE })).rejects.toThrow(MaterializeError);
    const missingFeature = materializeParquet(store, { ...view, features: [...view.features, { name: 'missing_feature', type: 'DOUBLE' }] }, [d1], {
      engine: ENGINE,
    });
    await expect(missingFeature).rejects.toThrow(/lack column\(s\) missing_feature/);
    await expect(missingFeature).rejects.toThrow(MaterializeInputError);
    const nullKeys = join(dir, 'null-keys.parquet');
    await withEngine(ENGINE, (db) =>
      db.run(
        `COPY (SELECT CASE WHEN user_id = 'u3' THEN NULL ELSE user_id END AS user_id, * EXCLUDE (user_id) FROM ${sqlStr(d1)}) TO ${sqlStr(nullKeys)} (FORMAT parquet)`,
      ),
    );
    await expect(materializeParquet(store, view, [nullKeys], { engine: ENGINE })).rejects.toThrow(/1 row\(s\) have a null entity key \(user_id\)/);
    const early = join(dir, 'early.parquet');
    await withEngine(ENGINE, (db) =>
      db.run(`COPY (SELECT * REPLACE (TIMESTAMP '1960-01-01' AS created_timestamp) FROM ${sqlStr(d1)}) TO ${sqlStr(early)} (FORMAT parquet)`),
    );
    await expect(materializeParquet(store, view, [early], { engine: ENGINE })).rejects.toThrow(/between 1970 and 2286/);
    const foreign = { load: async () => ROWS + 1, save: async () => undefined };
    await expect(materializeParquet(store, view, [d1], { engine: ENGINE, checkpoint: foreign })).rejects.toThrow(
      /checkpoint says 2501 rows done but the files hold 2500/,
    );
    await expect(materializeParquet(store, view, [d1], { engine: ENGINE, chunkRows: 0 })).rejects.toThrow(/chunkRows/);
  });
});
