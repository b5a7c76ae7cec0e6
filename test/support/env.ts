// Per-test settings: a fresh home and lake in a temp folder, the shared servers, S3 credentials.

import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { loadSettings, type Settings, type SettingsOverrides } from '../../src/config/settings.js';

export function useS3Env(): { endpoint: string; bucket: string } {
  const endpoint = inject('s3Endpoint');
  process.env.AWS_ENDPOINT_URL_S3 = endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_REGION = 'us-east-1';
  return { endpoint, bucket: inject('s3Bucket') };
}

export function tempDir(prefix = 'gold-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A unique S3 lake URI in the shared test bucket. */
export function s3LakeUri(): string {
  const { bucket } = useS3Env();
  return `s3://${bucket}/t-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export function testSettings(overrides: SettingsOverrides = {}): Settings {
  const home = tempDir();
  return loadSettings(
    {
      home,
      temporalAddress: inject('temporalAddress'),
      taskQueue: `gold-test-${randomBytes(4).toString('hex')}`,
      logLevel: 'warn',
      duckdbMemory: '2GB',
      ...overrides,
    },
    {},
  );
}
