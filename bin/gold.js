#!/usr/bin/env node
// Entry point of the `gold` CLI: the compiled code lives in dist/ (built by `npm run setup`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('gold: not built yet; run `npm run setup` in the gold folder first\n');
  process.exit(1);
}
await import(main);
