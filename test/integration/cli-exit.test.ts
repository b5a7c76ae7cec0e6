// Every `gold` command (the built CLI, a process of its own) closes what it opened and exits by itself
// within a bound, with a Redis online store (a real redis-server of its own): an open connection would
// keep the process alive after its work is done. Long-running commands exit on SIGTERM.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { packageRoot } from '../../src/tools/binaries.js';
import { tempDir } from '../support/env.js';
import { type RedisServer, startRedis } from '../support/servers.js';

const D = '2024-03-01';
let redis: RedisServer;
let env: Record<string, string>;

interface Exit {
  code: number | null;
  seconds: number;
  stderr: string;
}

/**
 * Runs `gold args`; kills it at the bound (code null then). `signalAfterMs`: send SIGTERM once it has
 * run that long; `signalOn`: once its stderr says so.
 */
function gold(args: string[], boundMs: number, signalAfterMs?: number, signalOn?: RegExp): Promise<Exit> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [join(packageRoot, 'bin', 'gold.js'), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let signalled = false;
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (signalOn && !signalled && signalOn.test(stderr)) {
      signalled = true;
      child.kill('SIGTERM');
    }
  });
  const kill = setTimeout(() => child.kill('SIGKILL'), boundMs);
  const signal = signalAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), signalAfterMs);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(kill);
      clearTimeout(signal);
      resolve({ code, seconds: (Date.now() - t0) / 1000, stderr });
    }),
  );
}

beforeAll(async () => {
  redis = await startRedis();
  env = {
    GOLD_HOME: tempDir('gold-cli-exit-'),
    GOLD_LAKE: tempDir('gold-cli-exit-lake-'),
    GOLD_ONLINE_STORE: `${redis.url}/0`,
    GOLD_LOG_LEVEL: 'warn',
    GOLD_METRICS_PORT: '0',
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    GOLD_TASK_QUEUE: `gold-test-${randomBytes(4).toString('hex')}`,
  };
  const r = await gold(['silver', 'generate', '--from', '2024-02-25', '--to', D, '--users', '200', '--videos', '100', '--events-per-day', '3000'], 120_000);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => redis?.stop());

describe('gold with a Redis online store exits by itself', () => {
  it.each([
    [['run', 'daily', '--local', '--date', D], 0],
    [['features', 'online', '--entity', 'user_id=u1'], 0],
    [['consistency', '--date', D], 0],
    [['--temporal-address', '127.0.0.1:1', 'doctor'], 1],
    [['silver', 'validate', '--from', D, '--to', D], 0],
    [['report', '--date', D, '--out', join(tempDir('gold-cli-exit-report-'), 'report.html')], 0],
    [['registry', 'list'], 0],
    [['dlq', 'list'], 0],
  ])('gold %j', async (args, code) => {
    const r = await gold(args, 60_000);
    expect(r.code, r.stderr).toBe(code);
  });

  it.each([[['serve', '--port', '0']], [['worker']]])('gold %j, on SIGTERM', async (args) => {
    const r = await gold(args, 45_000, 5_000);
    expect(r.code, r.stderr).toBe(0);
    // Running activities get 30 s (worker); nothing runs here, so both stop at once.
    expect(r.seconds).toBeLessThan(15);
  });

  it('gold ["worker"], on SIGTERM while it starts: stops cleanly, not killed halfway', async () => {
    const r = await gold(['--log-level', 'info', 'worker'], 45_000, undefined, /worker starting/);
    expect(r.stderr).toMatch(/stop signal received while starting/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.seconds).toBeLessThan(30);
  });
});
