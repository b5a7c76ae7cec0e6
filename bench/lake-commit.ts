// Local lake commit benchmark: what durability costs. Commits partitions of one data file (64 KiB,
// 8 MiB) into a local lake, each commit writing its file, its marker and clearing the previous
// generation, and reports the time per commit (median and p90 over the runs). The local lake fsyncs
// each file before it is renamed into place and each folder after.
// Run: npm run bench -- lake-commit   (GOLD_BENCH_LAKE_DIR: the folder to commit into, default the temp folder;
//      GOLD_BENCH_COMMITS default 50 per size)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitPartition, openLake } from '../src/lake/index.js';
import { report } from './util.js';

const base = process.env.GOLD_BENCH_LAKE_DIR ?? tmpdir();
const commits = Number(process.env.GOLD_BENCH_COMMITS ?? 50);
const dir = mkdtempSync(join(base, 'gold-bench-commit-'));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

try {
  const lake = openLake(join(dir, 'lake'), { s3CacheDir: join(dir, 'cache'), s3CacheMaxBytes: 1e9 });
  const figures: Record<string, number | string> = { folder: base, commits };
  for (const [label, bytes] of [
    ['64KiB', 64 * 1024],
    ['8MiB', 8 * 1024 * 1024],
  ] as const) {
    const staged = join(dir, `staged-${label}`);
    writeFileSync(staged, Buffer.alloc(bytes, 7));
    const ms: number[] = [];
    for (let i = 0; i < commits; i++) {
      const t0 = performance.now();
      // A new date each time (new folders) and, each tenth, a rewrite of the first one (a restatement).
      await commitPartition(lake, `gold/bench/feature_date=${i % 10 === 9 ? 'x' : i}`, [{ localPath: staged }]);
      ms.push(performance.now() - t0);
    }
    figures[`commit ${label} median ms`] = quantile(ms, 0.5);
    figures[`commit ${label} p90 ms`] = quantile(ms, 0.9);
  }
  await lake.close();
  report('lake-commit', figures);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
