// The numeric core of implicit ALS: conjugate-gradient row solves and Gram matrices over typed arrays.
//
// createAlsKernel is self-contained on purpose (no references to anything outside its body, type
// imports aside): worker-pool.ts evaluates its source text inside worker threads.
import type { Csr } from './interactions.js';

/** Arrays the kernel reads and writes; SharedArrayBuffer-backed when worker threads share them. */
export interface AlsState {
  factors: number;
  cgSteps: number;
  /** nUsers × factors, row-major. */
  userFactors: Float32Array;
  /** nItems × factors, row-major. */
  itemFactors: Float32Array;
  /** User-major interactions; values are alpha * r_ui = C_ui - 1. */
  users: Csr;
  /** Item-major view of the same interactions. */
  items: Csr;
  /** factors × factors: the Gram matrix of the fixed side (plus lambda on the diagonal while solving). */
  gram: Float64Array;
  /** Per item, after its solve: sum over its users of C_ui (1 - s)^2 - s^2, s = x_u . y_i (the observed part of the loss). */
  itemLoss: Float64Array;
}

/**
 * A unit of work over a contiguous range: rows to solve, or rows [start, end) of the upper triangle of
 * the Gram matrix of one side. Every row's result depends only on the inputs, never on the ranges.
 */
export interface AlsTask {
  op: 'solveUsers' | 'solveItems' | 'gramUsers' | 'gramItems';
  start: number;
  end: number;
}

export function createAlsKernel(state: AlsState): { run(task: AlsTask): void } {
  /** Below this squared residual norm a CG solve has converged (the threshold the implicit library uses). */
  const CG_TOLERANCE = 1e-20;
  const f = state.factors;
  const x = new Float64Array(f);
  const r = new Float64Array(f);
  const p = new Float64Array(f);
  const ap = new Float64Array(f);

  /** out = G v for the symmetric f × f matrix G, eight rows of G at a time (fewer loads of v). */
  function gramTimes(g: Float64Array, v: Float64Array, out: Float64Array): void {
    let a = 0;
    for (; a + 7 < f; a += 8) {
      const o0 = a * f;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let s4 = 0;
      let s5 = 0;
      let s6 = 0;
      let s7 = 0;
      for (let b = 0; b < f; b++) {
        const vb = v[b];
        const o = o0 + b;
        s0 += g[o] * vb;
        s1 += g[o + f] * vb;
        s2 += g[o + 2 * f] * vb;
        s3 += g[o + 3 * f] * vb;
        s4 += g[o + 4 * f] * vb;
        s5 += g[o + 5 * f] * vb;
        s6 += g[o + 6 * f] * vb;
        s7 += g[o + 7 * f] * vb;
      }
      out[a] = s0;
      out[a + 1] = s1;
      out[a + 2] = s2;
      out[a + 3] = s3;
      out[a + 4] = s4;
      out[a + 5] = s5;
      out[a + 6] = s6;
      out[a + 7] = s7;
    }
    for (; a < f; a++) {
      let s = 0;
      for (let b = 0; b < f; b++) s += g[a * f + b] * v[b];
      out[a] = s;
    }
  }

  /** out[t] = ys[t] . v for the n gathered rows, four at a time. */
  function rowDots(ys: Float32Array, n: number, v: Float64Array, out: Float64Array): void {
    let t = 0;
    for (; t + 3 < n; t += 4) {
      const o0 = t * f;
      const o1 = o0 + f;
      const o2 = o1 + f;
      const o3 = o2 + f;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < f; k++) {
        const vk = v[k];
        s0 += ys[o0 + k] * vk;
        s1 += ys[o1 + k] * vk;
        s2 += ys[o2 + k] * vk;
        s3 += ys[o3 + k] * vk;
      }
      out[t] = s0;
      out[t + 1] = s1;
      out[t + 2] = s2;
      out[t + 3] = s3;
    }
    for (; t < n; t++) {
      const o = t * f;
      let s = 0;
      for (let k = 0; k < f; k++) s += ys[o + k] * v[k];
      out[t] = s;
    }
  }

  /** out += sum_t c[t] ys[t] over the n gathered rows, four at a time (fewer loads and stores of out). */
  function addRows(ys: Float32Array, n: number, c: Float64Array, out: Float64Array): void {
    let t = 0;
    for (; t + 3 < n; t += 4) {
      const o0 = t * f;
      const o1 = o0 + f;
      const o2 = o1 + f;
      const o3 = o2 + f;
      const c0 = c[t];
      const c1 = c[t + 1];
      const c2 = c[t + 2];
      const c3 = c[t + 3];
      for (let k = 0; k < f; k++) out[k] += c0 * ys[o0 + k] + c1 * ys[o1 + k] + (c2 * ys[o2 + k] + c3 * ys[o3 + k]);
    }
    for (; t < n; t++) {
      const o = t * f;
      const ct = c[t];
      for (let k = 0; k < f; k++) out[k] += ct * ys[o + k];
    }
  }

  function selfDot(v: Float64Array): number {
    let s = 0;
    for (let k = 0; k < f; k++) s += v[k] * v[k];
    return s;
  }

  // The other side's vectors of the row being solved, gathered into one contiguous block that stays in
  // cache across the CG steps (grown to the longest row: its interactions × factors × 4 bytes).
  let gathered = new Float32Array(f * 256);
  let coef = new Float64Array(256);

  /**
   * For each row u in [start, end): cgSteps conjugate-gradient steps, from the current x_u, on
   * (G + lambda I + sum_i (C_ui - 1) y_i y_i^T) x_u = sum_i C_ui y_i (Hu, Koren, Volinsky 2008; the CG
   * variant of Takacs et al. as in the implicit library), with G + lambda I already in state.gram.
   */
  function solveRows(target: Float32Array, other: Float32Array, csr: Csr, start: number, end: number, rowLoss: Float64Array | null): void {
    const { indptr, indices, values } = csr;
    const g = state.gram;
    const steps = state.cgSteps;
    for (let u = start; u < end; u++) {
      const off = u * f;
      const first = indptr[u];
      const n = indptr[u + 1] - first;
      if (n > coef.length) {
        coef = new Float64Array(2 * n);
        gathered = new Float32Array(2 * n * f);
      }
      const rows = gathered;
      for (let t = 0; t < n; t++) {
        const o = indices[first + t] * f;
        const to = t * f;
        for (let k = 0; k < f; k++) rows[to + k] = other[o + k];
      }
      for (let k = 0; k < f; k++) x[k] = target[off + k];
      // r = b - A x = sum_i (C_ui - (C_ui - 1) y_i.x) y_i - (G + lambda I) x
      gramTimes(g, x, r);
      for (let k = 0; k < f; k++) r[k] = -r[k];
      rowDots(rows, n, x, coef);
      for (let t = 0; t < n; t++) {
        const w = values[first + t];
        coef[t] = 1 + w - w * coef[t];
      }
      addRows(rows, n, coef, r);
      let rsOld = selfDot(r);
      if (rsOld >= CG_TOLERANCE) {
        for (let k = 0; k < f; k++) p[k] = r[k];
        for (let step = 0; step < steps; step++) {
          // ap = A p
          gramTimes(g, p, ap);
          rowDots(rows, n, p, coef);
          for (let t = 0; t < n; t++) coef[t] *= values[first + t];
          addRows(rows, n, coef, ap);
          let pAp = 0;
          for (let k = 0; k < f; k++) pAp += p[k] * ap[k];
          const alpha = rsOld / pAp;
          for (let k = 0; k < f; k++) {
            x[k] += alpha * p[k];
            r[k] -= alpha * ap[k];
          }
          const rsNew = selfDot(r);
          if (rsNew < CG_TOLERANCE) break;
          const beta = rsNew / rsOld;
          for (let k = 0; k < f; k++) p[k] = r[k] + beta * p[k];
          rsOld = rsNew;
        }
        for (let k = 0; k < f; k++) target[off + k] = x[k];
      }
      if (rowLoss !== null) {
        // The loss must see the factors as stored (float32), not the float64 working copy.
        for (let k = 0; k < f; k++) x[k] = target[off + k];
        rowDots(rows, n, x, coef);
        let loss = 0;
        for (let t = 0; t < n; t++) {
          const s = coef[t];
          loss += (1 + values[first + t]) * (1 - s) * (1 - s) - s * s;
        }
        rowLoss[u] = loss;
      }
    }
  }

  /**
   * Rows [aStart, aEnd) of the upper triangle of m^T m. Rows of m are added four at a time in a fixed
   * order, so every entry has the same rounding whatever the split of the triangle between threads.
   */
  function gramUpper(m: Float32Array, aStart: number, aEnd: number): void {
    const g = state.gram;
    const nRows = m.length / f;
    for (let a = aStart; a < aEnd; a++) for (let b = a; b < f; b++) g[a * f + b] = 0;
    let row = 0;
    for (; row + 3 < nRows; row += 4) {
      const o0 = row * f;
      const o1 = o0 + f;
      const o2 = o1 + f;
      const o3 = o2 + f;
      for (let a = aStart; a < aEnd; a++) {
        const y0 = m[o0 + a];
        const y1 = m[o1 + a];
        const y2 = m[o2 + a];
        const y3 = m[o3 + a];
        const ga = a * f;
        for (let b = a; b < f; b++) g[ga + b] += y0 * m[o0 + b] + y1 * m[o1 + b] + (y2 * m[o2 + b] + y3 * m[o3 + b]);
      }
    }
    for (; row < nRows; row++) {
      const o = row * f;
      for (let a = aStart; a < aEnd; a++) {
        const y = m[o + a];
        const ga = a * f;
        for (let b = a; b < f; b++) g[ga + b] += y * m[o + b];
      }
    }
  }

  return {
    run(task: AlsTask): void {
      switch (task.op) {
        case 'solveUsers':
          solveRows(state.userFactors, state.itemFactors, state.users, task.start, task.end, null);
          break;
        case 'solveItems':
          solveRows(state.itemFactors, state.userFactors, state.items, task.start, task.end, state.itemLoss);
          break;
        case 'gramUsers':
          gramUpper(state.userFactors, task.start, task.end);
          break;
        case 'gramItems':
          gramUpper(state.itemFactors, task.start, task.end);
          break;
      }
    },
  };
}
