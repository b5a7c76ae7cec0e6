// `gold silver generate` and `gold silver validate`, run in-process on a local lake.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLake, paths } from '../../src/lake/index.js';
import type { GenerateReport } from '../../src/silver/generator.js';
import type { SilverReadReport } from '../../src/silver/reader.js';
import { runGold } from '../support/cli.js';
import { tempDir } from '../support/env.js';

async function gold(...args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const r = await runGold(...args);
  return { stdout: r.out, stderr: r.err, exitCode: r.code };
}

let lake: string;
const home = process.env.GOLD_HOME;
beforeEach(() => {
  lake = tempDir('gold-silver-cli-');
  process.env.GOLD_HOME = tempDir('gold-silver-home-');
  process.env.GOLD_LOG_LEVEL = 'error';
});
afterEach(() => {
  process.env.GOLD_HOME = home;
});

const small = ['--users', '50', '--videos', '30', '--events-per-day', '800', '--seed', '9'];

describe('gold silver', () => {
  it('generates, then validates, with JSON results', async () => {
    const gen = await gold('--lake', lake, '--json', 'silver', 'generate', '--from', '2024-03-01', '--to', '2024-03-02', ...small, '--bad-rows', '0.05');
    expect(gen.exitCode).toBe(0);
    const report = JSON.parse(gen.stdout) as GenerateReport;
    expect(report.dates.map((d) => d.date)).toEqual(['2024-03-01', '2024-03-02']);
    expect(report.badRows).toBeGreaterThan(0);
    const l = openLake(lake, { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    expect(await l.exists(`${paths.silverDate('2024-03-02')}/_SUCCESS`)).toBe(true);

    const val = await gold('--lake', lake, '--json', 'silver', 'validate', '--from', '2024-03-01', '--to', '2024-03-02', '--run-time', '2025-01-01T00:00:00Z');
    expect(val.exitCode).toBe(0);
    const r = JSON.parse(val.stdout) as SilverReadReport;
    expect(r.rowsRead).toBe(report.rows);
    expect(r.rowsQuarantined).toBe(report.badRows);
    expect(r.quarantineKeys).toHaveLength(2);
    await l.close();
  });

  it('prints one line per date, and the counts by rule', async () => {
    const gen = await gold('--lake', lake, 'silver', 'generate', '--from', '2024-03-01', '--to', '2024-03-01', ...small);
    expect(gen.stdout).toMatch(/^2024-03-01 +\d+ rows \(0 bad\) {2}8 files .* s\n\d+ rows \(0 bad\) in 8 files, .* -> /);
    const val = await gold('--lake', lake, 'silver', 'validate', '--from', '2024-03-01', '--to', '2024-03-01', '--hours', '18-22');
    expect(val.stdout).toMatch(/^dates 1, partitions 8, files 8, .*\nrows read (\d+) = accepted \1 \+ quarantined 0\n$/);
  });

  it('says which complete dates hold no file', async () => {
    const l = openLake(lake, { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    await l.write(`${paths.silverDate('2024-03-01')}/_SUCCESS`, '');
    await l.close();
    const val = await gold('--lake', lake, 'silver', 'validate', '--from', '2024-03-01', '--to', '2024-03-01');
    expect(val.exitCode).toBe(0);
    expect(val.stdout).toMatch(/\nempty \(complete, no file\): 2024-03-01\n$/);
  });

  it('fails with one line naming what is missing', async () => {
    const r = await gold('--lake', lake, 'silver', 'validate', '--from', '2024-03-01', '--to', '2024-03-01');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(`gold: silver is not ready in lake ${lake}: 2024-03-01 (missing)\n`);
  });

  it('rejects bad arguments', async () => {
    for (const [args, message] of [
      [['--bad-rows', '1'], 'invalid bad row rate'],
      [['--users', '0'], "invalid users '0'"],
      [['--seed', 'x'], 'invalid seed'],
    ] as const) {
      const r = await gold('--lake', lake, 'silver', 'generate', '--from', '2024-03-01', '--to', '2024-03-01', ...args);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain(message);
    }
    const backwards = await gold('--lake', lake, 'silver', 'generate', '--from', '2024-03-02', '--to', '2024-03-01');
    expect(backwards).toMatchObject({ exitCode: 1, stderr: 'gold: --from 2024-03-02 is after --to 2024-03-01\n' });
    const hours = await gold('--lake', lake, 'silver', 'validate', '--from', '2024-03-01', '--to', '2024-03-01', '--hours', '22-18');
    expect(hours.stderr).toContain('invalid hours');
    expect(await openLake(lake, { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 }).list('')).toEqual([]);
  });
});
