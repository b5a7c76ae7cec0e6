// Where `gold worker` (the built CLI) listens for its metrics: loopback unless GOLD_METRICS_HOST says
// otherwise, for gold's port and the Temporal SDK's next to it. Read from the kernel's socket table.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import { packageRoot } from '../../src/tools/binaries.js';
import { tempDir } from '../support/env.js';
import { freePort, stopChild } from '../support/servers.js';

/** The IPv4 addresses listening on a port (/proc/net/tcp: state 0A is LISTEN). */
function listeners(port: number): string[] {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 3 && f[1]!.endsWith(`:${hex}`) && f[3] === '0A')
    .map((f) => {
      const a = f[1]!.split(':')[0]!;
      return [3, 2, 1, 0].map((i) => parseInt(a.slice(i * 2, i * 2 + 2), 16)).join('.');
    });
}

async function workerListening(env: Record<string, string>, port: number): Promise<string[][]> {
  const child = spawn(process.execPath, [join(packageRoot, 'bin', 'gold.js'), 'worker'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      GOLD_TASK_QUEUE: `gold-test-${randomBytes(4).toString('hex')}`,
      GOLD_HOME: tempDir('gold-worker-metrics-'),
      GOLD_METRICS_PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  try {
    const deadline = Date.now() + 60_000;
    while (!err.includes('worker started')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`gold worker did not start:\n${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return [listeners(port), listeners(port + 1)];
  } finally {
    await stopChild(child);
  }
}

describe('worker metrics', () => {
  it('listen on loopback by default', async () => {
    expect(loadSettings({}, {}).metricsHost).toBe('127.0.0.1');
    const port = await freePort();
    expect(await workerListening({}, port)).toEqual([['127.0.0.1'], ['127.0.0.1']]);
  });

  it('listen where GOLD_METRICS_HOST says', async () => {
    const port = await freePort();
    expect(await workerListening({ GOLD_METRICS_HOST: '0.0.0.0' }, port)).toEqual([['0.0.0.0'], ['0.0.0.0']]);
  });

  it('refuse a host that is no address', () => {
    expect(() => loadSettings({}, { GOLD_METRICS_HOST: 'http://0.0.0.0' })).toThrow(
      'invalid setting GOLD_METRICS_HOST="http://0.0.0.0": must be an interface address or host name',
    );
  });
});
