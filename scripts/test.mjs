#!/usr/bin/env node
// The test run of `npm test` (after setup and the typecheck): the whole suite on the Node running this
// script, then the unit and property tests again on Node 24 (the wheel setup --test installs, or
// GOLD_NODE24), so that both ends of the supported range are tested (docs/testing.md). Both passes run
// even if the first fails; either failing fails the run. Arguments go to the first vitest run only (for
// a quick run of some files, `npx vitest run <files>`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const args = process.argv.slice(2);
const SECOND = ['test/unit', 'test/property'];

const binaries = join(root, 'dist', 'src', 'tools', 'binaries.js');
if (!existsSync(binaries)) {
  process.stderr.write('test: dist/ is missing: run `npm run setup -- --test` first\n');
  process.exit(1);
}
const { node24 } = await import(binaries);

function banner(text) {
  process.stdout.write(`\n=== ${text} ===\n\n`);
}

/** Runs vitest with that node binary, its folder first on PATH so that what the tests spawn (`node`, npx) uses it too. */
function vitestOn(node, vitestArgs) {
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
  const r = spawnSync(node, [vitest, 'run', ...vitestArgs], { cwd: root, stdio: 'inherit', env });
  if (r.error) throw r.error;
  return r.status === 0;
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

banner(`Node ${process.version}: the whole suite`);
timed(`Node ${process.version}: the whole suite`, () => vitestOn(process.execPath, args));

if (process.versions.node.split('.')[0] === '24') {
  results.push({ label: 'Node 24: unit and property tests', ok: true, seconds: 0, note: 'the whole suite ran on Node 24 already' });
} else {
  let node;
  try {
    node = node24();
  } catch (e) {
    process.stderr.write(`test: ${e.message}\n`);
    process.exit(1);
  }
  const v = version(node);
  const label = `Node ${v}: unit and property tests`;
  banner(`${label} (${node})`);
  timed(label, () => vitestOn(node, SECOND));
}

banner('summary');
for (const r of results) {
  process.stdout.write(`${r.ok ? 'passed' : 'FAILED'}  ${r.label}${r.note ? ` (skipped: ${r.note})` : ` (${r.seconds}s)`}\n`);
}
process.exit(results.every((r) => r.ok) ? 0 : 1);
