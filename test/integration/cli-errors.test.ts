// Bad command lines, through the real `gold` binary: a non-zero exit and a one-line reason, never a
// stack trace.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/tools/binaries.js';
import { tempDir } from '../support/env.js';

const exec = promisify(execFile);

async function gold(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await exec(process.execPath, [join(packageRoot, 'bin', 'gold.js'), ...args], {
      env: { ...process.env, GOLD_LAKE: tempDir('cli-errors'), GOLD_HOME: tempDir('cli-home') },
    });
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

describe('gold -V', () => {
  it("prints the package's version", async () => {
    const r = await exec(process.execPath, [join(packageRoot, 'bin', 'gold.js'), '-V']);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version);
  });
});

describe('gold doctor without Temporal', () => {
  it('fails, names the address, and marks what it could not check as skipped', async () => {
    const r = await exec(process.execPath, [join(packageRoot, 'bin', 'gold.js'), '--json', '--temporal-address', '127.0.0.1:1', 'doctor'], {
      env: { ...process.env, GOLD_HOME: tempDir('cli-home') },
    }).then(
      (x) => ({ code: 0, stdout: x.stdout }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(r.code).toBe(1);
    const checks = JSON.parse(r.stdout) as { check: string; ok: boolean; detail: string }[];
    expect(checks.map((c) => [c.check, c.ok])).toEqual([
      ['lake writable', true],
      ['temporal reachable', false],
      ['worker polling', false],
      ['smoke workflow (DuckDB parquet in the lake)', false],
      ['online store reachable', true],
    ]);
    expect(checks[1]!.detail).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1/);
    expect(checks.slice(2, 4).map((c) => c.detail)).toEqual(['skipped: Temporal not reachable', 'skipped: Temporal not reachable']);
  });
});

describe('gold with bad arguments', () => {
  it.each([
    [['compute', '--from', '2026-13-01', '--to', '2026-01-02'], "invalid date '2026-13-01'"],
    [['backfill', '--from', '2026-01-01', '--to', '2026-01-02', '--concurrency', 'x'], "invalid --concurrency 'x'"],
    [['silver', 'generate', '--from', '2026-01-01', '--to', '2026-01-02', '--users', '0'], "invalid users '0'"],
    [['schedule', 'create', '--overlap', 'nope'], "invalid --overlap 'nope'"],
    [['schedule', 'create', '--calendar', '{hour'], "invalid --calendar '{hour'"],
    [['schedule', 'create', '--calendar', '{"hours": 2}'], 'unknown field hours'],
    [['schedule', 'create', '--calendar', '2'], "invalid --calendar '2': not an object"],
    [['schedule', 'create', '--cron', '0 3 * * *', '--calendar', '{"hour": 2}'], "'--calendar <json>' cannot be used with option '--cron <expr>'"],
    [['registry', 'diff', 'user_features', '1', 'two'], "invalid version 'two'"],
    [['compute', '--from', '2026-01-05', '--to', '2026-01-01'], '--from 2026-01-05 is after --to 2026-01-01'],
    [['backfill', '--from', '2026-01-05', '--to', '2026-01-01'], '--from 2026-01-05 is after --to 2026-01-01'],
    [['backfill', '--from', '2026-01-05'], '--from and --to are required'],
    [['run', 'daily', '--date', '2026-01-01', '--families', 'user_features,usr_features'], "unknown feature family 'usr_features'"],
    [['backfill', '--from', '2026-01-01', '--to', '2026-01-02', '--families', 'nope,nada'], "unknown feature families 'nope', 'nada'"],
    [['compute', '--from', '2026-01-01', '--to', '2026-01-01', '--families', ','], "invalid --families ','"],
    [['compute', '--from', '2026-01-01', '--to', '2026-01-01', '--run-id', '../../victim'], "invalid --run-id '../../victim'"],
    [['dlq', 'list', '--status', 'foo'], "invalid --status 'foo'"],
    [['report', '--date', '2026-01-01'], 'is empty: nothing to report'],
    [['--temporal-address', '127.0.0.1:1', 'run', 'daily', '--date', '2026-01-01'], 'cannot reach Temporal at 127.0.0.1:1'],
    [['--lake', 'http://nope', 'compute', '--from', '2026-01-01', '--to', '2026-01-01'], 'invalid setting --lake="http://nope"'],
    [['--online-store', 'memcached://x', 'serve'], 'invalid setting --online-store="memcached://x"'],
  ])('gold %j fails with one line naming the problem', async (args, reason) => {
    const r = await gold(...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(reason);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
  });
});
