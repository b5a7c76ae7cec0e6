// The validation gate of a staged family partition: schema, keys, declared rules, nulls, outliers,
// distribution and drift against the recent gold, each check with a severity, a quality score, and
// optionally the quarantine of rows that break row-level rules. All counting happens in DuckDB over
// the Parquet files; the report that comes back is small JSON.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Engine, type EngineOptions, sqlIdent, sqlList, sqlStr, withEngine } from '../engine/duckdb.js';
import type { FamilyDecl, FeatureDecl } from '../features/types.js';
import type { Lake } from '../lake/index.js';
import { addDays, assertDate } from '../shared/dates.js';
import { logger } from '../shared/logger.js';
import {
  type CheckName,
  fixedSeverity,
  isDriftCheck,
  type Level,
  levelSeverity,
  type QualityConfig,
  type ResolvedQualityConfig,
  resolveConfig,
  severityOverride,
} from './config.js';
import { checkWindow, chooseReference, REFERENCE_LOOKBACK_DAYS, type ReferenceKind, type SilverCalendar, silverCalendar, windowKey } from './coverage.js';
import { jsDistance, ksFromGrids, psi, psiEdges, relativeChange } from './drift.js';
import {
  type CategoryShares,
  categoryShares,
  createLongTable,
  createProfileView,
  isCategorical,
  isNumeric,
  type NumericBinning,
  type NumericCounts,
  type NumericStats,
  numericCounts,
  numericStats,
  quantile,
} from './profile.js';
import { splitQuarantine } from './quarantine.js';
import { committedGoldDates, type ReferenceData } from './reference.js';
import type { CheckResult, FeatureMetrics, Histogram, QuarantineResult, ScoreComponents, ValidationReport, WindowCoverage } from './report.js';
import { countRowChecks, duplicateKeys, planRowChecks, type RowCheck, type RowCheckCounts, sampleBreaks } from './row-checks.js';
import { type Column, compareSchema } from './schema.js';
import { distributionComponent, driftComponent, familyScore, featureScore, nullsComponent, outliersComponent } from './score.js';

export interface ValidateOptions {
  family: FamilyDecl;
  date: string;
  /** Local Parquet paths of the staged partition. */
  files: string[];
  /**
   * One reference for every check, instead of the like-for-like ones chosen per window from the
   * committed gold and the silver calendar (src/quality/coverage.ts).
   */
  reference?: ReferenceData;
  /** Which dates have accepted silver events (default: read from the daily partials' row counts). */
  calendar?: SilverCalendar;
  config?: QualityConfig;
  runId?: string;
  /**
   * Move rows that break error-level row checks (not_null, finite, range, allowed, rules) to the
   * quarantine and validate the rest, instead of failing; the report says where both went. Needs runId.
   * Default: the config's quarantineRows.
   */
  quarantineRows?: boolean;
  /** Local scratch space for the quarantine's files (default: the OS temp folder). */
  scratchDir?: string;
}

/** Largest report kept whole; beyond it the histograms are dropped (it travels through Temporal history). */
const MAX_REPORT_CHARS = 100_000;

export async function validateFamily(lake: Lake, engine: EngineOptions, opts: ValidateOptions): Promise<ValidationReport> {
  const t0 = Date.now();
  const f = opts.family;
  assertDate(opts.date);
  const cfg = resolveConfig(opts.config, f);
  if (opts.files.length === 0) throw new Error(`cannot validate ${f.name} for ${opts.date}: the staged partition has no files`);
  const absent = opts.files.filter((p) => !existsSync(p));
  if (absent.length > 0) throw new Error(`cannot validate ${f.name} for ${opts.date}: file(s) not found: ${absent.join(', ')}`);
  const quarantineRows = opts.quarantineRows ?? cfg.quarantineRows;
  if (quarantineRows && !opts.runId) throw new Error(`quarantineRows needs the run id (validating ${f.name} for ${opts.date})`);
  const references = await planReferences(lake, opts);
  const scratch = await mkdtemp(join(opts.scratchDir ?? tmpdir(), 'gold-validate-'));
  try {
    const report = await withEngine(engine, (db) => new Validation(lake, db, { ...opts, quarantineRows }, cfg, references, scratch).run());
    report.seconds = (Date.now() - t0) / 1000;
    fitReport(report);
    logger().info(
      {
        family: f.name,
        date: opts.date,
        runId: opts.runId,
        passed: report.passed,
        score: report.score,
        failed: report.failed.length,
        warned: report.warned.length,
        rows: report.rows,
        seconds: report.seconds,
      },
      'validated',
    );
    return report;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Where a window's checks compare: its coverage now and the reference dates chosen for it. */
interface WindowPlan {
  coverage?: WindowCoverage;
  kind: ReferenceKind | 'given';
  dates: string[];
}

/** The reference of every window the family's checks use (by windowKey), and the files of a set of its dates. */
interface ReferencePlans {
  windows: Map<string, WindowPlan>;
  /** Committed gold dates of the family that could be references (any coverage). */
  candidates: number;
  filesOf(dates: readonly string[]): string[];
}

async function planReferences(lake: Lake, opts: ValidateOptions): Promise<ReferencePlans> {
  const f = opts.family;
  const windows = new Map([checkWindow(f), ...f.features.map((x) => checkWindow(f, x))].map((w) => [windowKey(w), w]));
  if (opts.reference) {
    const given = opts.reference;
    return {
      windows: new Map([...windows.keys()].map((k) => [k, { kind: 'given', dates: given.dates }])),
      candidates: given.dates.length,
      filesOf: () => given.files,
    };
  }
  const since = addDays(opts.date, -REFERENCE_LOOKBACK_DAYS);
  const committed = await committedGoldDates(lake, f.name, opts.date, since);
  const longest = Math.max(1, ...[...windows.values()].map((w) => w.days ?? 0));
  const calendar = opts.calendar ?? (await silverCalendar(lake, addDays(since, 1 - longest), opts.date));
  const plans = new Map<string, WindowPlan>();
  for (const [k, w] of windows) {
    const coverage = w.days === undefined ? undefined : { days: calendar.coverage(opts.date, w.days), of: w.days };
    const choice = chooseReference(opts.date, w, coverage && coverage.days < coverage.of ? [] : [...committed.keys()], calendar);
    plans.set(k, { ...(coverage ? { coverage } : {}), ...choice });
  }
  const used = new Set([...plans.values()].flatMap((p) => p.dates));
  const files = new Map(await Promise.all([...used].map(async (d) => [d, await Promise.all(committed.get(d)!.map((k) => lake.localFile(k)))] as const)));
  return { windows: plans, candidates: committed.size, filesOf: (dates) => dates.flatMap((d) => files.get(d)!) };
}

const filling = (p: WindowPlan): boolean => p.coverage !== undefined && p.coverage.days < p.coverage.of;

/** Keeps the report under the size Temporal history should carry. */
function fitReport(report: ValidationReport): void {
  if (JSON.stringify(report).length <= MAX_REPORT_CHARS) return;
  for (const x of report.features) delete x.histogram;
  report.notes.push('histograms dropped to keep the report small');
}

// Drift measured between two samples is not zero without change: two samples of the same distribution
// differ by chance, the more so the smaller they are. The thresholds are raised by that expected noise,
// so that a small family (a few hundred rows) is judged as fairly as a large one:
//   - PSI over k bins: E[PSI] ~ (k - 1)(1/n + 1/m) (PSI is about a chi-square over the bins);
//   - Jensen-Shannon divergence (bits): E[JSD] ~ (k - 1)(1/n + 1/m) / (8 ln 2), added to the squared distance;
//   - KS: the two-sample critical value at alpha = 0.001, 1.95 sqrt(1/n + 1/m);
//   - mean change: only when the means differ by more than 4 standard errors.
const KS_CRITICAL = 1.95;
const MEAN_SIGMAS = 4;
const sampleNoise = (n: number, m: number): number => 1 / n + 1 / m;
const psiBias = (bins: number, noise: number): number => (bins - 1) * noise;
const jsBias = (categories: number, noise: number): number => ((categories - 1) * noise) / (8 * Math.LN2);

/** A level with each threshold moved by f. */
function raised(level: Level, f: (threshold: number) => number): Level {
  return { ...(level.warn !== undefined ? { warn: f(level.warn) } : {}), ...(level.error !== undefined ? { error: f(level.error) } : {}) };
}

const r6 = (x: number): number => Number(x.toPrecision(6));
const r6o = (x: number | undefined): number | undefined => (x === undefined || !Number.isFinite(x) ? undefined : r6(x));
const pct = (x: number): string => `${(x * 100).toFixed(x < 0.001 && x > 0 ? 3 : 1)}%`;
const fmt = (x: number): string => String(Number(x.toPrecision(3)));

interface DriftInputs {
  numeric: FeatureDecl[];
  categorical: FeatureDecl[];
  /** Each reference's profile view and its numeric features. */
  groups: { view: string; numeric: FeatureDecl[] }[];
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
    private readonly refs: ReferencePlans,
    private readonly scratch: string,
  ) {
    this.f = opts.family;
  }

  private ran(result?: CheckResult): void {
    this.checksRun++;
    if (result) this.results.push(result);
  }

  /** Runs a threshold check unless it is off (or has no value), recording it when it fires. */
  private level(
    check: CheckName,
    value: number | undefined,
    level: Level,
    feature: FeatureDecl | undefined,
    message: (threshold: number) => string,
    extra: Partial<CheckResult> = {},
  ): void {
    const override = severityOverride(this.cfg, check, { feature });
    if (override === 'off' || value === undefined) return;
    const hit = levelSeverity(Math.abs(value), level, override, isDriftCheck(check) ? 'warn' : undefined);
    this.ran(
      hit
        ? { check, feature: feature?.name, severity: hit.severity, value: r6(value), threshold: r6(hit.threshold), message: message(hit.threshold), ...extra }
        : undefined,
    );
  }

  private isOff(check: CheckName, feature: FeatureDecl): boolean {
    return severityOverride(this.cfg, check, { feature }) === 'off';
  }

  async run(): Promise<ValidationReport> {
    const { f, opts, db } = this;
    await db.run(`CREATE TEMP VIEW q_source AS SELECT * FROM read_parquet(${sqlList(opts.files)}, union_by_name = true, hive_partitioning = false)`);
    const schema = compareSchema(f, await describe(db, 'q_source'));
    const schemaSeverity = fixedSeverity(this.cfg, 'schema');
    if (schemaSeverity)
      this.ran(schema.problems.length ? { check: 'schema', severity: schemaSeverity, message: `${f.name} schema: ${schema.problems.join('; ')}` } : undefined);

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
          ? {
              check: 'keys_unique',
              severity: uniqueSeverity,
              rows: dup.extraRows,
              sample: dup.sample,
              message: `${f.name}: ${dup.keys} key(s) repeated, ${dup.extraRows} extra row(s)`,
            }
          : undefined,
      );
    }
    const badRowShare = rows > 0 ? Math.min(1, (counts.badRows + extraRows) / rows) : 0;

    const drift = await this.prepareProfiles(view, schema.usable);
    const features = await this.featureMetrics(schema.usable, counts, drift);
    const reference = await this.rowCountChange(rows);
    this.windowNotes(schema.usable);

    const failed = this.results.filter((r) => r.severity === 'error');
    const warned = this.results.filter((r) => r.severity === 'warn');
    return {
      family: f.name,
      version: f.version,
      date: opts.date,
      ...(opts.runId ? { runId: opts.runId } : {}),
      validatedAt: new Date().toISOString(),
      passed: failed.length === 0,
      score:
        rows > 0
          ? r6(
              familyScore(
                features.map((x) => x.score),
                badRowShare,
              ),
            )
          : 0,
      rows,
      badRowShare: r6(badRowShare),
      reference,
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
    const split = await splitQuarantine(this.lake, db, {
      view: 'q_source',
      family: f,
      date: opts.date,
      runId: opts.runId!,
      checks: moved,
      scratchDir: this.scratch,
    });
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

  /** The reference plan of a feature (`undefined`: the family's rows). */
  private plan(x?: FeatureDecl): WindowPlan {
    return this.refs.windows.get(windowKey(checkWindow(this.f, x)))!;
  }

  /**
   * Views of the current values, and of each reference (the features whose windows compare with the
   * same dates share one, sampled by key hash down to about maxReferenceRows); long tables of the
   * categories (the references' in one, each feature from its own). Returns the features drift applies to.
   */
  private async prepareProfiles(view: string, usable: FeatureDecl[]): Promise<DriftInputs> {
    const { db, cfg } = this;
    const profiled = usable.filter((x) => isNumeric(x) || isCategorical(x));
    await createProfileView(db, 'q_cur', view, profiled);
    await createLongTable(
      db,
      'q_cur_cat',
      'q_cur',
      profiled.filter(isCategorical).map((x) => x.name),
    );
    const groups = new Map<string, { dates: string[]; features: FeatureDecl[] }>();
    for (const x of profiled) {
      const { dates } = this.plan(x);
      if (dates.length === 0) continue;
      const key = dates.join(',');
      if (!groups.has(key)) groups.set(key, { dates, features: [] });
      groups.get(key)!.features.push(x);
    }
    const out: DriftInputs = { numeric: [], categorical: [], groups: [] };
    const incomparable: string[] = [];
    const longTables: string[] = [];
    for (const [i, g] of [...groups.values()].entries()) {
      const src = `q_ref_source_${i}`;
      await db.run(
        `CREATE TEMP VIEW ${src} AS SELECT * FROM read_parquet(${sqlList(this.refs.filesOf(g.dates))}, union_by_name = true, hive_partitioning = false)`,
      );
      const refRows = (await db.one<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM ${src}`)).n;
      const refTypes = new Map((await describe(db, src)).map((c) => [c.name, c.type]));
      const comparable = g.features.filter((x) => refTypes.get(x.name) === x.type);
      incomparable.push(...g.features.filter((x) => !comparable.includes(x)).map((x) => x.name));
      let sampled = src;
      if (refRows > cfg.maxReferenceRows && this.f.keys.every((k) => refTypes.has(k.name))) {
        // By key, so that the sample is the same entities on every reference date, and deterministic.
        const per = Math.ceil((cfg.maxReferenceRows / refRows) * 1e6);
        sampled = `(SELECT * FROM ${src} WHERE hash(${this.f.keys.map((k) => sqlIdent(k.name)).join(', ')}) % 1000000 < ${per})`;
        this.notes.push(`reference sampled by key to about ${cfg.maxReferenceRows} of its ${refRows} rows (${g.dates.join(', ')})`);
      }
      const name = `q_ref_${i}`;
      await createProfileView(db, name, sampled, comparable);
      await createLongTable(
        db,
        `q_ref_cat_${i}`,
        name,
        comparable.filter(isCategorical).map((x) => x.name),
      );
      longTables.push(`q_ref_cat_${i}`);
      out.groups.push({ view: name, numeric: comparable.filter(isNumeric) });
      out.numeric.push(...comparable.filter(isNumeric));
      out.categorical.push(...comparable.filter(isCategorical));
    }
    if (incomparable.length) this.notes.push(`not in the reference with the same type, no drift: ${incomparable.join(', ')}`);
    await db.run(
      longTables.length
        ? `CREATE TEMP TABLE q_ref_cat AS ${longTables.map((t) => `SELECT * FROM ${t}`).join(' UNION ALL ')}`
        : 'CREATE TEMP TABLE q_ref_cat (q_feature VARCHAR, q_value VARCHAR, q_n BIGINT)',
    );
    return out;
  }

  /** Notes of the windows still filling and of those without a like-for-like reference yet. */
  private windowNotes(usable: FeatureDecl[]): void {
    const plans = [...this.refs.windows];
    if (this.refs.candidates === 0 && !plans.some(([, p]) => filling(p))) {
      this.notes.push(`no reference (no committed gold of ${this.f.name} to compare with before ${this.opts.date}): drift checks skipped`);
      return;
    }
    // One note per window; the features are named only when the family has several windows.
    for (const [k, p] of plans) {
      const of = usable.filter((x) => windowKey(checkWindow(this.f, x)) === k).map((x) => x.name);
      const what = plans.length === 1 ? '' : of.length ? ` (${of.join(', ')})` : ' (row count)';
      if (filling(p)) this.notes.push(`window filling: ${p.coverage!.days} of ${p.coverage!.of} days, not compared for drift${what}`);
      else if (p.dates.length === 0)
        this.notes.push(
          `no ${p.kind === 'same_weekday' ? 'same-weekday ' : ''}reference${p.coverage ? ` with a complete ${p.coverage.of}-day window` : ''} yet, not compared for drift${what}`,
        );
    }
  }

  private async featureMetrics(usable: FeatureDecl[], counts: RowCheckCounts, drift: DriftInputs): Promise<FeatureMetrics[]> {
    const { db, cfg } = this;
    const numeric = usable.filter(isNumeric);
    const cur = await numericStats(db, 'q_cur', numeric);
    const ref = new Map<string, NumericStats>();
    for (const g of drift.groups) for (const [k, v] of await numericStats(db, g.view, g.numeric)) ref.set(k, v);
    const binnings = numeric
      .filter((x) => cur.get(x.name)!.n > 0)
      .map((x) => this.binning(x, cur.get(x.name)!, drift.numeric.includes(x) ? ref.get(x.name) : undefined));
    const curCounts = await numericCounts(db, 'q_cur', binnings);
    const refCounts = new Map<string, NumericCounts>();
    for (const g of drift.groups) {
      const names = new Set(g.numeric.map((x) => x.name));
      for (const [k, v] of await numericCounts(
        db,
        g.view,
        binnings.filter((b) => b.psiEdges && names.has(b.feature)),
      ))
        refCounts.set(k, v);
    }
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
      const plan = this.plan(x);
      const m: FeatureMetrics = {
        name: x.name,
        type: x.type,
        score: 0,
        components: { nulls: wentNull ? 0 : nullsComponent(nullShare, x.maxNullShare ?? (x.nullable ? 1 : 0)) },
        nullShare: r6(nullShare),
        ...(plan.coverage ? { window: plan.coverage } : {}),
        ...(plan.dates.length ? { reference: { kind: plan.kind, dates: plan.dates } } : {}),
      };
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
    this.ran(
      share > allowed
        ? {
            check: 'null_share',
            feature: x.name,
            severity,
            value: r6(share),
            threshold: allowed,
            message: `${this.f.name}.${x.name}: ${pct(share)} null, more than the ${pct(allowed)} allowed`,
          }
        : undefined,
    );
  }

  private wentNull(x: FeatureDecl): void {
    const severity = severityOverride(this.cfg, 'null_share', { feature: x });
    if (severity === 'off') return;
    this.ran({
      check: 'null_share',
      feature: x.name,
      severity: severity ?? 'warn',
      value: 1,
      threshold: 1,
      message: `${this.f.name}.${x.name}: every value is null, where the reference had values`,
    });
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

  private numeric(
    x: FeatureDecl,
    m: FeatureMetrics,
    s: NumericStats,
    b: NumericBinning,
    c: NumericCounts,
    r: NumericStats | undefined,
    rc: NumericCounts | undefined,
    tooFew: string[],
  ): void {
    const { cfg, f } = this;
    const t = cfg.thresholds;
    Object.assign(m, {
      mean: r6o(s.mean),
      stddev: r6o(s.stddev),
      skewness: r6o(s.skewness),
      min: r6o(s.min),
      max: r6o(s.max),
      q1: r6o(quantile(s, 0.25)),
      median: r6o(quantile(s, 0.5)),
      q3: r6o(quantile(s, 0.75)),
    });
    const name = `${f.name}.${x.name}`;
    if (b.fenceLo !== undefined) {
      const share = c.outliers / s.n;
      m.outlierShare = r6(share);
      this.level(
        'outliers',
        share,
        t.outlierShare,
        x,
        (th) => `${name}: ${pct(share)} of values outside the IQR fences [${fmt(b.fenceLo!)}, ${fmt(b.fenceHi!)}] (limit ${pct(th)})`,
        { rows: c.outliers },
      );
      if (!this.isOff('outliers', x)) m.components.outliers = outliersComponent(share);
    }
    const constant = s.min === s.max;
    if (s.n >= 2) {
      // While a window fills, one value for everyone is expected (every user active 1 day of 1).
      const severity = filling(this.plan(x)) ? undefined : fixedSeverity(cfg, 'zero_variance', { feature: x });
      if (severity)
        this.ran(
          constant
            ? { check: 'zero_variance', feature: x.name, severity, value: 0, message: `${name}: zero variance (every value is ${fmt(s.min!)})` }
            : undefined,
        );
    }
    if (s.n >= 3 && !constant && s.skewness !== undefined) {
      this.level('skew', s.skewness, t.skew, x, (th) => `${name}: skewness ${fmt(s.skewness!)} beyond ±${fmt(th)}`);
    }
    if (s.n >= 2 && !(this.isOff('zero_variance', x) && this.isOff('skew', x))) {
      m.components.distribution = distributionComponent(
        constant && !this.isOff('zero_variance', x) && !filling(this.plan(x)),
        this.isOff('skew', x) ? undefined : s.skewness,
        t.skew.warn ?? t.skew.error ?? Infinity,
      );
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
    const noise = sampleNoise(s.n, r.n);
    this.level(
      'psi',
      p,
      raised(t.psi, (th) => th + psiBias(c.psi!.length, noise)),
      x,
      (th) => `${name}: PSI ${fmt(p)} against the reference (threshold ${fmt(th)}, sample noise included)`,
    );
    this.level(
      'ks',
      ks,
      raised(t.ks, (th) => Math.max(th, KS_CRITICAL * Math.sqrt(noise))),
      x,
      (th) => `${name}: KS statistic ${fmt(ks)} against the reference (threshold ${fmt(th)}, sample noise included)`,
    );
    // A change of the mean counts when it is large (relative threshold) and real: beyond MEAN_SIGMAS standard errors.
    const standardError = Math.sqrt((s.stddev ?? 0) ** 2 / s.n + (r.stddev ?? 0) ** 2 / r.n);
    if (Math.abs(s.mean! - r.mean!) > MEAN_SIGMAS * standardError) {
      this.level(
        'mean_change',
        meanChange,
        t.meanChange,
        x,
        (th) => `${name}: mean ${fmt(s.mean!)} vs ${fmt(r.mean!)} in the reference (${pct(meanChange!)} change, threshold ${pct(th)})`,
      );
    }
    if (!this.isOff('psi', x)) m.components.drift = driftComponent(p, t.psi.error ?? t.psi.warn ?? 0.2);
  }

  private categorical(x: FeatureDecl, m: FeatureMetrics, c: CategoryShares, comparable: boolean, tooFew: string[]): void {
    const { cfg, f } = this;
    const name = `${f.name}.${x.name}`;
    m.distinct = c.distinct;
    const severity = filling(this.plan(x)) ? undefined : fixedSeverity(cfg, 'constant', { feature: x });
    if (severity && c.currentCount >= 2)
      this.ran(
        c.distinct === 1
          ? { check: 'constant', feature: x.name, severity, value: 1, message: `${name}: constant (every value is '${c.categories[0]}')` }
          : undefined,
      );
    if (!this.isOff('constant', x)) m.components.distribution = c.distinct === 1 && !filling(this.plan(x)) ? 0 : 1;
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
    const noise = sampleNoise(c.currentCount, c.referenceCount);
    const k = c.categories.length;
    this.level(
      'psi',
      p,
      raised(cfg.thresholds.psi, (th) => th + psiBias(k, noise)),
      x,
      (th) => `${name}: PSI ${fmt(p)} of category shares against the reference (threshold ${fmt(th)}, sample noise included)`,
    );
    this.level(
      'js',
      js,
      raised(cfg.thresholds.js, (th) => Math.sqrt(th ** 2 + jsBias(k, noise))),
      x,
      (th) => `${name}: Jensen-Shannon distance ${fmt(js)} of category shares against the reference (threshold ${fmt(th)}, sample noise included)`,
    );
    if (!this.isOff('psi', x)) m.components.drift = driftComponent(p, cfg.thresholds.psi.error ?? cfg.thresholds.psi.warn ?? 0.2);
  }

  /** The row count against the family's reference (its rows' window); returns the report's reference section. */
  private async rowCountChange(rows: number): Promise<ValidationReport['reference']> {
    const p = this.plan();
    const base = { kind: p.kind, dates: p.dates, ...(p.coverage ? { window: p.coverage } : {}) };
    if (p.dates.length === 0) return { ...base, rows: 0 };
    const files = this.refs.filesOf(p.dates);
    const refRows = (
      await this.db.one<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM read_parquet(${sqlList(files)}, union_by_name = true, hive_partitioning = false)`)
    ).n;
    if (refRows === 0) {
      this.notes.push(`the reference dates (${p.dates.join(', ')}) have no rows: row count not compared`);
      return { ...base, rows: 0 };
    }
    const perDate = refRows / p.dates.length;
    const change = relativeChange(rows, perDate)!;
    this.level(
      'row_count_change',
      change,
      this.cfg.thresholds.rowCountChange,
      undefined,
      (th) => `${this.f.name}: ${rows} rows vs ${fmt(perDate)} per date in the reference (${pct(change)} change, threshold ${pct(th)})`,
    );
    return { ...base, rows: refRows, rowsPerDate: r6(perDate), rowCountChange: r6(change) };
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
  return (await db.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${view}`)).map((r) => ({
    name: r.column_name,
    type: r.column_type,
  }));
}
