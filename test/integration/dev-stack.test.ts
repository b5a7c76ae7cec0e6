// `gold dev up|status|down` and `gold doctor` through the real binary, on a Temporal dev server and a
// worker of their own (frontend on a free port, Web UI on that port + 1000).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { settingsEnv } from '../../src/config/settings.js';
import type { StackStatus } from '../../src/dev/stack.js';
import type { CheckResult } from '../../src/doctor/doctor.js';
import { packageRoot } from '../../src/tools/binaries.js';
import { testSettings } from '../support/env.js';
import { freePort, portFree } from '../support/servers.js';

const exec = promisify(execFile);

async function stackPort(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p + 1000 < 65536 && (await portFree(p + 1000))) return p;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the local stack', async () => {
  const port = await stackPort();
  const s = testSettings({ temporalAddress: `127.0.0.1:${port}`, onlineStore: 'embedded', metricsPort: 0 });
  const env = { ...process.env, ...settingsEnv(s) };
  const gold = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const r = await exec(process.execPath, [join(packageRoot, 'bin', 'gold.js'), '--json', ...args], { env });
      return { code: 0, ...r };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };
  afterAll(() => gold('dev', 'down'));

  it('up on a port something else holds fails at once, with the reason, and leaves nothing running', async () => {
    const { createServer } = await import('node:net');
    const squatter = createServer((c) => c.destroy());
    const taken = await new Promise<number>((r) => squatter.listen(0, '127.0.0.1', () => r((squatter.address() as { port: number }).port)));
    const home = testSettings().home;
    const t0 = Date.now();
    const up = await exec(process.execPath, [join(packageRoot, 'bin', 'gold.js'), 'dev', 'up'], {
      env: { ...env, GOLD_HOME: home, TEMPORAL_ADDRESS: `127.0.0.1:${taken}` },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    squatter.close();
    expect(up.code).not.toBe(0);
    expect(up.stderr).toMatch(/the Temporal dev server exited at start: .*address already in use/);
    expect(Date.now() - t0).toBeLessThan(30_000);
    const state = JSON.parse(readFileSync(join(home, 'stack.json'), 'utf8')) as { temporal?: { pid: number }; worker?: { pid: number } };
    expect(state.worker).toBeUndefined();
    expect(alive(state.temporal!.pid)).toBe(false);
  });

  it('up starts Temporal and a worker, a second up is a no-op, doctor passes, down stops exactly them', async () => {
    const up = await gold('dev', 'up');
    expect(up.code, up.stderr).toBe(0);
    const st = JSON.parse(up.stdout) as StackStatus;
    expect(st.temporal).toMatchObject({ running: true, reachable: true, startedByGold: true, address: `127.0.0.1:${port}` });
    expect(st.temporal.ui).toBe(`http://127.0.0.1:${port + 1000}/namespaces/default/workflows`);
    expect(st.worker.running).toBe(true);
    expect(st.worker.pollers).toBeGreaterThan(0);
    const ui = await fetch(`http://127.0.0.1:${port + 1000}/`);
    expect(ui.status).toBe(200);

    const again = JSON.parse((await gold('dev', 'up')).stdout) as StackStatus;
    expect(again.temporal.pid).toBe(st.temporal.pid);
    expect(again.worker.pid).toBe(st.worker.pid);

    const doctor = await gold('doctor');
    expect(doctor.code, doctor.stdout).toBe(0);
    const checks = JSON.parse(doctor.stdout) as CheckResult[];
    expect(checks.length).toBeGreaterThanOrEqual(5);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.check).join(' ')).toMatch(/smoke workflow/);

    const status = JSON.parse((await gold('dev', 'status')).stdout) as StackStatus;
    expect(status.temporal.pid).toBe(st.temporal.pid);

    expect((await gold('dev', 'down')).code).toBe(0);
    expect(alive(st.temporal.pid!)).toBe(false);
    expect(alive(st.worker.pid!)).toBe(false);
    const after = JSON.parse((await gold('dev', 'status')).stdout) as StackStatus;
    expect(after.temporal.running).toBe(false);
    expect(after.worker.running).toBe(false);

    // With nothing running, doctor says what failed and exits non-zero.
    const failing = await gold('doctor');
    expect(failing.code).not.toBe(0);
    const failed = (JSON.parse(failing.stdout) as CheckResult[]).filter((c) => !c.ok);
    expect(failed.map((c) => c.check).join(' ')).toMatch(/temporal/i);
  });
});
