// One Temporal dev server and one S3 server per test run, shared by all test files (one per file races).
import type { TestProject } from 'vitest/node';
import { type S3Server, startS3, startTemporal, type TemporalServer } from './servers.js';

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
  const [t, s] = await Promise.allSettled([startTemporal(), startS3()]);
  if (t.status === 'rejected' || s.status === 'rejected') {
    // Stop the one that did start, so that a failed setup leaves no server behind.
    await Promise.all([t.status === 'fulfilled' ? t.value.stop() : undefined, s.status === 'fulfilled' ? s.value.stop() : undefined]);
    throw t.status === 'rejected' ? t.reason : (s as PromiseRejectedResult).reason;
  }
  [temporal, s3] = [t.value, s.value];
  project.provide('temporalAddress', temporal.address);
  project.provide('s3Endpoint', s3.endpoint);
  project.provide('s3Bucket', s3.bucket);
}

export async function teardown(): Promise<void> {
  await Promise.all([temporal?.stop(), s3?.stop()]);
}
