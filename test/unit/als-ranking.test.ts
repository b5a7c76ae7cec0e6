// The embeddings outputs around the ALS kernel: similar items, ranking evaluation, vector drift, and
// the synthetic data generator, on hand-checked cases and bad input.
import { describe, expect, it } from 'vitest';
import { vectorDrift } from '../../src/features/embeddings/drift.js';
import { evaluateRanking, type RankingEvaluationInput } from '../../src/features/embeddings/evaluation.js';
import { InteractionsError, validateInteractions } from '../../src/features/embeddings/interactions.js';
import { similarItems } from '../../src/features/embeddings/similarity.js';
import { generateTasteData } from '../../src/features/embeddings/synthetic.js';

describe('similarItems', () => {
  it('ranks by cosine, not by dot product, and never lists the item itself', async () => {
    // (1,0), (2,0), (0,1), (1,1)
    const { k, neighbours, scores } = await similarItems(Float32Array.from([1, 0, 2, 0, 0, 1, 1, 1]), 4, 2, 2);
    expect(k).toBe(2);
    expect(Array.from(neighbours)).toEqual([1, 3, 0, 3, 3, 0, 0, 1]);
    expect(Array.from(scores)).toEqual([
      1,
      Math.fround(Math.SQRT1_2),
      1,
      Math.fround(Math.SQRT1_2),
      Math.fround(Math.SQRT1_2),
      0,
      Math.fround(Math.SQRT1_2),
      Math.fround(Math.SQRT1_2),
    ]);
  });

  it('breaks ties to the lower index and scores a zero vector 0 against everything', async () => {
    // Items 0-4 identical, 5 orthogonal, 6 zero.
    const m = Float32Array.from([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0]);
    const { neighbours, scores } = await similarItems(m, 7, 2, 3);
    expect(Array.from(neighbours.subarray(6, 9))).toEqual([0, 1, 3]);
    expect(Array.from(scores.subarray(6, 9))).toEqual([1, 1, 1]);
    expect(Array.from(neighbours.subarray(15, 18))).toEqual([0, 1, 2]);
    expect(Array.from(scores.subarray(15, 18))).toEqual([0, 0, 0]);
    expect(Array.from(neighbours.subarray(18, 21))).toEqual([0, 1, 2]);
  });

  it('returns at most nItems - 1 neighbours', async () => {
    const result = await similarItems(Float32Array.from([1, 0, 0, 1, 1, 1]), 3, 2, 20);
    expect(result.k).toBe(2);
    expect(result.neighbours).toHaveLength(6);
  });

  it.each([
    [new Float32Array(2), 1, 2, 20, 1, /at least 2 items \(got 1\)/],
    [new Float32Array(5), 3, 2, 20, 1, /itemFactors has 5 values, expected 3 items × 2 factors/],
    [new Float32Array(6), 3, 0, 20, 1, /factors must be a positive integer \(got 0\)/],
    [new Float32Array(6), 3, 2, 0, 1, /k must be a positive integer \(got 0\)/],
    [new Float32Array(6), 3, 2, 20, 0, /threads must be a positive integer \(got 0\)/],
  ])('rejects bad input (case %#)', async (m, n, f, k, threads, message) => {
    await expect(similarItems(m, n, f, k, threads)).rejects.toThrow(message);
  });
});

describe('evaluateRanking', () => {
  // One factor: user 0 likes high item values, user 1 low ones.
  const input: RankingEvaluationInput = {
    userFactors: Float32Array.from([1, -1, 1]),
    itemFactors: Float32Array.from([4, 3, 2, 1]),
    factors: 1,
    nItems: 4,
    train: { nUsers: 3, nItems: 4, userIdx: Int32Array.from([0, 1]), itemIdx: Int32Array.from([0, 3]), confidence: Float32Array.from([1, 1]) },
    // User 1's play of item 3 is not new (seen in train); user 2 has no training interactions.
    heldOut: { userIdx: Int32Array.from([0, 0, 1, 1, 2]), itemIdx: Int32Array.from([1, 3, 0, 3, 1]) },
    k: 1,
  };

  it('scores the model and the popularity baseline on the same users', () => {
    // Model: user 0 gets item 1 (hit, 1 of 2 relevant), user 1 gets item 2 (miss).
    // Popularity (0, 3, then 1, 2 by index): user 0 gets 3 (hit), user 1 gets 0 (hit, 1 of 1).
    expect(evaluateRanking(input)).toEqual({ recallAtK: 0.25, precisionAtK: 0.5, popularityRecallAtK: 0.75, popularityPrecisionAtK: 1, users: 2 });
  });

  it('evaluates at most maxUsers, evenly spaced', () => {
    expect(evaluateRanking({ ...input, maxUsers: 1 })).toEqual({
      recallAtK: 0.5,
      precisionAtK: 1,
      popularityRecallAtK: 0.5,
      popularityPrecisionAtK: 1,
      users: 1,
    });
  });

  it('evaluates 5,000 users unless told otherwise', () => {
    const users = 6000;
    const many: RankingEvaluationInput = {
      ...input,
      userFactors: new Float32Array(users).fill(1),
      train: {
        nUsers: users,
        nItems: 4,
        userIdx: Int32Array.from({ length: users }, (_, u) => u),
        itemIdx: new Int32Array(users),
        confidence: new Float32Array(users).fill(1),
      },
      heldOut: { userIdx: Int32Array.from({ length: users }, (_, u) => u), itemIdx: new Int32Array(users).fill(1) },
    };
    expect(evaluateRanking(many)).toMatchObject({ users: 5000, recallAtK: 1 });
    expect(evaluateRanking({ ...many, maxUsers: Infinity })).toMatchObject({ users: 6000, recallAtK: 1 });
  });

  it('reports NaN when no user is eligible', () => {
    const result = evaluateRanking({ ...input, heldOut: { userIdx: Int32Array.from([1, 2]), itemIdx: Int32Array.from([3, 0]) } });
    expect(result.users).toBe(0);
    expect(result.recallAtK).toBeNaN();
    expect(result.popularityPrecisionAtK).toBeNaN();
  });

  it.each([
    [{ userFactors: new Float32Array(2) }, /userFactors has 2 values, expected 3 users × 1 factors/],
    [{ itemFactors: new Float32Array(5) }, /itemFactors has 5 values, expected 4 items × 1 factors/],
    [{ nItems: 5, itemFactors: new Float32Array(5) }, /nItems 5 differs from the training interactions' 4/],
    [{ heldOut: { userIdx: Int32Array.from([0]), itemIdx: Int32Array.from([4]) } }, /held-out entry 0: itemIdx 4 is out of range \[0, 4\)/],
    [{ heldOut: { userIdx: Int32Array.from([3]), itemIdx: Int32Array.from([0]) } }, /held-out entry 0: userIdx 3 is out of range \[0, 3\)/],
    [{ heldOut: { userIdx: Int32Array.from([0, 1]), itemIdx: Int32Array.from([0]) } }, /same length \(got 2, 1\)/],
    [{ k: 0 }, /k must be a positive integer/],
    [{ maxUsers: 0 }, /maxUsers must be a positive integer or Infinity \(got 0\)/],
    [{ factors: 0 }, /factors must be a positive integer/],
  ] as [Partial<RankingEvaluationInput>, RegExp][])('rejects bad input (case %#)', (change, message) => {
    expect(() => evaluateRanking({ ...input, ...change })).toThrow(InteractionsError);
    expect(() => evaluateRanking({ ...input, ...change })).toThrow(message);
  });
});

describe('vectorDrift', () => {
  it('is the mean cosine distance over the known rows', () => {
    // Rows: same direction (0), opposite (2), orthogonal (1), not known, zero vector (1).
    const prev = Float32Array.from([1, 0, 1, 1, 1, 0, 5, 5, 0, 0]);
    const next = Float32Array.from([3, 0, -1, -1, 0, 2, 1, 1, 1, 1]);
    const drift = vectorDrift(prev, next, Uint8Array.from([1, 1, 1, 0, 1]));
    expect(drift.rows).toBe(4);
    expect(drift.meanCosineDistance).toBeCloseTo((0 + 2 + 1 + 1) / 4, 12);
  });

  it('is NaN over no rows', () => {
    expect(vectorDrift(new Float32Array(4), new Float32Array(4), new Uint8Array(2))).toEqual({ meanCosineDistance: NaN, rows: 0 });
    expect(vectorDrift(new Float32Array(0), new Float32Array(0), new Uint8Array(0))).toEqual({ meanCosineDistance: NaN, rows: 0 });
  });

  it('rejects arrays that do not line up', () => {
    expect(() => vectorDrift(new Float32Array(4), new Float32Array(6), new Uint8Array(2))).toThrow(/prev has 4 values but next has 6/);
    expect(() => vectorDrift(new Float32Array(5), new Float32Array(5), new Uint8Array(2))).toThrow(/5 values do not split into 2 rows/);
    expect(() => vectorDrift(new Float32Array(2), new Float32Array(2), new Uint8Array(0))).toThrow(/2 values do not split into 0 rows/);
  });
});

describe('generateTasteData', () => {
  const options = { users: 300, items: 200, clusters: 5, playsPerUser: 8, heldOutPerUser: 2, noise: 0.1, seed: 3 };

  it('is deterministic for a seed and produces valid interactions', () => {
    const a = generateTasteData(options);
    expect(generateTasteData(options)).toEqual(a);
    expect(generateTasteData({ ...options, seed: 4 }).train.itemIdx).not.toEqual(a.train.itemIdx);
    expect(() => validateInteractions(a.train)).not.toThrow();
    expect(a.itemCluster).toHaveLength(200);
  });

  it("holds out only items new to the user, mostly from the user's own tastes", () => {
    const { train, heldOut, itemCluster } = generateTasteData(options);
    const played = new Set<string>();
    const clustersOf = Array.from({ length: options.users }, () => new Set<number>());
    for (let k = 0; k < train.userIdx.length; k++) {
      played.add(`${train.userIdx[k]}:${train.itemIdx[k]}`);
      clustersOf[train.userIdx[k]].add(itemCluster[train.itemIdx[k]]);
    }
    let inTaste = 0;
    for (let k = 0; k < heldOut.userIdx.length; k++) {
      expect(played.has(`${heldOut.userIdx[k]}:${heldOut.itemIdx[k]}`)).toBe(false);
      if (clustersOf[heldOut.userIdx[k]].has(itemCluster[heldOut.itemIdx[k]])) inTaste++;
    }
    expect(heldOut.userIdx.length).toBe(options.users * options.heldOutPerUser);
    expect(inTaste / heldOut.userIdx.length).toBeGreaterThan(0.85);
  });

  it('rejects options it cannot satisfy', () => {
    expect(() => generateTasteData({ ...options, clusters: 0 })).toThrow(/need 1 <= clusters <= items/);
    expect(() => generateTasteData({ ...options, playsPerUser: 20 })).toThrow(/must fit in one cluster/);
  });
});
