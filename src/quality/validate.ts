// The validation gate of a staged family partition: schema, keys, declared rules, nulls, outliers,
// distribution and drift against the recent gold, each check with a severity, a quality score, and
// optionally the quarantine of rows that break row-level rules. All counting happens in DuckDB over
// the Parquet files; the report that comes back is small JSON.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqlIdent, sqlList, sqlStr, withEngine, type Engine, type EngineOptions } from '../engine/duckdb.js';
import { assertDate } from '../features/time.js';
import type { FamilyDecl, FeatureDecl } from '../features/types.js';
import type { Lake } from '../lake/index.js';
import { logger } from '../monitoring/logger.js';
import { fixedSeverity, levelSeverity, resolveConfig, severityOverride, type CheckName, type Level, type QualityConfig, type ResolvedQualityConfig } from './config.js';
import { jsDistance, ksFromGrids, psi, psiEdges, relativeChange } from './drift.js';
import {
  categoryShares,
  createLongTable,
  createProfileView,
  isCategorical,
  isNumeric,
  numericCounts,
  numericStats,
  quantile,
  type CategoryShares,
  type NumericBinning,
  type NumericCounts,
  type NumericStats,
} from './profile.js';
import { splitQuarantine } from './quarantine.js';
import { referenceFiles, type ReferenceData } from './reference.js';
import type { CheckResult, FeatureMetrics, Histogram, QuarantineResult, ScoreComponents, ValidationReport } from './report.js';
import { countRowChecks, duplicateKeys, planRowChecks, sampleBreaks, type RowCheck, type RowCheckCounts } from './row-checks.js';
import { compareSchema, type Column } from './schema.js';
import { distributionComponent, driftComponent, familyScore, featureScore, nullsComponent, outliersComponent } from './score.js';

export interface ValidateOptions {
  family: FamilyDecl;
  date: string;
  /** Local Parquet paths of the staged partition. */
  files: string[];
  /** Default: the family's 7 latest committed gold dates before `date` (referenceFiles). */
  reference?: ReferenceData;
  config?: QualityConfig;
  runId?: string;
  /**
   * Move rows that break error-level row checks (not_null, finite, range, allowed, rules) to the
   * quarantine and validate the rest, instead of failing; the report says where both went. Needs runId.
   */
  quarantineRows?: boolean;
  /** Local scratch space for the quarantine's files (default: the OS temp folder). */
  scratchDir?: string;
}

/** Largest report kept whole; beyond it the histograms are dropped (it travels through Temporal history). */
const MAX_REPORT_CHARS = 100_000;
const REFERENCE_DAYS = 7;

export async function validateFamily(lake: Lake, engine: EngineOptions, opts: ValidateOptions): Promise<ValidationReport> {
  const t0 = Date.now();
  const f = opts.family;
  assertDate(opts.date);
  const cfg = resolveConfig(opts.config);
  if (opts.files.length === 0) throw new Error(`cannot validate ${f.name} for ${opts.date}: the staged partition has no files`);
  const absent = opts.files.filter((p) => !existsSync(p));
  if (absent.length > 0) throw new Error(`cannot validate ${f.name} for ${opts.date}: file(s) not found: ${absent.join(', ')}`);
  if (opts.quarantineRows && !opts.runId) throw new Error(`quarantineRows needs the run id (validating ${f.name} for ${opts.date})`);
  const reference = opts.reference ?? (await referenceFiles(lake, f.name, opts.date, REFERENCE_DAYS));
  const scratch = await mkdtemp(join(opts.scratchDir ?? tmpdir(), 'gold-validate-'));
  try {
    const report = await withEngine(engine, (db) => new Validation(lake, db, opts, cfg, reference, scratch).run());
    report.seconds = (Date.now() - t0) / 1000;
    fitReport(report);
    logger().info(
      { family: f.name, date: opts.date, runId: opts.runId, passed: report.passed, score: report.score, failed: report.failed.length, warned: report.warned.length, rows: report.rows, seconds: report.seconds },
      'validated',
    );
    return report;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Keeps the report under the size Temporal history should carry. */
function fitReport(report: ValidationReport): void {
  if (JSON.stringify(report).length <= MAX_REPORT_CHARS) return;
  for (const x of report.features) delete x.histogram;
  report.notes.push('histograms dropped to keep the report small');
}

const r6 = (x: number): number => Number(x.toPrecision(6));
const r6o = (x: number | undefined): number | undefined => (x === undefined || !Number.isFinite(x) ? undefined : r6(x));
const pct = (x: number): string => `${(x * 100).toFixed(x < 0.001 && x > 0 ? 3 : 1)}%`;
const fmt = (x: number): string => String(Number(x.toPrecision(3)));

interface DriftInputs {
  numeric: FeatureDecl[];
  categorical: FeatureDecl[];
}

/** One validation run: the state shared by its steps. */
class Validation {
  private readonly results: CheckResult[] = [];
  private readonly notes: string[] = [];
  private checksRun = 0;
  private readonly f: FamilyDecl;

  constructor(
    private readonly lake: Lake,
    private readonly db: Engine,
    private readonly opts: ValidateOptions,
    private readonly cfg: ResolvedQualityConfig,
    private readonly reference: ReferenceData,
    private readonly scratch: string,
  ) {
    this.f = opts.family;
  }

  private ran(result?: CheckResult): void {
    this.checksRun++;
    if (result) this.results.push(result);
  }

  /** Runs a threshold check unless it is off (or has no value), recording it when it fires. */
  private level(check: CheckName, value: number | undefined, level: Level, feature: FeatureDecl | undefined, message: (threshold: number) => string, extra: Partial<CheckResult> = {}): void {
    const override = severityOverride(this.cfg, check, { feature });
    if (override === 'off' || value === undefined) return;
    const hit = levelSeverity(Math.abs(value), level, override);
    this.ran(hit ? { check, feature: feature?.name, severity: hit.severity, value: r6(value), threshold: hit.threshold, message: message(hit.threshold), ...extra } : undefined);
  }

  private isOff(check: CheckName, feature: FeatureDecl): boolean {
    return severityOverride(this.cfg, check, { feature }) === 'off';
  }

  async run(): Promise<ValidationReport> {
    const { f, opts, db } = this;
    await db.run(`CREATE TEMP VIEW q_source AS SELECT * FROM read_parquet(${sqlList(opts.files)}, union_by_name = true, hive_partitioning = false)`);
    const schema = compareSchema(f, await describe(db, 'q_source'));
    const schemaSeverity = fixedSeverity(this.cfg, 'schema');
    if (schemaSeverity) this.ran(schema.problems.length ? { check: 'schema', severity: schemaSeverity, message: `${f.name} schema: ${schema.problems.join('; ')}` } : undefined);

    const { view, counts, quarantine } = await this.rowChecks(schema.usable, schema.keysUsable);
    const rows = counts.rows;
    const notEmpty = fixedSeverity(this.cfg, 'not_empty');
    if (notEmpty) this.ran(rows === 0 ? { check: 'not_empty', severity: notEmpty, message: `${f.name} for ${opts.date} has no rows` } : undefined);

    let extraRows = 0;
    const uniqueSeverity = fixedSeverity(this.cfg, 'keys_unique');
    if (schema.keysUsable && uniqueSeverity) {
      const dup = await duplicateKeys(db, view, f, this.cfg.sampleRows);
      if (uniqueSeverity === 'error') extraRows = dup.extraRows;
      this.ran(
        dup.keys > 0
          ? { check: 'keys_unique', severity: uniqueSeverity, rows: dup.extraRows, sample: dup.sample, message: `${f.name}: ${dup.keys} key(s) repeated, ${dup.extraRows} extra row(s)` }
          : undefined,
      );
    }
    const badRowShare = rows > 0 ? Math.min(1, (counts.badRows + extraRows) / rows) : 0;

    const refRows = await this.referenceRows();
    const drift = await this.prepareProfiles(view, schema.usable, refRows);
    const features = await this.featureMetrics(schema.usable, counts, drift);
    this.rowCountChange(rows, refRows);

    const failed = this.results.filter((r) => r.severity === 'error');
    const warned = this.results.filter((r) => r.severity === 'warn');
    const rowsPerDate = this.reference.dates.length > 0 ? refRows / this.reference.dates.length : undefined;
    const change = rowsPerDate !== undefined && rowsPerDate > 0 ? relativeChange(rows, rowsPerDate) : undefined;
    return {
      family: f.name,
      version: f.version,
      date: opts.date,
      ...(opts.runId ? { runId: opts.runId } : {}),
      validatedAt: new Date().toISOString(),
      passed: failed.length === 0,
      score: rows > 0 ? r6(familyScore(features.map((x) => x.score), badRowShare)) : 0,
      rows,
      badRowShare: r6(badRowShare),
      reference: { dates: this.reference.dates, rows: refRows, ...(rowsPerDate !== undefined ? { rowsPerDate: r6(rowsPerDate) } : {}), ...(change !== undefined ? { rowCountChange: r6(change) } : {}) },
      checksRun: this.checksRun,
      thresholds: this.cfg.thresholds,
      failed,
      warned,
      features,
      notes: this.notes,
      ...(quarantine ? { quarantine } : {}),
      seconds: 0,
    };
  }

  /** Row-level checks, and the quarantine of offending rows when asked: returns the view to go on with. */
  private async rowChecks(usable: FeatureDecl[], keysUsable: boolean): Promise<{ view: string; counts: RowCheckCounts; quarantine?: QuarantineResult }> {
    const { f, opts, db, cfg } = this;
    const { checks, unbound } = await planRowChecks(db, 'q_source', f, usable, keysUsable, cfg);
    for (const u of unbound) this.ran(u);
    const before = await countRowChecks(db, 'q_source', usable, checks);
    const moved = opts.quarantineRows ? checks.filter((c, i) => c.quarantinable && c.severity === 'error' && before.breaks[i]! > 0) : [];
    if (moved.length === 0) {
      for (const [i, c] of checks.entries()) this.ran(await this.rowResult(c, before.breaks[i]!, before.rows, 'q_source'));
      return { view: 'q_source', counts: before };
    }
    const split = await splitQuarantine(this.lake, db, { view: 'q_source', family: f, date: opts.date, runId: opts.runId!, checks: moved, scratchDir: this.scratch });
    await db.run(`CREATE TEMP VIEW q_kept AS SELECT * FROM read_parquet(${sqlStr(split.keptFile)})`);
    const after = await countRowChecks(db, 'q_kept', usable, checks);
    for (const [i, c] of checks.entries()) {
      if (!moved.includes(c)) {
        this.ran(await this.rowResult(c, after.breaks[i]!, after.rows, 'q_kept'));
        continue;
      }
      const r = await this.rowResult(c, before.breaks[i]!, before.rows, 'q_source');
      this.ran({ ...r!, severity: 'warn', quarantined: true, message: `${r!.message}; quarantined to ${split.path}` });
    }
    return { view: 'q_kept', counts: after, quarantine: { rows: split.rows, path: split.path, stagingPath: split.stagingPath } };
  }

  private async rowResult(c: RowCheck, broken: number, rows: number, view: string): Promise<CheckResult | undefined> {
    if (broken === 0) return undefined;
    const what = c.feature ? `${this.f.name}.${c.feature.name}` : this.f.name;
    return {
      check: c.check,
      severity: c.severity,
      ...(c.feature ? { feature: c.feature.name } : {}),
      ...(c.rule ? { rule: c.rule.name } : {}),
      rows: broken,
      value: r6(broken / rows),
      sample: await sampleBreaks(this.db, view, this.f, c, this.cfg.sampleRows),
      message: `${what}: ${broken} row(s) ${c.check === 'keys_not_null' ? 'with ' : ''}${c.describe}`,
    };
  }

  private async referenceRows(): Promise<number> {
    if (this.reference.files.length === 0) {
      this.notes.push(`no reference (no committed gold of ${this.f.name} before ${this.opts.date}): drift checks skipped`);
      return 0;
    }
    await this.db.run(`CREATE TEMP VIEW q_ref_source AS SELECT * FROM read_parquet(${sqlList(this.reference.files)}, union_by_name = true, hive_partitioning = false)`);
    return (await this.db.one<{ n: number }>('SELECT count(*)::BIGINT AS n FROM q_ref_source')).n;
  }

  /**
   * Views of the current and reference values (the reference sampled by key hash down to about
   * maxReferenceRows), long tables of the categories; returns the features drift applies to.
   */
  private async prepareProfiles(view: string, usable: FeatureDecl[], refRows: number): Promise<DriftInputs> {
    const { db, cfg } = this;
    const profiled = usable.filter((x) => isNumeric(x) || isCategorical(x));
    await createProfileView(db, 'q_cur', view, profiled);
    let comparable: FeatureDecl[] = [];
    let refSource = '(SELECT 1 WHERE false)';
    if (this.reference.files.length > 0) {
      const refTypes = new Map((await describe(db, 'q_ref_source')).map((c) => [c.name, c.type]));
      comparable = profiled.filter((x) => refTypes.get(x.name) === x.type);
      const incomparable = profiled.filter((x) => !comparable.includes(x)).map((x) => x.name);
      if (incomparable.length) this.notes.push(`not in the reference with the same type, no drift: ${incomparable.join(', ')}`);
      refSource = 'q_ref_source';
      if (refRows > cfg.maxReferenceRows && this.f.keys.every((k) => refTypes.has(k.name))) {
        // By key, so that the sample is the same entities on every reference date, and deterministic.
        const per = Math.ceil((cfg.maxReferenceRows / refRows) * 1e6);
        refSource = `(SELECT * FROM q_ref_source WHERE hash(${this.f.keys.map((k) => sqlIdent(k.name)).join(', ')}) % 1000000 < ${per})`;
        this.notes.push(`reference sampled by key to about ${cfg.maxReferenceRows} of its ${refRows} rows`);
      }
    }
    await createProfileView(db, 'q_ref', refSource, comparable);
    const names = (xs: FeatureDecl[]) => xs.map((x) => x.name);
    await createLongTable(db, 'q_cur_cat', 'q_cur', names(profiled.filter(isCategorical)));
    await createLongTable(db, 'q_ref_cat', 'q_ref', names(comparable.filter(isCategorical)));
    return { numeric: comparable.filter(isNumeric), categorical: comparable.filter(isCategorical) };
  }

  private async featureMetrics(usable: FeatureDecl[], counts: RowCheckCounts, drift: DriftInputs): Promise<FeatureMetrics[]> {
    const { db, cfg } = this;
    const numeric = usable.filter(isNumeric);
    const cur = await numericStats(db, 'q_cur', numeric);
    const ref = await numericStats(db, 'q_ref', drift.numeric);
    const binnings = numeric.filter((x) => cur.get(x.name)!.n > 0).map((x) => this.binning(x, cur.get(x.name)!, drift.numeric.includes(x) ? ref.get(x.name) : undefined));
    const curCounts = await numericCounts(db, 'q_cur', binnings);
    const refCounts = await numericCounts(db, 'q_ref', binnings.filter((b) => b.psiEdges));
    const cats = await categoryShares(db, 'q_cur_cat', 'q_ref_cat', cfg.topCategories);
    const tooFew: string[] = [];
    const out = this.f.features.map((x): FeatureMetrics => {
      if (!usable.includes(x)) return { name: x.name, type: x.type, missing: true, score: 0, components: { nulls: 0 }, nullShare: 1 };
      const rows = counts.rows;
      const nullShare = rows > 0 ? 1 - counts.nonNull.get(x.name)! / rows : 0;
      this.nullShare(x, nullShare);
      // Entirely null now where the reference had values: allowed nulls or not, that is news.
      const referenceHadValues = isNumeric(x) ? drift.numeric.includes(x) && (ref.get(x.name)?.n ?? 0) > 0 : (cats.get(x.name)?.referenceCount ?? 0) > 0;
      const wentNull = rows > 0 && nullShare === 1 && referenceHadValues;
      if (wentNull) this.wentNull(x);
      const m: FeatureMetrics = { name: x.name, type: x.type, score: 0, components: { nulls: wentNull ? 0 : nullsComponent(nullShare, x.maxNullShare ?? (x.nullable ? 1 : 0)) }, nullShare: r6(nullShare) };
      if (isNumeric(x) && cur.get(x.name)!.n > 0) {
        const b = binnings.find((y) => y.feature === x.name)!;
        this.numeric(x, m, cur.get(x.name)!, b, curCounts.get(x.name)!, ref.get(x.name), refCounts.get(x.name), tooFew);
      }
      if (isCategorical(x) && cats.has(x.name)) this.categorical(x, m, cats.get(x.name)!, drift.categorical.includes(x), tooFew);
      m.components = roundComponents(m.components);
      m.score = r6(featureScore(m.components));
      return m;
    });
    if (tooFew.length) this.notes.push(`drift not checked, fewer than ${cfg.minDriftRows} values now or in the reference: ${tooFew.join(', ')}`);
    return out;
  }

  private nullShare(x: FeatureDecl, share: number): void {
    if (!x.nullable && x.maxNullShare === undefined) return; // not_null covers it
    const severity = fixedSeverity(this.cfg, 'null_share', { feature: x });
    if (!severity) return;
    const allowed = x.maxNullShare ?? 1;
    this.ran(share > allowed ? { check: 'null_share', feature: x.name, severity, value: r6(share), threshold: allowed, message: `${this.f.name}.${x.name}: ${pct(share)} null, more than the ${pct(allowed)} allowed` } : undefined);
  }

  private wentNull(x: FeatureDecl): void {
    const severity = severityOverride(this.cfg, 'null_share', { feature: x });
    if (severity === 'off') return;
    this.ran({ check: 'null_share', feature: x.name, severity: severity ?? 'warn', value: 1, threshold: 1, message: `${this.f.name}.${x.name}: every value is null, where the reference had values` });
  }

  private binning(x: FeatureDecl, s: NumericStats, r: NumericStats | undefined): NumericBinning {
    const bins = this.cfg.histogramBins;
    const q1 = quantile(s, 0.25);
    const q3 = quantile(s, 0.75);
    const iqr = q3 - q1;
    const fences = iqr > 0 ? { fenceLo: q1 - 1.5 * iqr, fenceHi: q3 + 1.5 * iqr } : {};
    const withRef = r !== undefined && r.n > 0;
    let lo = Math.min(quantile(s, 0.01), withRef ? quantile(r, 0.01) : Infinity);
    let hi = Math.max(quantile(s, 0.99), withRef ? quantile(r, 0.99) : -Infinity);
    if (!(hi > lo)) {
      lo = Math.min(s.min!, withRef ? r.min! : Infinity);
      hi = Math.max(s.max!, withRef ? r.max! : -Infinity);
    }
    let histLo: number;
    let histWidth: number;
    let histBins: number;
    if (x.type === 'BIGINT') {
      // Whole-number bins centred on the values, so that small counts get one bar each.
      const span = Math.ceil(hi) - Math.floor(lo) + 1;
      histWidth = Math.max(1, Math.ceil(span / bins));
      histBins = Math.ceil(span / histWidth);
      histLo = Math.floor(lo) - 0.5;
    } else if (hi > lo) {
      histLo = lo;
      histWidth = (hi - lo) / bins;
      histBins = bins;
    } else {
      histLo = lo - 0.5;
      histWidth = 1;
      histBins = 1;
    }
    const psiBins = this.cfg.psiBins;
    const edges = withRef ? psiEdges(Array.from({ length: psiBins - 1 }, (_, i) => quantile(r, (i + 1) / psiBins))) : undefined;
    return { feature: x.name, ...fences, histLo, histWidth, histBins, ...(edges ? { psiEdges: edges } : {}) };
  }

  private numeric(x: FeatureDecl, m: FeatureMetrics, s: NumericStats, b: NumericBinning, c: NumericCounts, r: NumericStats | undefined, rc: NumericCounts | undefined, tooFew: string[]): void {
    const { cfg, f } = this;
    const t = cfg.thresholds;
    Object.assign(m, { mean: r6o(s.mean), stddev: r6o(s.stddev), skewness: r6o(s.skewness), min: r6o(s.min), max: r6o(s.max), q1: r6o(quantile(s, 0.25)), median: r6o(quantile(s, 0.5)), q3: r6o(quantile(s, 0.75)) });
    const name = `${f.name}.${x.name}`;
    if (b.fenceLo !== undefined) {
      const share = c.outliers / s.n;
      m.outlierShare = r6(share);
      this.level('outliers', share, t.outlierShare, x, (th) => `${name}: ${pct(share)} of values outside the IQR fences [${fmt(b.fenceLo!)}, ${fmt(b.fenceHi!)}] (limit ${pct(th)})`, { rows: c.outliers });
      if (!this.isOff('outliers', x)) m.components.outliers = outliersComponent(share);
    }
    const constant = s.min === s.max;
    if (s.n >= 2) {
      const severity = fixedSeverity(cfg, 'zero_variance', { feature: x });
      if (severity) this.ran(constant ? { check: 'zero_variance', feature: x.name, severity, value: 0, message: `${name}: zero variance (every value is ${fmt(s.min!)})` } : undefined);
    }
    if (s.n >= 3 && !constant && s.skewness !== undefined) {
      this.level('skew', s.skewness, t.skew, x, (th) => `${name}: skewness ${fmt(s.skewness!)} beyond ±${fmt(th)}`);
    }
    if (s.n >= 2 && !(this.isOff('zero_variance', x) && this.isOff('skew', x))) {
      m.components.distribution = distributionComponent(constant && !this.isOff('zero_variance', x), this.isOff('skew', x) ? undefined : s.skewness, t.skew.warn ?? t.skew.error ?? Infinity);
    }
    const edges = Array.from({ length: b.histBins + 1 }, (_, i) => r6(b.histLo + i * b.histWidth));
    m.histogram = { kind: 'numeric', edges, current: shares(c.hist) };
    if (!r || !rc || !b.psiEdges) return;
    m.histogram.reference = shares(rc.hist);
    m.referenceMean = r6o(r.mean);
    const p = psi(c.psi!, rc.psi!, cfg.psiEpsilon);
    const ks = ksFromGrids(s.grid, s.n, r.grid, r.n);
    const meanChange = s.mean !== undefined && r.mean !== undefined ? relativeChange(s.mean, r.mean) : undefined;
    Object.assign(m, { psi: r6(p), ks: r6(ks), meanChange: r6o(meanChange) });
    if (s.n < cfg.minDriftRows || r.n < cfg.minDriftRows) {
      tooFew.push(x.name);
      return;
    }
    this.level('psi', p, t.psi, x, (th) => `${name}: PSI ${fmt(p)} against the reference (threshold ${fmt(th)})`);
    this.level('ks', ks, t.ks, x, (th) => `${name}: KS statistic ${fmt(ks)} against the reference (threshold ${fmt(th)})`);
    this.level('mean_change', meanChange, t.meanChange, x, (th) => `${name}: mean ${fmt(s.mean!)} vs ${fmt(r.mean!)} in the reference (${pct(meanChange!)} change, threshold ${pct(th)})`);
    if (!this.isOff('psi', x)) m.components.drift = driftComponent(p, t.psi.error ?? t.psi.warn ?? 0.2);
  }

  private categorical(x: FeatureDecl, m: FeatureMetrics, c: CategoryShares, comparable: boolean, tooFew: string[]): void {
    const { cfg, f } = this;
    const name = `${f.name}.${x.name}`;
    m.distinct = c.distinct;
    const severity = fixedSeverity(cfg, 'constant', { feature: x });
    if (severity && c.currentCount >= 2) this.ran(c.distinct === 1 ? { check: 'constant', feature: x.name, severity, value: 1, message: `${name}: constant (every value is '${c.categories[0]}')` } : undefined);
    if (!this.isOff('constant', x)) m.components.distribution = c.distinct === 1 ? 0 : 1;
    const hist: Histogram = { kind: 'categorical', categories: c.categories, current: c.current.map(r6) };
    m.histogram = hist;
    if (!comparable || c.reference.every((v) => v === 0)) return;
    hist.reference = c.reference.map(r6);
    const p = psi(c.current, c.reference, cfg.psiEpsilon);
    const js = jsDistance(c.current, c.reference);
    Object.assign(m, { psi: r6(p), js: r6(js) });
    if (c.currentCount < cfg.minDriftRows || c.referenceCount < cfg.minDriftRows) {
      tooFew.push(x.name);
      return;
    }
    this.level('psi', p, cfg.thresholds.psi, x, (th) => `${name}: PSI ${fmt(p)} of category shares against the reference (threshold ${fmt(th)})`);
    this.level('js', js, cfg.thresholds.js, x, (th) => `${name}: Jensen-Shannon distance ${fmt(js)} of category shares against the reference (threshold ${fmt(th)})`);
    if (!this.isOff('psi', x)) m.components.drift = driftComponent(p, cfg.thresholds.psi.error ?? cfg.thresholds.psi.warn ?? 0.2);
  }

  private rowCountChange(rows: number, refRows: number): void {
    if (this.reference.dates.length === 0) return;
    if (refRows === 0) {
      this.notes.push(`the reference dates (${this.reference.dates.join(', ')}) have no rows: row count not compared`);
      return;
    }
    const perDate = refRows / this.reference.dates.length;
    const change = relativeChange(rows, perDate)!;
    this.level('row_count_change', change, this.cfg.thresholds.rowCountChange, undefined, (th) => `${this.f.name}: ${rows} rows vs ${fmt(perDate)} per date in the reference (${pct(change)} change, threshold ${pct(th)})`);
  }
}

function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? r6(c / total) : 0));
}

function roundComponents(c: ScoreComponents): ScoreComponents {
  const out: ScoreComponents = { nulls: r6(c.nulls) };
  for (const k of ['outliers', 'distribution', 'drift'] as const) if (c[k] !== undefined) out[k] = r6(c[k]);
  return out;
}

async function describe(db: Engine, view: string): Promise<Column[]> {
  return (await db.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${view}`)).map((r) => ({ name: r.column_name, type: r.column_type }));
}
