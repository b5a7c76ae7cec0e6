// The lake contract, run against a local folder and the real S3 server (SeaweedFS).
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  COMMIT_MARKER,
  commitPartition,
  committedFiles,
  deletePartition,
  type Lake,
  LakeNotFoundError,
  openLake,
  readManifest,
  UnsafeKeyError,
} from '../../src/lake/index.js';
import type { S3Lake } from '../../src/lake/s3-lake.js';
import { s3LakeUri, tempDir } from '../support/env.js';

function dirSize(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    total += e.isDirectory() ? dirSize(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  }
  return total;
}

/** The lake with one operation made to fail, to simulate a crash at that point. */
function crashingOn(lake: Lake, failWhen: (method: string, key: string) => boolean): Lake {
  return new Proxy(lake, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const key = String(prop === 'upload' ? args[1] : args[0]);
        if (failWhen(String(prop), key)) return Promise.reject(new Error(`simulated crash in ${String(prop)} ${key}`));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

const kinds: [string, () => Lake][] = [
  ['local', () => openLake(tempDir(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 })],
  ['s3', () => openLake(s3LakeUri(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 })],
];

describe.each(kinds)('lake on %s', (_kind, make) => {
  const lakes: Lake[] = [];
  const lake = (): Lake => {
    const l = make();
    lakes.push(l);
    return l;
  };
  afterAll(async () => {
    await Promise.all(lakes.map((l) => l.close()));
  });

  it('writes, reads, lists, deletes', async () => {
    const l = lake();
    await l.write('a/x=1/f.txt', 'one');
    await l.write('a/x=2/f.txt', Buffer.from('two'));
    await l.write('a/x=2/g/h.txt', 'deep');
    expect((await l.read('a/x=1/f.txt')).toString()).toBe('one');
    expect(await l.exists('a/x=1/f.txt')).toBe(true);
    expect(await l.exists('a/x=3/f.txt')).toBe(false);
    expect((await l.list('a')).map((e) => e.key)).toEqual(['a/x=1/f.txt', 'a/x=2/f.txt', 'a/x=2/g/h.txt']);
    expect(await l.listDirs('a')).toEqual(['x=1', 'x=2']);
    expect(await l.listDirs('nothing/here')).toEqual([]);
    await expect(l.read('a/missing')).rejects.toBeInstanceOf(LakeNotFoundError);
    expect(await l.deletePrefix('a/x=2')).toBe(2);
    expect((await l.list('a')).map((e) => e.key)).toEqual(['a/x=1/f.txt']);
    await l.delete('a/x=1/f.txt');
    expect(await l.list('a')).toEqual([]);
  });

  it('creates an object once under concurrent conditional writes', async () => {
    const l = lake();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => l.writeIfAbsent('reg/v1.json', `writer-${i}`)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect((await l.read('reg/v1.json')).toString()).toBe(`writer-${winner}`);
  });

  it('commits a partition atomically and replaces it whole', async () => {
    const l = lake();
    const dir = tempDir();
    const f1 = join(dir, 'a.parquet');
    const f2 = join(dir, 'b.parquet');
    writeFileSync(f1, 'first');
    writeFileSync(f2, 'second');
    expect(await committedFiles(l, 'gold/f/feature_date=2026-01-01')).toBeNull();
    const m1 = await commitPartition(l, 'gold/f/feature_date=2026-01-01', [{ localPath: f1 }, { localPath: f2 }], { rows: 2 });
    expect(m1.files).toHaveLength(2);
    expect((await readManifest(l, 'gold/f/feature_date=2026-01-01'))!.meta).toEqual({ rows: 2 });
    const keys1 = (await committedFiles(l, 'gold/f/feature_date=2026-01-01'))!;
    expect(await Promise.all(keys1.map(async (k) => (await l.read(k)).toString()))).toEqual(['first', 'second']);

    writeFileSync(f1, 'third');
    await commitPartition(l, 'gold/f/feature_date=2026-01-01', [{ localPath: f1 }], { rows: 1 });
    const keys2 = (await committedFiles(l, 'gold/f/feature_date=2026-01-01'))!;
    expect(keys2).toHaveLength(1);
    expect((await l.read(keys2[0]!)).toString()).toBe('third');

    // Two more commits: the first two generations are listed by no manifest now, but they are younger
    // than the grace period (a commit still writing would look the same), so they stay until a commit
    // after it; the previous generation is always kept for readers.
    await commitPartition(l, 'gold/f/feature_date=2026-01-01', [{ localPath: f2 }]);
    await commitPartition(l, 'gold/f/feature_date=2026-01-01', [{ localPath: f2 }]);
    for (const k of [...keys1, ...keys2]) expect(await l.exists(k)).toBe(true);
    const previous = (await committedFiles(l, 'gold/f/feature_date=2026-01-01'))!;
    await commitPartition(l, 'gold/f/feature_date=2026-01-01', [{ localPath: f2 }], {}, { strayGraceMs: 0 });
    for (const k of [...keys1, ...keys2]) expect(await l.exists(k)).toBe(false);
    for (const k of previous) expect(await l.exists(k)).toBe(true);

    await deletePartition(l, 'gold/f/feature_date=2026-01-01');
    expect(await committedFiles(l, 'gold/f/feature_date=2026-01-01')).toBeNull();
    expect(await l.list('gold/f/feature_date=2026-01-01')).toEqual([]);
  });

  it('a crash mid-commit leaves the previous partition visible and no partial one', async () => {
    const l = lake();
    const dir = tempDir();
    const old = join(dir, 'old.parquet');
    writeFileSync(old, 'old');
    const prefix = 'gold/f/feature_date=2026-01-02';
    await commitPartition(l, prefix, [{ localPath: old }]);

    const files = [0, 1, 2].map((i) => {
      const p = join(dir, `new-${i}.parquet`);
      writeFileSync(p, `new-${i}`);
      return { localPath: p };
    });
    // Crash after two data files are uploaded, before the marker.
    let uploads = 0;
    const crashAfterTwo = crashingOn(l, (method) => method === 'upload' && ++uploads > 2);
    await expect(commitPartition(crashAfterTwo, prefix, files)).rejects.toThrow(/simulated crash/);
    let visible = (await committedFiles(l, prefix))!;
    expect(await Promise.all(visible.map(async (k) => (await l.read(k)).toString()))).toEqual(['old']);

    // Crash on the marker itself: still the old partition.
    const crashOnMarker = crashingOn(l, (method, key) => method === 'write' && key.endsWith(COMMIT_MARKER));
    await expect(commitPartition(crashOnMarker, prefix, files)).rejects.toThrow(/simulated crash/);
    visible = (await committedFiles(l, prefix))!;
    expect(await Promise.all(visible.map(async (k) => (await l.read(k)).toString()))).toEqual(['old']);
    const orphans = (await l.list(prefix)).length;
    expect(orphans).toBe(1 + 1 + 2 + 3); // marker, old file, both crashed attempts' files

    // The retry commits the new partition whole. The crashed attempts' files are young: another commit
    // may still be writing them, so they stay for the grace period.
    await commitPartition(l, prefix, files);
    visible = (await committedFiles(l, prefix))!;
    expect(await Promise.all(visible.map(async (k) => (await l.read(k)).toString()))).toEqual(['new-0', 'new-1', 'new-2']);
    expect((await l.list(prefix)).length).toBe(1 + 3 + 1 + 5); // marker, new files, the previous generation, the crashed ones
    // Once they are older than the grace period, the next commit removes them.
    await commitPartition(l, prefix, files, {}, { strayGraceMs: 0 });
    expect((await l.list(prefix)).length).toBe(1 + 3 + 3); // marker, new files, the previous generation
  });

  it('two commits of one partition at once: the last marker wins and its files are all there', async () => {
    const l = lake();
    const dir = tempDir();
    const prefix = 'gold/f/feature_date=2026-01-03';
    const staged = (label: string) =>
      [0, 1].map((i) => {
        const p = join(dir, `${label}-${i}.parquet`);
        writeFileSync(p, `${label}-${i}`);
        return { localPath: p };
      });
    await commitPartition(l, prefix, staged('old'));
    // A uploads its files, then is slow to write its marker; B commits whole meanwhile, then A ends.
    let releaseA!: () => void;
    let commitA!: Promise<unknown>;
    const aUploaded = new Promise<void>((resolve) => {
      const slowMarker = new Proxy(l, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver) as unknown;
          if (prop !== 'write' || typeof v !== 'function') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          return async (key: string, data: string) => {
            if (key.endsWith(COMMIT_MARKER)) {
              resolve();
              await new Promise<void>((r) => (releaseA = r));
            }
            return (v as (k: string, d: string) => Promise<void>).call(target, key, data);
          };
        },
      });
      commitA = commitPartition(slowMarker, prefix, staged('a'));
    });
    await aUploaded;
    await commitPartition(l, prefix, staged('b'));
    const readAll = async () => Promise.all((await committedFiles(l, prefix))!.map(async (k) => (await l.read(k)).toString()));
    expect(await readAll()).toEqual(['b-0', 'b-1']);
    releaseA();
    await commitA;
    expect(await readAll()).toEqual(['a-0', 'a-1']);
    // And the other way round: B's files survive A's cleanup, so B's marker, written last, is whole too.
    await commitPartition(l, prefix, staged('b'));
    expect(await readAll()).toEqual(['b-0', 'b-1']);
  });

  it('uploads a large file (multipart on S3) and hands DuckDB a local copy', async () => {
    const l = lake();
    const dir = tempDir();
    const big = join(dir, 'big.bin');
    const data = randomBytes(40 * 1024 * 1024);
    writeFileSync(big, data);
    await l.upload(big, 'big/big.bin');
    const local = await l.localFile('big/big.bin');
    expect(readFileSync(local).equals(data)).toBe(true);
    expect((await l.list('big'))[0]!.size).toBe(data.length);
  });
});

describe('S3 lake cache', () => {
  it('never places a file outside the cache folder, whatever the key', async () => {
    const root = tempDir();
    const cacheDir = join(root, 'cache', 'deep', 'er');
    const uri = s3LakeUri();
    const l = openLake(uri, { s3CacheDir: cacheDir, s3CacheMaxBytes: 1e9 }) as S3Lake;
    const name = `escape-${randomBytes(4).toString('hex')}`;
    try {
      // Refused before any request: an S3 server that keeps '..' in keys would have the object.
      const key = `a/../../../../../${name}`;
      await expect(l.localFile(key)).rejects.toThrow(UnsafeKeyError);
      await expect(l.localFile(key)).rejects.toThrow(`invalid lake key '${key}': '..' not allowed`);
      for (const bad of ['/abs', 'a//b', 'a/', 'a\u0000b', '.']) await expect(l.localFile(bad), bad).rejects.toThrow(UnsafeKeyError);
      const found: string[] = [];
      const walk = (d: string) => readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(join(d, e.name)) : found.push(e.name)));
      walk(root);
      expect(found.filter((f) => f.includes(name))).toEqual([]);
    } finally {
      await l.close();
    }
  });

  it('stays under its size bound, least recently used first, and refetches rewritten objects', async () => {
    const cacheDir = tempDir();
    const l = openLake(s3LakeUri(), { s3CacheDir: cacheDir, s3CacheMaxBytes: 3 * 1024 * 1024, s3CacheInUseMs: 0 }) as S3Lake;
    try {
      for (let i = 0; i < 6; i++) await l.write(`c/${i}.bin`, randomBytes(1024 * 1024));
      for (let i = 0; i < 6; i++) await l.localFile(`c/${i}.bin`);
      expect(dirSize(cacheDir)).toBeLessThanOrEqual(3 * 1024 * 1024);
      await l.write('c/5.bin', 'rewritten');
      expect(readFileSync(await l.localFile('c/5.bin'), 'utf8')).toBe('rewritten');
    } finally {
      await l.close();
    }
  });

  it('keeps every file of a read larger than its bound until it is used, then evicts again', async () => {
    const cacheDir = tempDir();
    const l = openLake(s3LakeUri(), { s3CacheDir: cacheDir, s3CacheMaxBytes: 1024 * 1024, s3CacheInUseMs: 1500 }) as S3Lake;
    try {
      for (let i = 0; i < 4; i++) await l.write(`big/${i}.bin`, randomBytes(1024 * 1024));
      const paths = [];
      for (let i = 0; i < 4; i++) paths.push(await l.localFile(`big/${i}.bin`));
      // All four are still there for the query that asked for them, over the bound.
      expect(paths.map((p) => statSync(p).size)).toEqual([1, 2, 3, 4].map(() => 1024 * 1024));
      await new Promise((r) => setTimeout(r, 1600));
      await l.write('big/4.bin', randomBytes(1024 * 1024));
      await l.localFile('big/4.bin');
      expect(dirSize(cacheDir)).toBeLessThanOrEqual(1024 * 1024);
    } finally {
      await l.close();
    }
  });

  it('does not evict a file another process sharing the folder handed out lately', async () => {
    const cacheDir = tempDir();
    const uri = s3LakeUri();
    // Two lakes on one cache folder: a CLI next to a worker, each with its own memory.
    const [a, b] = [0, 1].map(() => openLake(uri, { s3CacheDir: cacheDir, s3CacheMaxBytes: 1024 * 1024, s3CacheInUseMs: 1500 }) as S3Lake);
    try {
      for (let i = 0; i < 3; i++) await a!.write(`shared/${i}.bin`, randomBytes(1024 * 1024));
      const fromA = await a!.localFile('shared/0.bin');
      await b!.localFile('shared/1.bin');
      // b went over the bound, but a's file is in use: both stay, for now.
      expect(statSync(fromA).size).toBe(1024 * 1024);
      expect(dirSize(cacheDir)).toBe(2 * 1024 * 1024);
      await new Promise((r) => setTimeout(r, 1600));
      // Past inUseMs, b evicts both for the file it has just fetched.
      const last = await b!.localFile('shared/2.bin');
      expect(existsSync(fromA)).toBe(false);
      expect(statSync(last).size).toBe(1024 * 1024);
      expect(dirSize(cacheDir)).toBe(1024 * 1024);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });
});

describe('S3 lake URIs', () => {
  it('reads and lists the same keys through a URI with extra slashes around the prefix', async () => {
    const uri = s3LakeUri();
    const plain = openLake(uri, { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    const slashed = openLake(`${uri.replace(/^(s3:\/\/[^/]+)\//, '$1//')}/`, { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    try {
      await slashed.write('gold/f/feature_date=2026-01-01/x.parquet', 'x');
      expect((await slashed.list('gold')).map((e) => e.key)).toEqual(['gold/f/feature_date=2026-01-01/x.parquet']);
      expect(await slashed.listDirs('gold/f')).toEqual(['feature_date=2026-01-01']);
      expect((await plain.read('gold/f/feature_date=2026-01-01/x.parquet')).toString()).toBe('x');
    } finally {
      await Promise.all([plain.close(), slashed.close()]);
    }
  });
});
