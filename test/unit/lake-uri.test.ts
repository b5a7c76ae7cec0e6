// Lake root URIs: the S3 key prefix is normalized, or refused when it cannot mean one place.
import { describe, expect, it } from 'vitest';
import { openLake } from '../../src/lake/index.js';
import { S3Lake } from '../../src/lake/s3-lake.js';

const opts = { s3CacheDir: '/nonexistent-cache', s3CacheMaxBytes: 1 };

describe('openLake with an S3 URI', () => {
  it.each([
    ['s3://b/lake', 'lake'],
    ['s3://b//lake', 'lake'],
    ['s3://b/lake/', 'lake'],
    ['s3://b', ''],
    ['s3://b/', ''],
    ['s3://b///', ''],
    ['S3://b//a/b//', 'a/b'],
  ])('%s is bucket b, prefix %j', async (uri, prefix) => {
    const lake = openLake(uri, opts);
    expect(lake).toBeInstanceOf(S3Lake);
    expect((lake as S3Lake).bucket).toBe('b');
    expect((lake as S3Lake).prefix).toBe(prefix);
    expect(lake.uri).toBe(uri);
    await lake.close();
  });

  it.each(['s3://b/a//b', 's3://b//a///b/'])('refuses an empty segment inside the prefix: %s', (uri) => {
    expect(() => openLake(uri, opts)).toThrow(`invalid S3 lake URI ${uri}: empty path segment`);
  });

  it.each(['s3://', 's3:///lake', 's3:lake'])('refuses a URI without a bucket: %s', (uri) => {
    expect(() => openLake(uri, opts)).toThrow(`invalid S3 lake URI ${uri}: expected s3://bucket/prefix`);
  });
});

describe('a local lake', () => {
  it('refuses keys that would leave its root, and names that would make such keys', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { paths } = await import('../../src/lake/index.js');
    const lake = openLake(join(mkdtempSync(join(tmpdir(), 'gold-lake-key-')), 'lake'), opts);
    for (const key of ['../x', 'a/../../x', 'a/./b', '/etc/passwd', 'a//b', 'a/', 'a\u0000b', 'a\\..\\b']) {
      await expect(lake.write(key, 'x')).rejects.toThrow(`invalid lake key '${key.replace('\0', '\\0')}'`);
      await expect(lake.list(key)).rejects.toThrow('invalid lake key');
    }
    expect(() => paths.staging('user_features', '2026-01-01', '../../victim')).toThrow("invalid run id '../../victim'");
    expect(paths.staging('user_features', '2026-01-01', '01a22c46-d91d.x_y')).toBe('staging/user_features/feature_date=2026-01-01/run=01a22c46-d91d.x_y');
    await lake.close();
  });
});
