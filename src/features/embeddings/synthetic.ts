// Synthetic interactions with planted taste structure, to test that the embeddings learn it: items
// belong to clusters with Zipf popularity inside each, and each user plays mostly from 1 or 2
// favourite clusters. Next-day plays come from the same tastes and are new to the user.
import type { HeldOut, Interactions } from './interactions.js';
import { mulberry32 } from './prng.js';

export interface TasteDataOptions {
  users: number;
  items: number;
  clusters: number;
  /** Mean number of distinct items a user plays in the training window. */
  playsPerUser: number;
  /** Next-day plays per user, all of items the user did not play in the window. */
  heldOutPerUser: number;
  /** Share of plays drawn from the whole catalogue by popularity instead of from the user's clusters. */
  noise: number;
  seed: number;
}

export interface TasteData {
  train: Interactions;
  heldOut: HeldOut;
  /** The planted cluster of each item. */
  itemCluster: Int32Array;
}

/** Draws an index with probability proportional to its weight, by bisection of the cumulative weights. */
function sampler(weights: number[], random: () => number): () => number {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((w, k) => (cumulative[k] = total += w));
  return () => {
    const target = random() * total;
    let lo = 0;
    let hi = weights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

export function generateTasteData(options: TasteDataOptions): TasteData {
  const { users, items, clusters, playsPerUser, heldOutPerUser, noise } = options;
  if (clusters < 1 || items < clusters) throw new Error(`need 1 <= clusters <= items (got ${clusters} clusters, ${items} items)`);
  // Up to 2 × playsPerUser training plays and the held-out ones must fit in a single favourite cluster.
  if (2 * playsPerUser + heldOutPerUser > items / clusters) throw new Error('2 × playsPerUser + heldOutPerUser must fit in one cluster');
  const random = mulberry32(options.seed);
  // Items interleave across clusters, so index order says nothing about the clusters.
  const itemCluster = Int32Array.from({ length: items }, (_, i) => i % clusters);
  const members: number[][] = Array.from({ length: clusters }, () => []);
  for (let i = 0; i < items; i++) members[itemCluster[i]].push(i);
  const zipf = (rank: number): number => 1 / (rank + 1);
  const inCluster = members.map((m) => {
    const draw = sampler(
      m.map((_, rank) => zipf(rank)),
      random,
    );
    return () => m[draw()];
  });
  const anyItem = sampler(
    Array.from({ length: items }, (_, i) => zipf(Math.floor(i / clusters))),
    random,
  );

  const trainUsers: number[] = [];
  const trainItems: number[] = [];
  const strengths: number[] = [];
  const heldUsers: number[] = [];
  const heldItems: number[] = [];
  for (let u = 0; u < users; u++) {
    const favourites = [Math.floor(random() * clusters)];
    if (random() < 0.5) favourites.push(Math.floor(random() * clusters));
    const play = (): number => (random() < noise ? anyItem() : inCluster[favourites[Math.floor(random() * favourites.length)]]());
    const played = new Set<number>();
    const target = 1 + Math.floor(random() * (2 * playsPerUser - 1));
    while (played.size < target) played.add(play());
    for (const i of played) {
      trainUsers.push(u);
      trainItems.push(i);
      // Play counts: geometric; plays within the user's tastes repeat more often, as liked videos do.
      const meanRepeats = favourites.includes(itemCluster[i]) ? 1.5 : 0.3;
      strengths.push(1 + Math.floor(-Math.log(1 - random()) * meanRepeats));
    }
    const next = new Set<number>();
    for (let tries = 0; next.size < heldOutPerUser && tries < 100 * heldOutPerUser; tries++) {
      const i = play();
      if (!played.has(i)) next.add(i);
    }
    for (const i of next) {
      heldUsers.push(u);
      heldItems.push(i);
    }
  }
  return {
    train: {
      nUsers: users,
      nItems: items,
      userIdx: Int32Array.from(trainUsers),
      itemIdx: Int32Array.from(trainItems),
      confidence: Float32Array.from(strengths),
    },
    heldOut: { userIdx: Int32Array.from(heldUsers), itemIdx: Int32Array.from(heldItems) },
    itemCluster,
  };
}
