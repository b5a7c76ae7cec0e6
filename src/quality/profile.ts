// Distribution profiles of the features, current and reference, computed in DuckDB: moments and
// quantiles, then the values in long form (feature, value, count) from which outliers, histograms, PSI
// bins, the KS statistic and category shares are counted. Only the per-feature aggregates come back.
import type { Engine } from '../engine/duckdb.js';
import { sqlIdent } from '../engine/duckdb.js';
import type { FeatureDecl } from '../features/types.js';

export const isNumeric = (f: FeatureDecl): boolean => f.type === 'BIGINT' || f.type === 'DOUBLE';
export const isCategorical = (f: FeatureDecl): boolean => f.type === 'VARCHAR';

/** Order statistics kept per numeric feature: grid[k] is the value of rank floor(k / GRID * (n - 1)). */
export const GRID = 1000;

export interface NumericStats {
  /** Finite non-null values. */
  n: number;
  mean?: number;
  stddev?: number;
  skewness?: number;
  min?: number;
  max?: number;
  /** GRID + 1 order statistics (empty when n = 0): the quantile function, for quartiles, bins and KS. */
  grid: number[];
}

/** The quantile of probability p from the grid. */
export function quantile(s: NumericStats, p: number): number {
  return s.grid[Math.round(p * GRID)]!;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'bigint' ? Number(v) : undefined);

function sqlNum(x: number): string {
  return `${x}::DOUBLE`;
}

/**
 * A view of the features as analysed: numeric ones as DOUBLE with NaN and infinities as NULL (the
 * finite check reports those), categorical ones as they are.
 */
export async function createProfileView(db: Engine, name: string, source: string, features: readonly FeatureDecl[]): Promise<void> {
  const cols = features.map((f) => {
    const c = sqlIdent(f.name);
    return isNumeric(f) ? `CASE WHEN isfinite(${c}::DOUBLE) THEN ${c}::DOUBLE END AS ${c}` : c;
  });
  await db.run(`CREATE OR REPLACE TEMP VIEW ${name} AS SELECT ${cols.length ? cols.join(', ') : '1 AS none'} FROM ${source}`);
}

/**
 * Moments and the quantile grid of each numeric feature, in one scan. The grid comes from one sort
 * per column (list_sort), which is far cheaper than asking quantile functions for a thousand levels.
 */
export async function numericStats(db: Engine, view: string, features: readonly FeatureDecl[]): Promise<Map<string, NumericStats>> {
  const out = new Map<string, NumericStats>();
  if (features.length === 0) return out;
  const inner = features.flatMap((f, i) => {
    const c = sqlIdent(f.name);
    return [
      `count(${c})::BIGINT AS n${i}`,
      `avg(${c}) AS mean${i}`,
      `stddev_pop(${c}) AS sd${i}`,
      `skewness(${c}) AS sk${i}`,
      `list_sort(list(${c}) FILTER (WHERE ${c} IS NOT NULL)) AS l${i}`,
    ];
  });
  const outer = features.flatMap((_, i) => [
    `n${i}`,
    `mean${i}`,
    `sd${i}`,
    `sk${i}`,
    `CASE WHEN n${i} > 0 THEN list_transform(range(0, ${GRID + 1}), lambda k: l${i}[1 + floor(k / ${GRID} * (n${i} - 1))::BIGINT]) END AS g${i}`,
  ]);
  const r = await db.one<Record<string, unknown>>(`SELECT ${outer.join(', ')} FROM (SELECT ${inner.join(', ')} FROM ${view})`);
  features.forEach((f, i) => {
    const grid = ((r[`g${i}`] as unknown[] | null) ?? []).map((v) => num(v)!);
    out.set(f.name, {
      n: num(r[`n${i}`]) ?? 0,
      mean: num(r[`mean${i}`]),
      stddev: num(r[`sd${i}`]),
      skewness: num(r[`sk${i}`]),
      min: grid[0],
      max: grid.at(-1),
      grid,
    });
  });
  return out;
}

/** The values of some columns of a view in long form: one row per (feature, distinct value) with its count. */
export async function createLongTable(db: Engine, name: string, view: string, columns: readonly string[]): Promise<void> {
  if (columns.length === 0) {
    await db.run(`CREATE OR REPLACE TEMP TABLE ${name} (q_feature VARCHAR, q_value VARCHAR, q_n BIGINT)`);
    return;
  }
  const cols = columns.map(sqlIdent).join(', ');
  await db.run(`CREATE OR REPLACE TEMP TABLE ${name} AS
    SELECT q_feature, q_value, count(*)::BIGINT AS q_n
    FROM (UNPIVOT (SELECT ${cols} FROM ${view}) ON ${cols} INTO NAME q_feature VALUE q_value)
    GROUP BY ALL`);
}

/** How a numeric feature is binned: Tukey fences, equal-width histogram bins, PSI edges. */
export interface NumericBinning {
  feature: string;
  fenceLo?: number;
  fenceHi?: number;
  histLo: number;
  histWidth: number;
  histBins: number;
  /** Inner edges: bin i holds values in (edge[i-1], edge[i]]. */
  psiEdges?: number[];
}

export interface NumericCounts {
  outliers: number;
  hist: number[];
  psi?: number[];
}

/** Outliers, histogram and PSI bin counts of every numeric feature, in one scan of a profile view. */
export async function numericCounts(db: Engine, view: string, binnings: readonly NumericBinning[]): Promise<Map<string, NumericCounts>> {
  const out = new Map<string, NumericCounts>();
  if (binnings.length === 0) return out;
  const select = binnings.flatMap((b, i) => {
    const c = sqlIdent(b.feature);
    const parts = [
      b.fenceLo !== undefined ? `count(*) FILTER (WHERE ${c} < ${sqlNum(b.fenceLo)} OR ${c} > ${sqlNum(b.fenceHi!)})::BIGINT AS o${i}` : `0::BIGINT AS o${i}`,
      `histogram(least(greatest(floor((${c} - ${sqlNum(b.histLo)}) / ${sqlNum(b.histWidth)}), 0), ${b.histBins - 1})::INTEGER) FILTER (WHERE ${c} IS NOT NULL) AS h${i}`,
    ];
    if (b.psiEdges) {
      const bins = b.psiEdges.map((e, j) => `WHEN ${c} <= ${sqlNum(e)} THEN ${j}`).join(' ');
      parts.push(`histogram(CASE ${bins} ELSE ${b.psiEdges.length} END) FILTER (WHERE ${c} IS NOT NULL) AS p${i}`);
    }
    return parts;
  });
  const r = await db.one<Record<string, unknown>>(`SELECT ${select.join(', ')} FROM ${view}`);
  const dense = (v: unknown, size: number): number[] => {
    const a = new Array<number>(size).fill(0);
    for (const e of (v as { key: number; value: number }[] | null) ?? []) a[e.key] = Number(e.value);
    return a;
  };
  binnings.forEach((b, i) => {
    out.set(b.feature, {
      outliers: num(r[`o${i}`]) ?? 0,
      hist: dense(r[`h${i}`], b.histBins),
      ...(b.psiEdges ? { psi: dense(r[`p${i}`], b.psiEdges.length + 1) } : {}),
    });
  });
  return out;
}

export interface CategoryShares {
  /** Top categories by current + reference share, then "(other)" when some were pooled. */
  categories: string[];
  current: number[];
  reference: number[];
  /** Distinct non-null values in the current partition. */
  distinct: number;
  /** Non-null values, current and reference. */
  currentCount: number;
  referenceCount: number;
}

export const OTHER_CATEGORY = '(other)';

/** Category shares per feature, current and reference, over the top categories of both. */
export async function categoryShares(db: Engine, currentLong: string, referenceLong: string, top: number): Promise<Map<string, CategoryShares>> {
  const rows = await db.all<{ f: string; category: string | null; pc: number; pr: number; n_distinct: number; n_current: number; n_reference: number }>(`
    WITH q_ct AS (SELECT q_feature, sum(q_n)::BIGINT AS total, count(*)::BIGINT AS n_distinct FROM ${currentLong} GROUP BY ALL),
    q_rt AS (SELECT q_feature, sum(q_n)::BIGINT AS total FROM ${referenceLong} GROUP BY ALL),
    q_c AS (SELECT q_feature, q_value, q_n::DOUBLE / total AS p FROM ${currentLong} JOIN q_ct USING (q_feature)),
    q_r AS (SELECT q_feature, q_value, q_n::DOUBLE / total AS p FROM ${referenceLong} JOIN q_rt USING (q_feature)),
    q_j AS (SELECT q_feature, q_value, coalesce(q_c.p, 0) AS pc, coalesce(q_r.p, 0) AS pr FROM q_c FULL JOIN q_r USING (q_feature, q_value)),
    q_k AS (SELECT *, row_number() OVER (PARTITION BY q_feature ORDER BY pc + pr DESC, q_value) AS rk FROM q_j)
    SELECT q_feature AS f, CASE WHEN rk <= ${top} THEN q_value END AS category, sum(pc)::DOUBLE AS pc, sum(pr)::DOUBLE AS pr, min(rk) AS first_rank,
      any_value(coalesce(q_ct.n_distinct, 0)) AS n_distinct, any_value(coalesce(q_ct.total, 0)) AS n_current, any_value(coalesce(q_rt.total, 0)) AS n_reference
    FROM q_k LEFT JOIN q_ct USING (q_feature) LEFT JOIN q_rt USING (q_feature) GROUP BY ALL ORDER BY f, first_rank`);
  const out = new Map<string, CategoryShares>();
  for (const r of rows) {
    let s = out.get(r.f);
    if (!s)
      out.set(r.f, (s = { categories: [], current: [], reference: [], distinct: r.n_distinct, currentCount: r.n_current, referenceCount: r.n_reference }));
    s.categories.push(r.category ?? OTHER_CATEGORY);
    s.current.push(r.pc);
    s.reference.push(r.pr);
  }
  return out;
}
