// `npm run bench [-- name ...]`: runs the named benchmarks (all by default), each in its own process so
// that its peak memory is its own; each prints a table and a JSON line.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here)
  .filter((f) => f.endsWith('.js') && !['run.js', 'util.js', 'drift-study.js'].includes(f))
  .map((f) => f.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark: ${unknown.join(', ')} (have: ${all.join(', ')})\n`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : all) {
  // Quiet logs: the figures are the output.
  const r = spawnSync(process.execPath, [join(here, `${name}.js`)], { stdio: 'inherit', env: { GOLD_LOG_LEVEL: 'error', ...process.env } });
  if (r.status !== 0) {
    process.stderr.write(`benchmark ${name} failed (exit ${r.status ?? r.signal})\n`);
    failed++;
  }
}
process.exit(failed > 0 ? 1 : 0);
