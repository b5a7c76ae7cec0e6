// `gold report`: built from the stored validation reports, run records and DLQ entries of a date, as
// JSON and as a self-contained HTML page that headless Chromium renders (screenshot and DOM checked).
// Needs /usr/bin/chromium: scripts/ensure-chromium.sh installs Debian's package.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { addDlqEntry } from '../../src/dlq/index.js';
import { FAMILIES } from '../../src/features/families/index.js';
import { type Lake, openLake } from '../../src/lake/index.js';
import { buildDateReport, type DateReport } from '../../src/monitoring/report/data.js';
import { renderReportHtml } from '../../src/monitoring/report/html.js';
import { writeRunMetrics, writeValidationReport } from '../../src/monitoring/run-records.js';
import { failedSampleRows, validateFamily } from '../../src/quality/index.js';
import { setLogLevel } from '../../src/shared/logger.js';
import { runGold } from '../support/cli.js';
import { tempDir } from '../support/env.js';
import { ENGINE, genSql, testFamily, validatedHistory, writeParquet } from './quality-fixture.js';

setLogLevel('silent');
const CHROMIUM = '/usr/bin/chromium';
const DATE = '2024-05-10';
const dir = tempDir('gold-report-');
const root = join(dir, 'lake');
let lake: Lake;
let dlqId: string;

beforeAll(async () => {
  lake = openLake(root, { s3CacheDir: join(dir, 'cache'), s3CacheMaxBytes: 1e9 });
  await validatedHistory(lake, dir, DATE, 8);
  const file = await writeParquet(
    genSql({
      seed: 9,
      amountMean: 125,
      categoryCuts: [0.25, 0.5, 0.75],
      transform: `SELECT * REPLACE (CASE WHEN i < 4 THEN -1 ELSE visits END AS visits) FROM t`,
    }),
    join(dir, 'today.parquet'),
  );
  const report = await validateFamily(lake, ENGINE, { family: testFamily, date: DATE, files: [file], runId: 'run-today' });
  await writeValidationReport(lake, report);
  dlqId = await addDlqEntry(lake, {
    family: testFamily.name,
    date: DATE,
    runId: 'run-today',
    reason: 'validation',
    error: report.failed.map((c) => c.message).join('; '),
    sampleRows: failedSampleRows(report),
    dataPath: 'staging/x',
  });
  await writeRunMetrics(lake, DATE, 'run-today', {
    date: DATE,
    runId: 'run-today',
    runKind: 'daily',
    status: 'failed',
    startedAt: Date.parse('2024-05-11T01:00:00Z'),
    finishedAt: Date.parse('2024-05-11T01:01:30Z'),
    steps: [{ step: 'validate', family: testFamily.name, status: 'succeeded', attempts: 1, seconds: 0.3 }],
    slaMisses: [],
    dlqEntries: [dlqId],
    familiesLanded: [],
  });
}, 120_000);

afterAll(async () => {
  await lake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('report data', () => {
  it('gathers every declared view, the validated family, runs, DLQ entries and alerts', async () => {
    const r = await buildDateReport(lake, DATE);
    expect(r.families.map((f) => f.family)).toEqual([...FAMILIES.map((f) => f.name), 'test_features']);
    const t = r.families.find((f) => f.family === 'test_features')!;
    expect(t.validation).toMatchObject({ runId: 'run-today', passed: false });
    expect(t.freshness).toMatchObject({ latestDate: '2024-05-09', lagDays: 1 });
    expect(t.history).toHaveLength(9);
    expect(r.families.find((f) => f.family === 'user_features')).toMatchObject({ freshness: { fresh: false }, history: [] });
    expect(r.runs.map((x) => x.runId)).toEqual(['run-today']);
    expect(r.dlq.map((e) => e.id)).toEqual([dlqId]);
    expect(r.alerts.some((a) => a.kind === 'freshness' && a.family === 'test_features')).toBe(true);
  });

  it('renders HTML that escapes what it shows', () => {
    const r: DateReport = {
      date: DATE,
      generatedAt: new Date().toISOString(),
      lake: '<lake>',
      families: [],
      runs: [],
      dlq: [],
      alerts: [{ kind: 'x', severity: 'warn', date: DATE, message: '<script>alert(1)</script>' }],
    };
    const html = renderReportHtml(r);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;lake&gt;');
  });
});

describe('gold report (CLI) in headless Chromium', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = 0;
  });

  const gold = (...args: string[]) => runGold('--lake', root, '--log-level', 'silent', ...args);

  function chromium(...args: string[]): string {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh`);
    const profile = tempDir('gold-chromium-');
    try {
      const r = spawnSync(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          `--user-data-dir=${profile}`,
          ...args,
        ],
        { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      );
      if (r.status !== 0) throw new Error(`chromium failed (${r.status ?? r.signal}): ${r.stderr.slice(-1000)}`);
      return r.stdout;
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  }

  it('writes a page with a histogram per feature and the PSI bars, that Chromium renders', async () => {
    const html = join(dir, 'report.html');
    const res = await gold('report', '--date', DATE, '--out', html);
    expect(res.err).toBe('');
    expect(res.out).toContain(`wrote ${html}`);
    expect(res.out).toMatch(/test_features\s+score 0\.\d{3}\s+FAILED/);
    const page = readFileSync(html, 'utf8');
    expect(page).not.toMatch(/<script|<link|src="http|href="http/); // self-contained

    const dom = chromium('--dump-dom', `file://${html}`);
    expect(dom).toContain('Feature quality');
    expect(dom.match(/<svg class="hist" data-feature="/g)).toHaveLength(testFamily.features.length);
    for (const f of testFamily.features) expect(dom).toContain(`data-feature="${f.name}"`);
    expect(dom.match(/<svg class="psi"/g)).toHaveLength(1);
    expect(dom).toContain(dlqId);
    expect(dom).not.toMatch(/NaN|undefined|\[object |Infinity/);

    const png = join(dir, 'report.png');
    chromium(`--screenshot=${png}`, '--window-size=1280,2000', '--hide-scrollbars', `file://${html}`);
    expect(statSync(png).size).toBeGreaterThan(50_000);
    expect(readFileSync(png).subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('prints the report as JSON with --json', async () => {
    const res = await gold('--json', 'report', '--date', DATE);
    const r = JSON.parse(res.out) as DateReport;
    expect(r.date).toBe(DATE);
    expect(r.families.find((f) => f.family === 'test_features')!.validation!.features).toHaveLength(4);
  });

  it('fails in one line on a bad date', async () => {
    const res = await gold('report', '--date', '2024-5-1');
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/invalid date '2024-5-1': expected YYYY-MM-DD/);
  });
});
