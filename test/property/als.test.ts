// The embeddings kernel against dense references on random shapes: ALS row solves against a direct
// (Cholesky) solve of the normal equations, the loss against its definition over all cells, similar
// items and ranking evaluation against brute force, and bit-identical factors for any thread count.
import { describe, expect, it } from 'vitest';
import { type AlsParams, trainAls } from '../../src/features/embeddings/als.js';
import { createAlsKernel } from '../../src/features/embeddings/als-kernel.js';
import { evaluateRanking } from '../../src/features/embeddings/evaluation.js';
import { type HeldOut, type Interactions, toCsr, transposeCsr } from '../../src/features/embeddings/interactions.js';
import { mulberry32 } from '../../src/features/embeddings/prng.js';
import { similarItems } from '../../src/features/embeddings/similarity.js';

const SEEDS = Array.from({ length: 12 }, (_, k) => k + 1);

/** Random interactions: each (user, item) present with probability `density`; some with r = 0 (must be ignored). */
function randomInteractions(random: () => number, nUsers: number, nItems: number, density: number): Interactions {
  const users: number[] = [];
  const items: number[] = [];
  const conf: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    for (let i = 0; i < nItems; i++) {
      if (random() >= density) continue;
      users.push(u);
      items.push(i);
      conf.push(random() < 0.1 ? 0 : Math.round(random() * 40) / 8 + 0.125);
    }
  }
  // Shuffle: the input order must not matter.
  for (let k = users.length - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    [users[k], users[j]] = [users[j], users[k]];
    [items[k], items[j]] = [items[j], items[k]];
    [conf[k], conf[j]] = [conf[j], conf[k]];
  }
  if (!conf.some((c) => c > 0)) return randomInteractions(random, nUsers, nItems, density);
  return { nUsers, nItems, userIdx: Int32Array.from(users), itemIdx: Int32Array.from(items), confidence: Float32Array.from(conf) };
}

function randomMatrix(random: () => number, rows: number, cols: number): Float32Array {
  return Float32Array.from({ length: rows * cols }, () => random() - 0.5);
}

/** Solves A x = b for a symmetric positive definite A (n × n, row-major) by Cholesky. */
function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = i === j ? Math.sqrt(s) : s / l[j * n + j];
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
    y[i] = s / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
  return x;
}

/**
 * The exact ALS update of each row of one side given the other side's vectors:
 * (O^T O + lambda I + sum_j alpha r_j o_j o_j^T) x = sum_j (1 + alpha r_j) o_j over the row's entries j.
 */
function denseRowSolves(entries: [number, number][][], other: Float32Array, f: number, alpha: number, lambda: number): Float64Array[] {
  const gram = new Float64Array(f * f);
  for (let o = 0; o < other.length / f; o++) for (let a = 0; a < f; a++) for (let b = 0; b < f; b++) gram[a * f + b] += other[o * f + a] * other[o * f + b];
  return entries.map((row) => {
    const a = Float64Array.from(gram);
    for (let k = 0; k < f; k++) a[k * f + k] += lambda;
    const b = new Float64Array(f);
    for (const [j, r] of row) {
      for (let p = 0; p < f; p++) {
        b[p] += (1 + alpha * r) * other[j * f + p];
        for (let q = 0; q < f; q++) a[p * f + q] += alpha * r * other[j * f + p] * other[j * f + q];
      }
    }
    return choleskySolve(a, b, f);
  });
}

/** Per row of one side, its (other index, r) entries with r > 0. */
function entriesBy(data: Interactions, side: 'user' | 'item'): [number, number][][] {
  const rows: [number, number][][] = Array.from({ length: side === 'user' ? data.nUsers : data.nItems }, () => []);
  for (let k = 0; k < data.userIdx.length; k++) {
    if (data.confidence[k] === 0) continue;
    if (side === 'user') rows[data.userIdx[k]].push([data.itemIdx[k], data.confidence[k]]);
    else rows[data.itemIdx[k]].push([data.userIdx[k], data.confidence[k]]);
  }
  return rows;
}

function expectRowsClose(actual: Float32Array, expected: Float64Array[], f: number): void {
  let scale = 1;
  for (const row of expected) for (const v of row) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  expected.forEach((row, r) => row.forEach((v, k) => (worst = Math.max(worst, Math.abs(actual[r * f + k] - v)))));
  expect(worst / scale).toBeLessThan(1e-6);
}

function randomShape(seed: number) {
  const random = mulberry32(seed);
  const nUsers = 1 + Math.floor(random() * 40);
  const nItems = 1 + Math.floor(random() * 30);
  const factors = 1 + Math.floor(random() * 13);
  const data = randomInteractions(random, nUsers, nItems, 0.05 + random() * 0.5);
  return { random, data, factors, alpha: random() * 30, lambda: 0.05 + random() };
}

describe('ALS row solves equal the dense solve of the normal equations', () => {
  it.each(SEEDS)('one user half-step with cgSteps = factors (seed %i)', (seed) => {
    const { random, data, factors: f, alpha, lambda } = randomShape(seed);
    const userFactors = randomMatrix(random, data.nUsers, f);
    const itemFactors = randomMatrix(random, data.nItems, f);
    const expected = denseRowSolves(entriesBy(data, 'user'), itemFactors, f, alpha, lambda);
    const users = toCsr(data.nUsers, data.userIdx, data.itemIdx, data.confidence, alpha, false);
    const gram = new Float64Array(f * f);
    for (let i = 0; i < data.nItems; i++)
      for (let a = 0; a < f; a++) for (let b = 0; b < f; b++) gram[a * f + b] += itemFactors[i * f + a] * itemFactors[i * f + b];
    for (let k = 0; k < f; k++) gram[k * f + k] += lambda;
    const kernel = createAlsKernel({
      factors: f,
      cgSteps: f,
      userFactors,
      itemFactors,
      users,
      items: transposeCsr(users, data.nItems, false),
      gram,
      itemLoss: new Float64Array(data.nItems),
    });
    kernel.run({ op: 'solveUsers', start: 0, end: data.nUsers });
    expectRowsClose(userFactors, expected, f);
  });

  it.each(SEEDS)('trainAls, one iteration: items solved against the final users, loss as defined over all cells (seed %i)', async (seed) => {
    const { data, factors: f, alpha, lambda } = randomShape(seed);
    // The item systems after one user sweep from tiny random item vectors are ill-conditioned enough
    // that CG in floating point needs more than `factors` steps to reach 1e-6.
    const model = await trainAls(data, { factors: f, regularization: lambda, alpha, iterations: 1, tolerance: 0, cgSteps: 2 * f, seed, threads: 1 });
    expectRowsClose(model.itemFactors, denseRowSolves(entriesBy(data, 'item'), model.userFactors, f, alpha, lambda), f);

    const r = new Float64Array(data.nUsers * data.nItems);
    for (let k = 0; k < data.userIdx.length; k++) r[data.userIdx[k] * data.nItems + data.itemIdx[k]] = data.confidence[k];
    let weighted = 0;
    let totalConfidence = 0;
    for (let u = 0; u < data.nUsers; u++) {
      for (let i = 0; i < data.nItems; i++) {
        let s = 0;
        for (let k = 0; k < f; k++) s += model.userFactors[u * f + k] * model.itemFactors[i * f + k];
        const c = 1 + alpha * r[u * data.nItems + i];
        const p = r[u * data.nItems + i] > 0 ? 1 : 0;
        weighted += c * (p - s) ** 2;
        totalConfidence += c;
      }
    }
    let norms = 0;
    for (const v of model.userFactors) norms += v * v;
    for (const v of model.itemFactors) norms += v * v;
    expect(model.loss).toHaveLength(1);
    // To float32 rounding of the weights alpha * r.
    const expected = (weighted + lambda * norms) / totalConfidence;
    expect(Math.abs(model.loss[0] - expected) / expected).toBeLessThan(1e-7);
  });
});

describe('ALS is bit-identical for any thread count', () => {
  it.each([101, 202])('threads 1, 2 and 3 (seed %i)', async (seed) => {
    const random = mulberry32(seed);
    // Above the size where worker threads start (nnz × factors >= 2^20), with uneven row lengths.
    const data = randomInteractions(random, 2500 + Math.floor(random() * 500), 400 + Math.floor(random() * 100), 0.05 + random() * 0.02);
    const params: AlsParams = {
      factors: 35 + Math.floor(random() * 10),
      regularization: 0.1,
      alpha: 10,
      iterations: 3,
      tolerance: 0,
      cgSteps: 3,
      seed,
      threads: 1,
    };
    const models = [];
    for (const threads of [1, 2, 3]) models.push(await trainAls(data, { ...params, threads }));
    expect(models.map((m) => m.threads)).toEqual([1, 2, 3]);
    for (const m of models.slice(1)) {
      expect(m.userFactors).toEqual(models[0].userFactors);
      expect(m.itemFactors).toEqual(models[0].itemFactors);
      expect(m.loss).toEqual(models[0].loss);
    }
  });
});

function cosine(m: Float32Array, f: number, a: number, b: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < f; k++) {
    dot += m[a * f + k] * m[b * f + k];
    na += m[a * f + k] ** 2;
    nb += m[b * f + k] ** 2;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

describe('similarItems equals brute force', () => {
  it.each(SEEDS)('seed %i', async (seed) => {
    const random = mulberry32(seed);
    // Up to 700 items: several column blocks of 256 and item counts that are not multiples of 4.
    const n = 2 + Math.floor(random() * 700);
    const f = 1 + Math.floor(random() * 12);
    const k = 1 + Math.floor(random() * 25);
    const m = randomMatrix(random, n, f);
    const { k: kk, neighbours, scores } = await similarItems(m, n, f, k);
    expect(kk).toBe(Math.min(k, n - 1));
    for (let i = 0; i < n; i++) {
      const reference = Array.from({ length: n }, (_, j) => j)
        .filter((j) => j !== i)
        .map((j) => cosine(m, f, i, j))
        .sort((a, b) => b - a);
      const got = Array.from(neighbours.subarray(i * kk, (i + 1) * kk));
      expect(new Set(got).size).toBe(kk);
      expect(got).not.toContain(i);
      for (let t = 0; t < kk; t++) {
        // Rank t holds a true t-th best score, and its score is that neighbour's cosine (up to float32 rounding).
        expect(Math.abs(scores[i * kk + t] - reference[t])).toBeLessThan(1e-5);
        expect(Math.abs(scores[i * kk + t] - cosine(m, f, i, got[t]))).toBeLessThan(1e-5);
      }
    }
  });
});

describe('similarItems is bit-identical for any thread count', () => {
  it('threads 1, 2 and 3', async () => {
    const random = mulberry32(77);
    // Large enough for worker threads (n² × factors / 2 >= 2^26); a few duplicated vectors make exact ties.
    const n = 2103;
    const f = 32;
    const m = randomMatrix(random, n, f);
    for (const [from, to] of [
      [5, 900],
      [5, 2102],
      [1500, 17],
    ])
      m.copyWithin(to * f, from * f, (from + 1) * f);
    const results = [];
    for (const threads of [1, 2, 3]) results.push(await similarItems(m, n, f, 20, threads));
    expect(results.map((r) => r.threads)).toEqual([1, 2, 3]);
    for (const r of results.slice(1)) {
      expect(r.neighbours).toEqual(results[0].neighbours);
      expect(r.scores).toEqual(results[0].scores);
    }
    expect(Array.from(results[0].neighbours.subarray(5 * 20, 5 * 20 + 2))).toEqual([900, 2102]);
    expect(results[0].neighbours[900 * 20]).toBe(5);
  });
});

describe('evaluateRanking equals a brute-force reference', () => {
  /** Dot products of small integers are exact in any summation order, so ties happen and must break to the lower index. */
  function integerMatrix(random: () => number, rows: number, cols: number): Float32Array {
    return Float32Array.from({ length: rows * cols }, () => Math.floor(random() * 5) - 2);
  }

  it.each(SEEDS)('seed %i', (seed) => {
    const random = mulberry32(seed);
    const nUsers = 1 + Math.floor(random() * 30);
    const nItems = 2 + Math.floor(random() * 40);
    const f = 1 + Math.floor(random() * 6);
    const k = 1 + Math.floor(random() * 12);
    const train = randomInteractions(random, nUsers, nItems, 0.05 + random() * 0.3);
    const heldUsers: number[] = [];
    const heldItems: number[] = [];
    for (let j = Math.floor(random() * 3 * nUsers); j > 0; j--) {
      heldUsers.push(Math.floor(random() * nUsers));
      heldItems.push(Math.floor(random() * nItems));
    }
    const heldOut: HeldOut = { userIdx: Int32Array.from(heldUsers), itemIdx: Int32Array.from(heldItems) };
    const userFactors = integerMatrix(random, nUsers, f);
    const itemFactors = integerMatrix(random, nItems, f);

    const seen = Array.from({ length: nUsers }, () => new Set<number>());
    const popularity = new Array(nItems).fill(0);
    for (let j = 0; j < train.userIdx.length; j++) {
      if (train.confidence[j] === 0) continue;
      seen[train.userIdx[j]].add(train.itemIdx[j]);
      popularity[train.itemIdx[j]]++;
    }
    const relevant = Array.from({ length: nUsers }, () => new Set<number>());
    heldUsers.forEach((u, j) => !seen[u].has(heldItems[j]) && relevant[u].add(heldItems[j]));
    const byPopularity = Array.from({ length: nItems }, (_, i) => i).sort((a, b) => popularity[b] - popularity[a] || a - b);
    const expected = { recallAtK: 0, precisionAtK: 0, popularityRecallAtK: 0, popularityPrecisionAtK: 0, users: 0 };
    for (let u = 0; u < nUsers; u++) {
      if (seen[u].size === 0 || relevant[u].size === 0) continue;
      const score = (i: number): number => {
        let s = 0;
        for (let c = 0; c < f; c++) s += userFactors[u * f + c] * itemFactors[i * f + c];
        return s;
      };
      const unseen = Array.from({ length: nItems }, (_, i) => i).filter((i) => !seen[u].has(i));
      const modelTop = [...unseen].sort((a, b) => score(b) - score(a) || a - b).slice(0, k);
      const popularTop = byPopularity.filter((i) => !seen[u].has(i)).slice(0, k);
      const hits = modelTop.filter((i) => relevant[u].has(i)).length;
      const popHits = popularTop.filter((i) => relevant[u].has(i)).length;
      expected.recallAtK += hits / relevant[u].size;
      expected.precisionAtK += hits / k;
      expected.popularityRecallAtK += popHits / relevant[u].size;
      expected.popularityPrecisionAtK += popHits / k;
      expected.users++;
    }
    const actual = evaluateRanking({ userFactors, itemFactors, factors: f, nItems, train, heldOut, k });
    expect(actual.users).toBe(expected.users);
    for (const key of ['recallAtK', 'precisionAtK', 'popularityRecallAtK', 'popularityPrecisionAtK'] as const) {
      if (expected.users === 0) expect(actual[key]).toBeNaN();
      else expect(actual[key]).toBeCloseTo(expected[key] / expected.users, 12);
    }
  });
});
