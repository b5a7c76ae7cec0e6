// One Temporal dev server and one S3 server per test run, shared by all test files (one per file races).
import type { TestProject } from 'vitest/node';
import { startS3, startTemporal, type S3Server, type TemporalServer } from './servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    s3Endpoint: string;
    s3Bucket: string;
  }
}

let temporal: TemporalServer | undefined;
let s3: S3Server | undefined;

export async function setup(project: TestProject): Promise<void> {
  [temporal, s3] = await Promise.all([startTemporal(), startS3()]);
  project.provide('temporalAddress', temporal.address);
  project.provide('s3Endpoint', s3.endpoint);
  project.provide('s3Bucket', s3.bucket);
}

export async function teardown(): Promise<void> {
  await Promise.all([temporal?.stop(), s3?.stop()]);
}
