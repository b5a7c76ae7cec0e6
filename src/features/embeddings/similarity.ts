// Each item's most similar items by cosine similarity of their vectors (all pairs, exact), on worker
// threads for large catalogues. The result does not depend on the thread count.
import { float32Array, float64Array, int32Array } from './buffers.js';
import { balancedRanges } from './ranges.js';
import { createSimilarityKernel, type SimilarityState, type SimilarityTask } from './similarity-kernel.js';
import { inThreadExecutor, workerExecutor } from './worker-pool.js';

export interface SimilarItems {
  /** Neighbours per item: min(requested k, nItems - 1). */
  k: number;
  /** nItems × k: item i's neighbours, most similar first (ties to the lower index); never i itself. */
  neighbours: Int32Array;
  /** nItems × k: the cosine similarities, alongside (0 against a zero vector). */
  scores: Float32Array;
  /** Threads the pairs were computed on: 1 (the calling thread) when the catalogue is too small for workers to pay. */
  threads: number;
}

/** Worker threads pay for their start-up from about this many multiply-adds (pairs × factors). */
const MIN_WORK_FOR_THREADS = 1 << 26;

/** Rows scaled to unit length; zero rows stay zero. */
function unitRows(m: Float32Array, rows: number, f: number, shared: boolean): Float32Array {
  const out = float32Array(rows * f, shared);
  for (let r = 0; r < rows; r++) {
    let norm = 0;
    for (let c = r * f; c < (r + 1) * f; c++) norm += m[c] * m[c];
    if (norm === 0) continue;
    const scale = 1 / Math.sqrt(norm);
    for (let c = r * f; c < (r + 1) * f; c++) out[c] = m[c] * scale;
  }
  return out;
}

/** Per item, the best k of the candidates in all slots' heaps, sorted by score descending, then index. */
function mergeHeaps(state: SimilarityState): { neighbours: Int32Array; scores: Float32Array } {
  const { nItems, k, heapScores, heapItems } = state;
  const neighbours = new Int32Array(nItems * k);
  const scores = new Float32Array(nItems * k);
  const candidates = Array.from({ length: k * heapScores.length }, (_, c) => c);
  const slot = (c: number): number => Math.floor(c / k);
  const at = (row: number, c: number): number => row * k + (c % k);
  for (let row = 0; row < nItems; row++) {
    const score = (c: number): number => heapScores[slot(c)][at(row, c)];
    const item = (c: number): number => heapItems[slot(c)][at(row, c)];
    candidates.sort((a, b) => score(b) - score(a) || item(a) - item(b));
    for (let t = 0; t < k; t++) {
      neighbours[row * k + t] = item(candidates[t]);
      scores[row * k + t] = score(candidates[t]);
    }
  }
  return { neighbours, scores };
}

export async function similarItems(itemFactors: Float32Array, nItems: number, factors: number, k = 20, threads = 1): Promise<SimilarItems> {
  if (!Number.isSafeInteger(nItems) || nItems < 2) throw new Error(`similarItems needs at least 2 items (got ${nItems})`);
  if (!Number.isSafeInteger(factors) || factors < 1) throw new Error(`factors must be a positive integer (got ${factors})`);
  if (!Number.isSafeInteger(k) || k < 1) throw new Error(`k must be a positive integer (got ${k})`);
  if (!Number.isSafeInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer (got ${threads})`);
  if (itemFactors.length !== nItems * factors) throw new Error(`itemFactors has ${itemFactors.length} values, expected ${nItems} items × ${factors} factors`);
  const used = threads > 1 && (nItems * nItems * factors) / 2 >= MIN_WORK_FOR_THREADS ? threads : 1;
  const shared = used > 1;
  const kept = Math.min(k, nItems - 1);
  const state: SimilarityState = {
    factors,
    nItems,
    k: kept,
    unit: unitRows(itemFactors, nItems, factors, shared),
    heapScores: Array.from({ length: used }, () => float64Array(nItems * kept, shared).fill(-Infinity)),
    heapItems: Array.from({ length: used }, () => int32Array(nItems * kept, shared).fill(0x7fffffff)),
  };
  // Rows go to threads in quads (the kernel's unit), balanced by their number of pairs.
  const quads = Math.ceil(nItems / 4);
  const quadPairs = (q: number): number => {
    let pairs = 0;
    for (let a = 4 * q; a < Math.min(nItems, 4 * q + 4); a++) pairs += nItems - a - 1;
    return pairs;
  };
  const tasks: SimilarityTask[] = balancedRanges(quads, used, quadPairs).map(([start, end], slot) => ({
    slot,
    start: 4 * start,
    end: Math.min(nItems, 4 * end),
  }));
  const exec = shared ? workerExecutor(createSimilarityKernel, state, used) : inThreadExecutor(createSimilarityKernel, state);
  try {
    await exec.run(tasks);
  } finally {
    await exec.close();
  }
  return { k: kept, ...mergeHeaps(state), threads: used };
}
