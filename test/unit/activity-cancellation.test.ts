// An activity's cancellation reaches its DuckDB queries: they are interrupted, and the activity ends
// as cancelled (not as a failure to retry), through the SDK's mock activity environment.
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { toFailure } from '../../activities/errors.js';
import { withHeartbeat } from '../../activities/runtime.js';
import { Engine, withEngine } from '../../src/engine/duckdb.js';

const ENGINE = { threads: 1, memoryLimit: '512MB' };
// Minutes of work for one thread: only an interrupt ends it early.
const LONG_QUERY = 'SELECT sum(hash(a.range + b.range)) FROM range(100000000) a, range(100) b';

describe('cancelling an activity', () => {
  it('interrupts the running query and ends the activity as cancelled', async () => {
    const env = new MockActivityEnvironment();
    const t0 = Date.now();
    const run = env.run(() => withHeartbeat(() => withEngine(ENGINE, (db) => db.run(LONG_QUERY))));
    setTimeout(() => env.cancel(), 500);
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(Date.now() - t0).toBeLessThan(5000);
    // Classified as itself, not wrapped into a retryable failure.
    expect(toFailure(err)).toBe(err);
  });

  it('refuses to start an engine once cancelled, and leaves engines outside activities alone', async () => {
    const env = new MockActivityEnvironment();
    const run = env.run(() =>
      withHeartbeat(async () => {
        await new Promise((r) => setTimeout(r, 300));
        return Engine.create(ENGINE);
      }),
    );
    env.cancel();
    await expect(run).rejects.toBeInstanceOf(CancelledFailure);
    const n = await withEngine(ENGINE, (db) => db.one<{ n: number }>('SELECT 42 AS n'));
    expect(n).toEqual({ n: 42 });
  });
});
