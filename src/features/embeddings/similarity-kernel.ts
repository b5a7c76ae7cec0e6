// The numeric core of similar items: cosine similarity of all pairs of unit vectors, as a blocked
// matrix product (each pair computed once), into per-thread heaps of the best k per item.
//
// createSimilarityKernel is self-contained on purpose (no references outside its body, type imports
// aside): worker-pool.ts evaluates its source text inside worker threads.

export interface SimilarityState {
  factors: number;
  nItems: number;
  k: number;
  /** nItems × factors unit vectors (zero rows for zero vectors). */
  unit: Float32Array;
  /**
   * Per slot (one per concurrent task), nItems × k min-heaps of the best candidates so far: scores
   * (initially -Infinity) and items (initially 0x7fffffff), worst at the root of each item's heap.
   */
  heapScores: Float64Array[];
  heapItems: Int32Array[];
}

/** All pairs (a, b), b > a, for rows a in [start, end) (start a multiple of 4), into the heaps of `slot`. */
export interface SimilarityTask {
  slot: number;
  start: number;
  end: number;
}

export function createSimilarityKernel(state: SimilarityState): { run(task: SimilarityTask): void } {
  /** Columns per block: 256 unit vectors of 64 float32 factors (64 KB) stay in L2 while the rows sweep them. */
  const COLUMN_BLOCK = 256;
  const f = state.factors;
  const n = state.nItems;
  const k = state.k;
  const m = state.unit;

  /**
   * Offers `item` with `score` to `row`'s heap. "Better" is a higher score, then a lower index, so the
   * final top k is the same whatever order (and thread) the pairs come in.
   */
  function offer(hs: Float64Array, hi: Int32Array, row: number, item: number, score: number): void {
    const base = row * k;
    if (score < hs[base] || (score === hs[base] && item > hi[base])) return;
    let pos = 0;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= k) break;
      const c = base + child;
      if (child + 1 < k && (hs[c + 1] < hs[c] || (hs[c + 1] === hs[c] && hi[c + 1] > hi[c]))) child++;
      const at = base + child;
      if (hs[at] < score || (hs[at] === score && hi[at] > item)) {
        hs[base + pos] = hs[at];
        hi[base + pos] = hi[at];
        pos = child;
      } else break;
    }
    hs[base + pos] = score;
    hi[base + pos] = item;
  }

  function run(task: SimilarityTask): void {
    const hs = state.heapScores[task.slot];
    const hi = state.heapItems[task.slot];
    // Every score is one sequential sum over the factors, so a pair scores the same whichever loop computes it.
    const pair = (a: number, b: number): void => {
      const oa = a * f;
      const ob = b * f;
      let s = 0;
      for (let c = 0; c < f; c++) s += m[oa + c] * m[ob + c];
      offer(hs, hi, a, b, s);
      offer(hs, hi, b, a, s);
    };
    // The heap root (the worst kept score) is checked inline: most pairs enter neither heap.
    const both = (a: number, b: number, s: number): void => {
      if (s >= hs[a * k]) offer(hs, hi, a, b, s);
      if (s >= hs[b * k]) offer(hs, hi, b, a, s);
    };
    for (let j0 = 0; j0 < n; j0 += COLUMN_BLOCK) {
      const j1 = Math.min(n, j0 + COLUMN_BLOCK);
      for (let i = task.start; i < task.end && i < j1; i += 4) {
        if (i + 3 >= n) {
          for (let a = i; a < n; a++) for (let b = Math.max(j0, a + 1); b < j1; b++) pair(a, b);
          continue;
        }
        // Pairs inside the quad of rows, then the quad against the columns beyond it, two at a time.
        for (let a = i; a < i + 4; a++) for (let b = Math.max(j0, a + 1); b < Math.min(j1, i + 4); b++) pair(a, b);
        const o0 = i * f;
        const o1 = o0 + f;
        const o2 = o1 + f;
        const o3 = o2 + f;
        let j = Math.max(j0, i + 4);
        for (; j + 1 < j1; j += 2) {
          const p = j * f;
          const q = p + f;
          let s00 = 0;
          let s10 = 0;
          let s20 = 0;
          let s30 = 0;
          let s01 = 0;
          let s11 = 0;
          let s21 = 0;
          let s31 = 0;
          for (let c = 0; c < f; c++) {
            const b0 = m[p + c];
            const b1 = m[q + c];
            const a0 = m[o0 + c];
            const a1 = m[o1 + c];
            const a2 = m[o2 + c];
            const a3 = m[o3 + c];
            s00 += a0 * b0;
            s10 += a1 * b0;
            s20 += a2 * b0;
            s30 += a3 * b0;
            s01 += a0 * b1;
            s11 += a1 * b1;
            s21 += a2 * b1;
            s31 += a3 * b1;
          }
          both(i, j, s00);
          both(i + 1, j, s10);
          both(i + 2, j, s20);
          both(i + 3, j, s30);
          both(i, j + 1, s01);
          both(i + 1, j + 1, s11);
          both(i + 2, j + 1, s21);
          both(i + 3, j + 1, s31);
        }
        for (; j < j1; j++) for (let a = i; a < i + 4; a++) pair(a, j);
      }
    }
  }

  return { run };
}
