// Drift formulas over binned counts: the counting happens in DuckDB, only the few bins come here.

/** Distinct, ascending, finite reference quantiles: the inner edges of the PSI bins (ties merge bins). */
export function psiEdges(quantiles: readonly number[]): number[] {
  return [...new Set(quantiles.filter((q) => Number.isFinite(q)))].sort((a, b) => a - b);
}

function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

/**
 * Population stability index: sum over bins of (c - r) * ln(c / r), c and r the current and reference
 * shares, an empty bin counting as `epsilon` so that the sum stays finite.
 */
export function psi(current: readonly number[], reference: readonly number[], epsilon: number): number {
  if (current.length !== reference.length) throw new Error(`psi: ${current.length} current bins against ${reference.length} reference bins`);
  const c = shares(current);
  const r = shares(reference);
  let sum = 0;
  for (let i = 0; i < c.length; i++) {
    const a = Math.max(c[i]!, epsilon);
    const b = Math.max(r[i]!, epsilon);
    sum += (a - b) * Math.log(a / b);
  }
  return sum;
}

/** Jensen-Shannon distance (square root of the divergence, base 2): 0 for equal shares, 1 for disjoint. */
export function jsDistance(current: readonly number[], reference: readonly number[]): number {
  if (current.length !== reference.length) throw new Error(`js: ${current.length} current categories against ${reference.length} reference categories`);
  const p = shares(current);
  const q = shares(reference);
  let div = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i]! + q[i]!) / 2;
    if (p[i]! > 0) div += 0.5 * p[i]! * Math.log2(p[i]! / m);
    if (q[i]! > 0) div += 0.5 * q[i]! * Math.log2(q[i]! / m);
  }
  return Math.sqrt(Math.min(1, Math.max(0, div)));
}

/** (current - reference) / |reference|; undefined when the reference is 0 and the current is not. */
export function relativeChange(current: number, reference: number): number | undefined {
  if (reference === 0) return current === 0 ? 0 : undefined;
  return (current - reference) / Math.abs(reference);
}

/** Values of a sorted array that are <= v. */
function countAtMost(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The empirical CDF at v from a quantile grid of a sample of n values, where grid[k] is the value of
 * rank floor(k / K * (n - 1)) (K + 1 points): exact while n <= K + 1 (every rank is on the grid), within
 * about 1 / K beyond.
 */
function cdfFromGrid(grid: readonly number[], n: number, v: number): number {
  const at = countAtMost(grid, v);
  if (at === 0) return 0;
  const k = grid.length - 1;
  return (Math.floor(((at - 1) * (n - 1)) / k) + 1) / n;
}

/**
 * Two-sample Kolmogorov-Smirnov statistic, sup |F1(v) - F2(v)|, from each sample's quantile grid and
 * size, the CDFs read off the grids at every grid value of both samples. Exact for samples of up to
 * K + 1 values, within about 2 / K for larger ones.
 */
export function ksFromGrids(a: readonly number[], na: number, b: readonly number[], nb: number): number {
  if (a.length === 0 || b.length === 0 || na === 0 || nb === 0) throw new Error('ks: an empty sample');
  let d = 0;
  for (const v of [...a, ...b]) d = Math.max(d, Math.abs(cdfFromGrid(a, na, v) - cdfFromGrid(b, nb, v)));
  return d;
}
