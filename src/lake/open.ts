// Opens the lake named by a root URI: a plain path, file://... or s3://bucket/prefix.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lake } from './lake.js';
import { LocalLake } from './local-lake.js';
import { S3Lake } from './s3-lake.js';

export interface OpenLakeOptions {
  s3CacheDir: string;
  s3CacheMaxBytes: number;
  /** See S3LakeOptions.inUseMs. */
  s3CacheInUseMs?: number;
}

export function openLake(uri: string, opts: OpenLakeOptions): Lake {
  // The prefix is normalized (and checked) by S3Lake.
  const s3 = /^s3:\/\/([^/]+)(.*)$/i.exec(uri);
  if (s3) return new S3Lake(s3[1]!, s3[2]!, uri, { cacheDir: opts.s3CacheDir, cacheMaxBytes: opts.s3CacheMaxBytes, inUseMs: opts.s3CacheInUseMs });
  if (/^s3:/i.test(uri)) throw new Error(`invalid S3 lake URI ${uri}: expected s3://bucket/prefix`);
  const path = /^file:/i.test(uri) ? fileURLToPath(uri) : resolve(uri);
  mkdirSync(path, { recursive: true });
  return new LocalLake(path, uri);
}
