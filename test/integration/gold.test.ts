// The gold writer on a local folder and on the S3 server: sorted, compressed, sized files committed
// atomically with their manifest; identical rewrites skipped; different ones replacing the whole
// partition; bad staged input refused; listing and deleting ranges.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, sqlList, sqlStr } from '../../src/engine/duckdb.js';
import type { FamilyDecl } from '../../src/features/types.js';
import { commitPartition, committedFiles, type Lake, LakeNotFoundError, openLake, paths, readManifest } from '../../src/lake/index.js';
import { type CommitGoldInput, commitGold, deleteGold, GoldInputError, listGold } from '../../src/offline/index.js';
import { registerFamily, SchemaNotFoundError } from '../../src/registry/index.js';
import { s3LakeUri, tempDir } from '../support/env.js';
import { toyFamily } from '../support/toy-family.js';

const toy: FamilyDecl = toyFamily([
  { name: 'a', type: 'DOUBLE', description: 'a', nullable: true },
  { name: 'b', type: 'BIGINT', description: 'b' },
  { name: 'c', type: 'VARCHAR', description: 'c' },
]);
const DATE = '2026-03-01';
const AS_OF = "TIMESTAMP '2026-03-02 00:00:00'";
const engine = { threads: 1, memoryLimit: '1GB' };

interface StageOptions {
  rows?: number;
  /** Added to b: a different value means different content. */
  shift?: number;
  files?: number;
  createdAt?: string;
  seed?: number;
  /** Replaces the SELECT list (for malformed staging). */
  select?: string;
}

const kinds: [string, () => string][] = [
  ['local', () => tempDir()],
  ['s3', () => s3LakeUri()],
];

describe.each(kinds)('gold writer on %s', (_kind, root) => {
  let db: Engine;
  const lakes: Lake[] = [];
  const scratch = tempDir();
  beforeAll(async () => {
    db = await Engine.create(engine);
  });
  afterAll(async () => {
    db.close();
    await Promise.all(lakes.map((l) => l.close()));
  });

  async function newLake(): Promise<Lake> {
    const l = openLake(root(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    lakes.push(l);
    expect((await registerFamily(l, toy)).version).toBe(1);
    return l;
  }

  /** Stages rows as computeFamily would (unsorted, possibly in several files); returns the staging path. */
  async function stage(l: Lake, runId: string, o: StageOptions = {}): Promise<string> {
    const n = o.rows ?? 500;
    const k = o.files ?? 1;
    const dir = tempDir();
    const select =
      o.select ??
      `'u' || lpad(i::VARCHAR, 5, '0') AS user_id, CASE WHEN i % 7 = 0 THEN NULL ELSE i * 1.5 END AS a, i * 10 + ${o.shift ?? 0} AS b,
       'c' || (i % 3) AS c, ${AS_OF} AS feature_timestamp, ${sqlStr(o.createdAt ?? '2026-03-02 01:00:00')}::TIMESTAMP AS created_timestamp`;
    const files = [];
    for (let j = 0; j < k; j++) {
      const file = join(dir, `part-${j}.parquet`);
      await db.run(`COPY (SELECT ${select} FROM range(${n}) t(i) WHERE i % ${k} = ${j} ORDER BY hash(i + ${o.seed ?? 0})) TO ${sqlStr(file)} (FORMAT parquet)`);
      files.push({ localPath: file });
    }
    const prefix = paths.staging(toy.name, DATE, runId);
    await commitPartition(l, prefix, files, { family: toy.name, date: DATE, runId });
    return prefix;
  }

  function input(stagingPath: string, over: Partial<CommitGoldInput> = {}): CommitGoldInput {
    return { family: toy, date: DATE, stagingPath, runId: 'run-1', schemaVersion: 1, scratchDir: scratch, ...over };
  }

  async function goldRows(l: Lake, date = DATE): Promise<Record<string, unknown>[]> {
    const keys = (await committedFiles(l, paths.gold(toy.name, date)))!;
    const files = await Promise.all(keys.map((k) => l.localFile(k)));
    return db.all(
      `SELECT * FROM read_parquet(${sqlList(files)}, file_row_number = true, filename = true, hive_partitioning = false) ORDER BY list_position(${sqlList(files)}, filename), file_row_number`,
    );
  }

  it('commits the rows sorted by key, ZSTD-compressed, with the manifest meta', async () => {
    const l = await newLake();
    const r = await commitGold(l, engine, input(await stage(l, 'run-1', { files: 2 })));
    expect(r).toMatchObject({ goldPath: 'gold/toy_features/feature_date=2026-03-01', rows: 500, skipped: false });
    expect(r.contentHash).toMatch(/^[0-9a-f]{32}$/);
    expect(r.files).toHaveLength(1);
    const m = (await readManifest(l, r.goldPath))!;
    expect(m.meta).toEqual({
      family: 'toy_features',
      date: DATE,
      rows: 500,
      schemaVersion: 1,
      runId: 'run-1',
      contentHash: r.contentHash,
      compression: 'zstd',
    });
    expect(r.files).toEqual(m.files.map((f) => `${r.goldPath}/${f.name}`));
    expect(r.bytes).toBe(m.files.reduce((a, f) => a + f.size, 0));
    const rows = await goldRows(l);
    expect(rows.map((x) => x.user_id)).toEqual(Array.from({ length: 500 }, (_, i) => `u${String(i).padStart(5, '0')}`));
    expect(Object.keys(rows[0]!).slice(0, 6)).toEqual(['user_id', 'a', 'b', 'c', 'feature_timestamp', 'created_timestamp']);
    expect(rows[7]).toMatchObject({ user_id: 'u00007', a: null, b: 70, c: 'c1' });
    const file = await l.localFile(r.files[0]!);
    expect(await db.all(`SELECT DISTINCT compression FROM parquet_metadata(${sqlStr(file)})`)).toEqual([{ compression: 'ZSTD' }]);
  });

  it('skips a rewrite of the same content: recomputed later, in another order and split', async () => {
    const l = await newLake();
    const first = await commitGold(l, engine, input(await stage(l, 'run-1')));
    const before = (await readManifest(l, first.goldPath))!;
    const again = await commitGold(l, engine, input(await stage(l, 'run-2', { files: 3, seed: 99, createdAt: '2026-03-05 12:00:00' }), { runId: 'run-2' }));
    expect(again).toEqual({ ...first, skipped: true });
    expect((await readManifest(l, first.goldPath))!.commitId).toBe(before.commitId);
  });

  it('replaces the partition whole when the content differs', async () => {
    const l = await newLake();
    const first = await commitGold(l, engine, input(await stage(l, 'run-1')));
    const second = await commitGold(l, engine, input(await stage(l, 'run-2', { rows: 300, shift: 1 }), { runId: 'run-2' }));
    expect(second).toMatchObject({ rows: 300, skipped: false });
    expect(second.contentHash).not.toBe(first.contentHash);
    expect(second.files.some((f) => first.files.includes(f))).toBe(false);
    const rows = await goldRows(l);
    expect(rows).toHaveLength(300);
    expect(rows.every((x) => (x.b as number) % 10 === 1)).toBe(true);
    expect((await readManifest(l, second.goldPath))!.meta).toMatchObject({ rows: 300, runId: 'run-2', contentHash: second.contentHash });
  });

  it('rewrites the same content for another compression or schema version', async () => {
    const l = await newLake();
    const staged = await stage(l, 'run-1');
    await commitGold(l, engine, input(staged));
    const snappy = await commitGold(l, engine, input(staged, { compression: 'snappy' }));
    expect(snappy.skipped).toBe(false);
    expect(await db.all(`SELECT DISTINCT compression FROM parquet_metadata(${sqlStr(await l.localFile(snappy.files[0]!))})`)).toEqual([
      { compression: 'SNAPPY' },
    ]);
    expect((await registerFamily(l, { ...toy, description: 'described anew' })).version).toBe(2);
    const v2 = await commitGold(l, engine, input(staged, { compression: 'snappy', schemaVersion: 2 }));
    expect(v2).toMatchObject({ skipped: false, contentHash: snappy.contentHash });
    expect((await readManifest(l, v2.goldPath))!.meta.schemaVersion).toBe(2);
  });

  it("records extra meta; a change of it is a rewrite, and it cannot override the writer's fields", async () => {
    const l = await newLake();
    const staged = await stage(l, 'run-1');
    const first = await commitGold(l, engine, input(staged, { extraMeta: { codeVersion: 'abc', rows: -1 } }));
    expect((await readManifest(l, first.goldPath))!.meta).toMatchObject({ codeVersion: 'abc', rows: 500 });
    expect((await commitGold(l, engine, input(staged, { extraMeta: { codeVersion: 'abc' } }))).skipped).toBe(true);
    const changed = await commitGold(l, engine, input(staged, { extraMeta: { codeVersion: 'def' } }));
    expect(changed).toMatchObject({ skipped: false, contentHash: first.contentHash });
    expect((await readManifest(l, first.goldPath))!.meta.codeVersion).toBe('def');
  });

  it('splits into files of about the target size, in key order', async () => {
    const l = await newLake();
    // DuckDB closes a file after a row group once the target is reached; row groups have at least 2048 rows.
    const r = await commitGold(l, engine, input(await stage(l, 'run-1', { rows: 10_000 }), { targetFileBytes: 1, rowGroupRows: 2048 }));
    expect(r.files).toHaveLength(5);
    const rows = await goldRows(l);
    const ids = rows.map((x) => x.user_id as string);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(10_000);
  });

  it('commits an empty staged partition as one empty file with the schema', async () => {
    const l = await newLake();
    const r = await commitGold(l, engine, input(await stage(l, 'empty', { rows: 0 })));
    expect(r).toMatchObject({ rows: 0, skipped: false });
    expect(r.files).toHaveLength(1);
    const file = await l.localFile(r.files[0]!);
    expect(
      (await db.all(`DESCRIBE SELECT * FROM read_parquet(${sqlStr(file)}, hive_partitioning = false)`)).map((c) => `${c.column_name} ${c.column_type}`),
    ).toEqual(['user_id VARCHAR', 'a DOUBLE', 'b BIGINT', 'c VARCHAR', 'feature_timestamp TIMESTAMP', 'created_timestamp TIMESTAMP']);
    expect((await commitGold(l, engine, input(await stage(l, 'empty-2', { rows: 0 })))).skipped).toBe(true);
  });

  it('a reader sees the old partition or the new one, never a mix', async () => {
    const l = await newLake();
    const a = await stage(l, 'run-a', { rows: 400 });
    const b = await stage(l, 'run-b', { rows: 250, shift: 1 });
    await commitGold(l, engine, input(a));
    const reader = openLake(l.uri, { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    lakes.push(reader);
    const seen: string[] = [];
    let writing = true;
    const read = async (): Promise<void> => {
      while (writing) {
        try {
          const keys = (await committedFiles(reader, paths.gold(toy.name, DATE)))!;
          const files = await Promise.all(keys.map((k) => reader.localFile(k)));
          const s = await db.one<{ n: number; odd: number }>(
            `SELECT count(*)::BIGINT AS n, count(*) FILTER (WHERE b % 10 = 1)::BIGINT AS odd FROM read_parquet(${sqlList(files)})`,
          );
          seen.push(`${s.n}/${s.odd}`);
        } catch (e) {
          // Files older than the previous commit are removed: a reader that slept through two commits re-reads the manifest.
          if (!(e instanceof LakeNotFoundError) && !/No files found|does not exist/.test((e as Error).message)) throw e;
        }
      }
    };
    const readers = [read(), read()];
    for (let i = 0; i < 6; i++) expect((await commitGold(l, engine, input(i % 2 === 0 ? b : a))).skipped).toBe(false);
    writing = false;
    await Promise.all(readers);
    expect(seen.length).toBeGreaterThan(3);
    expect(new Set(seen)).toEqual(new Set(['400/0', '250/250']));
  });

  it('refuses staged input it cannot commit, with the reason', async () => {
    const l = await newLake();
    await expect(commitGold(l, engine, input(paths.staging(toy.name, DATE, 'never')))).rejects.toThrow(
      /staged partition staging\/toy_features\/feature_date=2026-03-01\/run=never is not committed/,
    );
    const noC = await stage(l, 'no-c', { select: `'u' || i AS user_id, 1.0 AS a, 1 AS b, ${AS_OF} AS feature_timestamp, ${AS_OF} AS created_timestamp` });
    await expect(commitGold(l, engine, input(noC))).rejects.toThrow(/lacks column\(s\) c$/);
    const offGrid = await stage(l, 'off', {
      select: `'u' || i AS user_id, 1.0 AS a, 1 AS b, 'x' AS c, TIMESTAMP '2026-03-01' AS feature_timestamp, ${AS_OF} AS created_timestamp`,
    });
    await expect(commitGold(l, engine, input(offGrid))).rejects.toThrow(
      /500 staged row\(s\) of toy_features for 2026-03-01 have a feature_timestamp other than as_of/,
    );
    const noCreated = await stage(l, 'nocreated', {
      select: `'u' || i AS user_id, 1.0 AS a, 1 AS b, 'x' AS c, ${AS_OF} AS feature_timestamp, NULL::TIMESTAMP AS created_timestamp`,
    });
    await expect(commitGold(l, engine, input(noCreated))).rejects.toThrow(/have no created_timestamp/);
    const badType = await stage(l, 'badtype', {
      select: `'u' || i AS user_id, 1.0 AS a, 'not a number' AS b, 'x' AS c, ${AS_OF} AS feature_timestamp, ${AS_OF} AS created_timestamp`,
    });
    await expect(commitGold(l, engine, input(badType))).rejects.toThrow(/Conversion Error/);
    const good = await stage(l, 'good');
    await expect(commitGold(l, engine, input(good, { schemaVersion: 3 }))).rejects.toBeInstanceOf(SchemaNotFoundError);
    await registerFamily(l, { ...toy, features: [...toy.features, { name: 'd', type: 'DOUBLE', description: 'd' }] });
    const wrongVersion = commitGold(l, engine, input(good, { schemaVersion: 2 }));
    await expect(wrongVersion).rejects.toBeInstanceOf(GoldInputError);
    await expect(commitGold(l, engine, input(good, { schemaVersion: 2 }))).rejects.toThrow(
      /schema version 2 of toy_features does not describe the declaration's columns/,
    );
    await expect(commitGold(l, engine, input(good, { compression: 'gzip' as 'zstd' }))).rejects.toThrow(/unknown compression 'gzip'/);
    await expect(commitGold(l, engine, input(good, { date: '2026-02-30' }))).rejects.toThrow(/invalid date '2026-02-30'/);
    expect(await readManifest(l, paths.gold(toy.name, DATE))).toBeNull();
  });

  it('lists committed partitions in a range and deletes ranges, crashed writes included', async () => {
    const l = await newLake();
    const dates = ['2026-03-01', '2026-03-02', '2026-03-04'];
    for (const [i, d] of dates.entries()) {
      const prefix = paths.staging(toy.name, d, 'r');
      const file = join(tempDir(), 'x.parquet');
      await db.run(
        `COPY (SELECT 'u' || i AS user_id, 1.0 AS a, i AS b, 'x' AS c, TIMESTAMP '${d}' + INTERVAL 1 DAY AS feature_timestamp, now()::TIMESTAMP AS created_timestamp FROM range(${i + 1}) t(i)) TO ${sqlStr(file)} (FORMAT parquet)`,
      );
      await commitPartition(l, prefix, [{ localPath: file }]);
      await commitGold(l, engine, { family: toy, date: d, stagingPath: prefix, runId: 'r', schemaVersion: 1, scratchDir: scratch });
    }
    await l.write(`${paths.gold(toy.name, '2026-03-03')}/part-0-crashed.parquet`, 'a crashed write: no marker');
    const all = await listGold(l, toy.name);
    expect(all.map((p) => [p.date, p.meta.rows, p.meta.schemaVersion, p.files.length])).toEqual([
      ['2026-03-01', 1, 1, 1],
      ['2026-03-02', 2, 1, 1],
      ['2026-03-04', 3, 1, 1],
    ]);
    expect(all[0]!.bytes).toBeGreaterThan(0);
    expect((await listGold(l, toy.name, { from: '2026-03-02', to: '2026-03-03' })).map((p) => p.date)).toEqual(['2026-03-02']);
    expect(await listGold(l, 'nothing_here')).toEqual([]);
    expect(await deleteGold(l, toy.name, { from: '2026-03-02', to: '2026-03-03' })).toEqual(['2026-03-02', '2026-03-03']);
    expect((await listGold(l, toy.name)).map((p) => p.date)).toEqual(['2026-03-01', '2026-03-04']);
    expect(await l.list(paths.gold(toy.name, '2026-03-03'))).toEqual([]);
    await expect(listGold(l, toy.name, { from: '2026-3-1' })).rejects.toThrow(/invalid date/);
  });
});
