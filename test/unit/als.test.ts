// trainAls: determinism, what it learns from planted taste structure, warm starts, and bad input.
import { describe, expect, it } from 'vitest';
import { type AlsParams, AlsParamsError, DEFAULT_ALS_PARAMS, trainAls } from '../../src/features/embeddings/als.js';
import { vectorDrift } from '../../src/features/embeddings/drift.js';
import { evaluateRanking } from '../../src/features/embeddings/evaluation.js';
import { type Interactions, InteractionsError } from '../../src/features/embeddings/interactions.js';
import { similarItems } from '../../src/features/embeddings/similarity.js';
import { generateTasteData } from '../../src/features/embeddings/synthetic.js';

const USERS = 2000;
const ITEMS = 600;
const taste = generateTasteData({ users: USERS, items: ITEMS, clusters: 20, playsPerUser: 10, heldOutPerUser: 3, noise: 0.1, seed: 5 });
const PARAMS: AlsParams = { ...DEFAULT_ALS_PARAMS, factors: 16, iterations: 12, threads: 1 };

/** The next day's window: today's interactions plus the held-out plays (strength 1). */
const nextDay: Interactions = {
  nUsers: USERS,
  nItems: ITEMS,
  userIdx: Int32Array.from([...taste.train.userIdx, ...taste.heldOut.userIdx]),
  itemIdx: Int32Array.from([...taste.train.itemIdx, ...taste.heldOut.itemIdx]),
  confidence: Float32Array.from([...taste.train.confidence, ...new Array<number>(taste.heldOut.userIdx.length).fill(1)]),
};

describe('trainAls', () => {
  it('is deterministic for a seed, and the seed matters', async () => {
    const a = await trainAls(taste.train, PARAMS);
    const b = await trainAls(taste.train, PARAMS);
    const c = await trainAls(taste.train, { ...PARAMS, seed: 43 });
    expect(b.userFactors).toEqual(a.userFactors);
    expect(b.itemFactors).toEqual(a.itemFactors);
    expect(b.loss).toEqual(a.loss);
    expect(c.itemFactors).not.toEqual(a.itemFactors);
    expect(a.factors).toBe(16);
    expect(a.userFactors).toHaveLength(USERS * 16);
    expect(a.itemFactors).toHaveLength(ITEMS * 16);
    expect(a.seconds).toBeGreaterThan(0);
  });

  it('runs small problems in the calling thread whatever threads says', async () => {
    const model = await trainAls(taste.train, { ...PARAMS, threads: 2, iterations: 1 });
    expect(model.threads).toBe(1);
  });

  it('never increases the loss from one iteration to the next', async () => {
    const { loss } = await trainAls(taste.train, { ...PARAMS, tolerance: 0 });
    expect(loss).toHaveLength(PARAMS.iterations);
    for (let it = 1; it < loss.length; it++) expect(loss[it]).toBeLessThanOrEqual(loss[it - 1] * (1 + 1e-9));
    expect(loss[loss.length - 1]).toBeLessThan(loss[0] / 2);
  });

  it('learns the planted tastes: recall@10 at least twice popularity, neighbours mostly from the own cluster', async () => {
    const model = await trainAls(taste.train, PARAMS);
    const quality = evaluateRanking({ ...model, nItems: ITEMS, train: taste.train, heldOut: taste.heldOut, k: 10 });
    expect(quality.users).toBe(USERS);
    expect(quality.recallAtK).toBeGreaterThanOrEqual(2 * quality.popularityRecallAtK);
    expect(quality.precisionAtK).toBeGreaterThanOrEqual(2 * quality.popularityPrecisionAtK);
    expect(quality.popularityRecallAtK).toBeGreaterThan(0);

    const similar = await similarItems(model.itemFactors, ITEMS, model.factors, 20);
    let ownCluster = 0;
    for (let i = 0; i < ITEMS; i++) {
      for (let t = 0; t < similar.k; t++) if (taste.itemCluster[similar.neighbours[i * similar.k + t]] === taste.itemCluster[i]) ownCluster++;
    }
    expect(ownCluster / (ITEMS * similar.k)).toBeGreaterThan(0.6);
  });
});

describe('trainAls with a warm start', () => {
  // Users 1900.. are new on the next day: their vectors start random.
  const userKnown = Uint8Array.from({ length: USERS }, (_, u) => (u < 1900 ? 1 : 0));
  const iterationsToReach = (loss: number[], target: number): number => loss.findIndex((l) => l <= target) + 1 || Infinity;

  it('reaches the cold-start loss in fewer iterations, and vectors barely move from the day before', async () => {
    const today = await trainAls(taste.train, PARAMS);
    const cold = await trainAls(nextDay, PARAMS);
    const warm = await trainAls(nextDay, PARAMS, { userFactors: today.userFactors, itemFactors: today.itemFactors, userKnown });
    const target = cold.loss[cold.loss.length - 1] * 1.01;
    expect(iterationsToReach(warm.loss, target)).toBeLessThan(iterationsToReach(cold.loss, target));
    expect(iterationsToReach(warm.loss, target)).toBeLessThanOrEqual(3);
    expect(warm.loss[warm.loss.length - 1]).toBeLessThanOrEqual(target);

    const otherSeed = await trainAls(nextDay, { ...PARAMS, seed: 7 });
    const allItems = new Uint8Array(ITEMS).fill(1);
    const itemDrift = vectorDrift(today.itemFactors, warm.itemFactors, allItems);
    const userDrift = vectorDrift(today.userFactors, warm.userFactors, userKnown);
    expect(itemDrift.rows).toBe(ITEMS);
    expect(userDrift.rows).toBe(1900);
    expect(itemDrift.meanCosineDistance).toBeLessThan(0.1);
    expect(userDrift.meanCosineDistance).toBeLessThan(0.1);
    // Without the warm start the basis is arbitrary: a cold start from another seed lands far away.
    expect(vectorDrift(today.itemFactors, otherSeed.itemFactors, allItems).meanCosineDistance).toBeGreaterThan(5 * itemDrift.meanCosineDistance);
  });

  it('with the default tolerance, stops after fewer sweeps than a cold start, at as low a loss', async () => {
    const p: AlsParams = { ...PARAMS, iterations: 15, tolerance: DEFAULT_ALS_PARAMS.tolerance };
    const today = await trainAls(taste.train, p);
    const cold = await trainAls(nextDay, p);
    const warm = await trainAls(nextDay, p, { userFactors: today.userFactors, itemFactors: today.itemFactors, userKnown });
    expect(warm.loss.length).toBeLessThan(cold.loss.length);
    expect(warm.loss.at(-1)!).toBeLessThanOrEqual(cold.loss.at(-1)! * 1.01);
    // Each sweep but the last gained at least the tolerance.
    for (let i = 1; i < warm.loss.length - 1; i++) expect(warm.loss[i - 1]! - warm.loss[i]!).toBeGreaterThanOrEqual(p.tolerance * warm.loss[i - 1]!);
  });

  it('initialises rows not flagged known exactly as a cold start does', async () => {
    const today = await trainAls(taste.train, { ...PARAMS, iterations: 2 });
    const cold = await trainAls(nextDay, { ...PARAMS, iterations: 2 });
    const none = await trainAls(
      nextDay,
      { ...PARAMS, iterations: 2 },
      {
        userFactors: today.userFactors,
        userKnown: new Uint8Array(USERS),
        itemFactors: today.itemFactors,
        itemKnown: new Uint8Array(ITEMS),
      },
    );
    expect(none.userFactors).toEqual(cold.userFactors);
    expect(none.itemFactors).toEqual(cold.itemFactors);
    // Without a mask every row is taken.
    const all = await trainAls(nextDay, { ...PARAMS, iterations: 2 }, { itemFactors: today.itemFactors, itemKnown: new Uint8Array(ITEMS).fill(1) });
    const unmasked = await trainAls(nextDay, { ...PARAMS, iterations: 2 }, { itemFactors: today.itemFactors });
    expect(unmasked.itemFactors).toEqual(all.itemFactors);
    expect(unmasked.itemFactors).not.toEqual(cold.itemFactors);
  });
});

describe('trainAls rejects bad input with a clear error', () => {
  const base: Interactions = {
    nUsers: 3,
    nItems: 4,
    userIdx: Int32Array.from([0, 1, 2, 2]),
    itemIdx: Int32Array.from([1, 0, 3, 2]),
    confidence: Float32Array.from([1, 2, 0.5, 3]),
  };
  const small: AlsParams = { ...PARAMS, factors: 2, iterations: 1 };
  const withEntry = (k: number, field: 'userIdx' | 'itemIdx' | 'confidence', value: number): Interactions => {
    const copy = { ...base, [field]: base[field].slice() };
    copy[field][k] = value;
    return copy;
  };

  it('accepts the valid base case', async () => {
    await expect(trainAls(base, small)).resolves.toMatchObject({ factors: 2 });
  });

  it.each([
    ['a user index out of range', withEntry(2, 'userIdx', 3), /entry 2: userIdx 3 is out of range \[0, 3\)/],
    ['a negative user index', withEntry(0, 'userIdx', -1), /entry 0: userIdx -1 is out of range/],
    ['an item index out of range', withEntry(1, 'itemIdx', 4), /entry 1: itemIdx 4 is out of range \[0, 4\)/],
    ['a negative confidence', withEntry(3, 'confidence', -1), /entry 3: confidence -1 is not a finite number >= 0/],
    ['a NaN confidence', withEntry(0, 'confidence', NaN), /entry 0: confidence NaN/],
    ['an infinite confidence', withEntry(0, 'confidence', Infinity), /entry 0: confidence Infinity/],
    [
      'empty data',
      { ...base, userIdx: new Int32Array(0), itemIdx: new Int32Array(0), confidence: new Float32Array(0) },
      /no interactions with confidence > 0 \(0 entries\)/,
    ],
    ['only zero confidences', { ...base, confidence: new Float32Array(4) }, /no interactions with confidence > 0 \(4 entries\)/],
    ['no users', { ...base, nUsers: 0 }, /nUsers must be a positive integer \(got 0\)/],
    ['a fractional item count', { ...base, nItems: 4.5 }, /nItems must be a positive integer \(got 4.5\)/],
    ['arrays of different lengths', { ...base, confidence: new Float32Array(3) }, /same length \(got 4, 4, 3\)/],
    ['a duplicate (user, item)', withEntry(3, 'itemIdx', 3), /user 2 has item 3 more than once/],
  ])('%s', async (_, data, message) => {
    await expect(trainAls(data, small)).rejects.toThrow(InteractionsError);
    await expect(trainAls(data, small)).rejects.toThrow(message);
  });

  it.each([
    ['factors', 0, /factors must be an integer >= 1 \(got 0\)/],
    ['factors', 2.5, /factors must be an integer >= 1/],
    ['iterations', 0, /iterations must be an integer >= 1/],
    ['cgSteps', -1, /cgSteps must be an integer >= 1/],
    ['threads', 0, /threads must be an integer >= 1/],
    ['regularization', -0.1, /regularization must be a finite number >= 0/],
    ['alpha', NaN, /alpha must be a finite number >= 0/],
    ['seed', 1.5, /seed must be an integer/],
    ['tolerance', -0.01, /tolerance must be a number in \[0, 1\) \(got -0.01\)/],
    ['tolerance', 1, /tolerance must be a number in \[0, 1\)/],
  ] as const)('parameter %s = %s', async (name, value, message) => {
    await expect(trainAls(base, { ...small, [name]: value })).rejects.toThrow(AlsParamsError);
    await expect(trainAls(base, { ...small, [name]: value })).rejects.toThrow(message);
  });

  it.each([
    ['user vectors of the wrong size', { userFactors: new Float32Array(5) }, /warmStart.userFactors has 5 values, expected 3 users × 2 factors = 6/],
    ['item vectors of the wrong size', { itemFactors: new Float32Array(9) }, /warmStart.itemFactors has 9 values, expected 4 items × 2 factors = 8/],
    ['a known mask of the wrong size', { itemFactors: new Float32Array(8), itemKnown: new Uint8Array(3) }, /warmStart.itemKnown has 3 flags, expected 4/],
    ['a known mask without vectors', { userKnown: new Uint8Array(3) }, /warmStart.userKnown is given without warmStart.userFactors/],
    ['a non-finite value in a known row', { userFactors: Float32Array.from([0, 0, 0, NaN, 0, 0]) }, /warmStart.userFactors row 1 has a non-finite value/],
  ])('a warm start with %s', async (_, warm, message) => {
    await expect(trainAls(base, small, warm)).rejects.toThrow(AlsParamsError);
    await expect(trainAls(base, small, warm)).rejects.toThrow(message);
  });

  it('stays finite without regularization on systems that are only semi-definite', async () => {
    // Four items cannot span 8 factors: without lambda the normal equations are singular.
    const model = await trainAls(base, { ...small, factors: 8, regularization: 0, cgSteps: 8, iterations: 3 });
    expect(model.userFactors.every(Number.isFinite)).toBe(true);
    expect(model.itemFactors.every(Number.isFinite)).toBe(true);
    expect(model.loss.every(Number.isFinite)).toBe(true);
  });

  it('ignores non-finite values in rows flagged unknown', async () => {
    const warm = { userFactors: Float32Array.from([0, 0, 0, NaN, 0, 0]), userKnown: Uint8Array.from([1, 0, 1]) };
    const model = await trainAls(base, small, warm);
    expect(model.userFactors.every(Number.isFinite)).toBe(true);
  });
});

describe('DEFAULT_ALS_PARAMS', () => {
  it('are valid and frozen', async () => {
    expect(Object.isFrozen(DEFAULT_ALS_PARAMS)).toBe(true);
    const model = await trainAls(taste.train, { ...DEFAULT_ALS_PARAMS, iterations: 1 });
    expect(model.factors).toBe(DEFAULT_ALS_PARAMS.factors);
  });
});
