// The lake on S3 or an S3-compatible server, through the AWS SDK (path-style addressing, endpoint and
// credentials from the SDK's standard variables). DuckDB cannot read S3 here (no httpfs), so reads go
// through a local cache directory bounded in size.

import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3ClientFromEnv } from '../config/s3.js';
import { logger } from '../shared/logger.js';
import { containedPath, keySegments } from './contain.js';
import { joinKey, type Lake, type LakeEntry, LakeNotFoundError } from './lake.js';

export interface S3LakeOptions {
  cacheDir: string;
  cacheMaxBytes: number;
  client?: S3Client;
  /**
   * A file handed out by localFile is not evicted for this long (default 10 minutes), even if that
   * takes the cache over its bound: a query opens its files after asking for all of them, so a read
   * larger than the bound would otherwise lose its first files before it opened them. This holds
   * across processes sharing the cache folder (the file's modification time records the hand-out).
   */
  inUseMs?: number;
}

const IN_USE_MS = 10 * 60_000;

function isNotFound(e: unknown): boolean {
  return e instanceof S3ServiceException && (e.$metadata.httpStatusCode === 404 || e.name === 'NoSuchKey' || e.name === 'NotFound');
}

/**
 * The key prefix of a lake as written after the bucket, without its leading and trailing slashes
 * (s3://b//lake/ is the lake at 'lake'). An empty segment inside ('a//b') is refused rather than
 * collapsed: it is almost certainly a typo, and S3-compatible servers differ on whether they keep it.
 */
function s3Prefix(raw: string, uri: string): string {
  const prefix = raw.replace(/^\/+|\/+$/g, '');
  if (prefix !== '' && prefix.split('/').includes('')) throw new Error(`invalid S3 lake URI ${uri}: empty path segment in '${raw}'`);
  return prefix;
}

export class S3Lake implements Lake {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  /** Keys of the lake are under this ('' for the whole bucket), normalized by s3Prefix. */
  readonly prefix: string;
  private cacheBytes: number | undefined;
  private warnedOverBound = false;

  constructor(
    readonly bucket: string,
    prefix: string,
    readonly uri: string,
    private readonly opts: S3LakeOptions,
  ) {
    this.prefix = s3Prefix(prefix, uri);
    this.client = opts.client ?? s3ClientFromEnv();
  }

  /** The object key of a lake key, refusing the keys the local lake refuses (the same manifest fails the same way on both). */
  private full(key: string): string {
    if (key !== '') keySegments(key);
    return joinKey(this.prefix, key);
  }

  private rel(fullKey: string): string {
    return this.prefix === '' ? fullKey : fullKey.slice(this.prefix.length + 1);
  }

  async list(prefix: string): Promise<LakeEntry[]> {
    const out: LakeEntry[] = [];
    const p = this.full(prefix);
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: p === '' ? undefined : `${p}/`, ContinuationToken: token }));
      for (const o of r.Contents ?? []) out.push({ key: this.rel(o.Key!), size: o.Size ?? 0, version: o.ETag ?? '' });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async listDirs(prefix: string): Promise<string[]> {
    const out = new Set<string>();
    const p = this.full(prefix);
    const base = p === '' ? '' : `${p}/`;
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base || undefined, Delimiter: '/', ContinuationToken: token }));
      for (const cp of r.CommonPrefixes ?? []) out.add(cp.Prefix!.slice(base.length).replace(/\/$/, ''));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return [...out].sort();
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  async read(key: string): Promise<Buffer> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (e) {
      if (isNotFound(e)) throw new LakeNotFoundError(key, this.uri);
      throw e;
    }
  }

  async write(key: string, data: Buffer | string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.full(key), Body: data }));
  }

  async writeIfAbsent(key: string, data: Buffer | string): Promise<boolean> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.full(key), Body: data, IfNoneMatch: '*' }));
      return true;
    } catch (e) {
      if (e instanceof S3ServiceException && (e.$metadata.httpStatusCode === 412 || e.$metadata.httpStatusCode === 409)) return false;
      throw e;
    }
  }

  async upload(localPath: string, key: string): Promise<void> {
    // lib-storage switches to a multipart upload above one part (16 MiB) and uploads parts in parallel.
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.full(key), Body: createReadStream(localPath) },
      partSize: 16 * 1024 * 1024,
      queueSize: 4,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async delete(key: string): Promise<void> {
    await this.deleteKeys([this.full(key)]);
  }

  private async deleteKeys(fullKeys: string[]): Promise<void> {
    for (let i = 0; i < fullKeys.length; i += 1000) {
      const chunk = fullKeys.slice(i, i + 1000);
      const r = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }));
      if (r.Errors && r.Errors.length > 0) throw new Error(`S3 delete failed for ${r.Errors[0]!.Key}: ${r.Errors[0]!.Message}`);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys = (await this.list(prefix)).map((e) => this.full(e.key));
    await this.deleteKeys(keys);
    return keys.length;
  }

  /** Downloads to the cache (keyed by ETag, so a rewritten object is fetched again) and returns the path. */
  async localFile(key: string): Promise<string> {
    let head: HeadObjectCommandOutput;
    try {
      head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
    } catch (e) {
      if (isNotFound(e)) throw new LakeNotFoundError(key, this.uri);
      throw e;
    }
    const etag = (head.ETag ?? '').replace(/[^A-Za-z0-9_-]/g, '') || 'none';
    const path = containedPath(this.opts.cacheDir, `${this.bucket}/${this.full(key)}/${etag}`, 'S3 cache key');
    try {
      const st = await stat(path);
      const now = new Date();
      // The mark of use the eviction reads, in this process and in any other sharing the folder.
      await utimes(path, now, now);
      if (st.size === (head.ContentLength ?? st.size)) return path;
    } catch {
      // not cached yet
    }
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    await writeFile(tmp, r.Body as NodeJS.ReadableStream);
    await rename(tmp, path);
    await this.evict(head.ContentLength ?? 0, path);
    return path;
  }

  /**
   * Keeps the cache under its bound by removing the least recently used files, except those handed
   * out within inUseMs: their modification time is when (localFile sets it), so the cache folder can
   * be shared by processes (a CLI next to a worker) without one evicting a file another is about to open.
   */
  private async evict(added: number, keep: string): Promise<void> {
    const files: { path: string; size: number; mtime: number }[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const ent of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const full = join(dir, ent.name);
        if (ent.isDirectory()) await walk(full);
        else if (!ent.name.includes('.tmp-')) {
          const st = await stat(full).catch(() => undefined);
          if (st) files.push({ path: full, size: st.size, mtime: st.mtimeMs });
        }
      }
    };
    if (this.cacheBytes === undefined) {
      await walk(this.opts.cacheDir);
      this.cacheBytes = files.reduce((a, f) => a + f.size, 0);
    } else {
      this.cacheBytes += added;
    }
    if (this.cacheBytes <= this.opts.cacheMaxBytes) return;
    if (files.length === 0) await walk(this.opts.cacheDir);
    files.sort((a, b) => a.mtime - b.mtime);
    const usedSince = Date.now() - (this.opts.inUseMs ?? IN_USE_MS);
    let total = files.reduce((a, f) => a + f.size, 0);
    for (const f of files) {
      if (total <= this.opts.cacheMaxBytes) break;
      if (f.path === keep) continue;
      // Read again: another process may have handed the file out (or removed it) since the walk.
      const st = await stat(f.path).catch(() => undefined);
      if (st && st.mtimeMs >= usedSince) continue;
      if (st) await rm(f.path, { force: true });
      total -= f.size;
    }
    if (total > this.opts.cacheMaxBytes && !this.warnedOverBound) {
      this.warnedOverBound = true;
      logger().warn(
        { lake: this.uri, cacheBytes: total, cacheMaxBytes: this.opts.cacheMaxBytes },
        'S3 cache over its bound: the files in use need more (GOLD_S3_CACHE_MAX_BYTES)',
      );
    }
    this.cacheBytes = total;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
