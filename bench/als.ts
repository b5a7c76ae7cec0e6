// Embeddings kernel benchmark: implicit ALS on synthetic taste data at production scale (default
// 100,000 users × 20,000 items, ~3 million interactions, 64 factors, 10 iterations, 2 threads), then
// similar items for every item and recall@10 on held-out plays.
// Run: npm run bench -- als   (GOLD_BENCH_ALS_USERS, _ITEMS, _PLAYS, _FACTORS, _ITERATIONS, _THREADS)
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DEFAULT_ALS_PARAMS, trainAls } from '../src/features/embeddings/als.js';
import { evaluateRanking } from '../src/features/embeddings/evaluation.js';
import { similarItems } from '../src/features/embeddings/similarity.js';
import { generateTasteData } from '../src/features/embeddings/synthetic.js';
import { peakRss, report } from './util.js';

const env = (name: string, fallback: number): number => Number(process.env[`GOLD_BENCH_ALS_${name}`] ?? fallback);
const users = env('USERS', 100_000);
const items = env('ITEMS', 20_000);
const plays = env('PLAYS', 30);
const factors = env('FACTORS', 64);
const iterations = env('ITERATIONS', 10);
const threads = env('THREADS', 2);
const EVAL_USERS = 5000;

// resourceUsage().maxRSS is the authority; the sampled RSS shows when the peak happens (samples run
// while the main thread waits for the workers).
let sampledPeak = 0;
const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss)), 50);
const mb = (bytes: number): number => Math.round(bytes / 1024 ** 2);

// Other processes on the machine stretch wall times: the load average says how much.
const loadBefore = loadavg()[0];
let t = performance.now();
const data = generateTasteData({ users, items, clusters: Math.max(1, Math.floor(items / 100)), playsPerUser: plays, heldOutPerUser: 2, noise: 0.1, seed: 7 });
const generateSeconds = (performance.now() - t) / 1000;
const rssBeforeTraining = process.memoryUsage().rss;

const cpuBefore = process.cpuUsage();
const model = await trainAls(data.train, { ...DEFAULT_ALS_PARAMS, factors, iterations, tolerance: 0, threads });
// CPU time of all threads: a figure that holds when other processes compete for the cores.
const trainCpu = process.cpuUsage(cpuBefore);
const trainCpuSeconds = (trainCpu.user + trainCpu.system) / 1e6;
const rssAfterTraining = process.memoryUsage().rss;

t = performance.now();
const similar = await similarItems(model.itemFactors, items, factors, 20, threads);
const similarSeconds = (performance.now() - t) / 1000;

t = performance.now();
const quality = evaluateRanking({ ...model, nItems: items, train: data.train, heldOut: data.heldOut, k: 10, maxUsers: EVAL_USERS });
const evaluateSeconds = (performance.now() - t) / 1000;
clearInterval(sampler);

let ownCluster = 0;
for (let i = 0; i < items; i++)
  for (let t2 = 0; t2 < similar.k; t2++) if (data.itemCluster[similar.neighbours[i * similar.k + t2]] === data.itemCluster[i]) ownCluster++;

report('als', {
  users,
  items,
  interactions: data.train.userIdx.length,
  factors,
  iterations,
  'threads (train, similar items)': `${model.threads}, ${similar.threads}`,
  'generate data (s)': generateSeconds,
  'train total (s)': model.seconds,
  'train per iteration (s)': model.seconds / iterations,
  'train cpu, all threads (s)': trainCpuSeconds,
  'loss first': model.loss[0],
  'loss last': model.loss[model.loss.length - 1],
  'similar items k=20 (s)': similarSeconds,
  'neighbours in own cluster': ownCluster / (items * similar.k),
  [`evaluate ${quality.users} users (s)`]: evaluateSeconds,
  'recall@10': quality.recallAtK,
  'popularity recall@10': quality.popularityRecallAtK,
  'rss before training (MB)': mb(rssBeforeTraining),
  'rss after training (MB)': mb(rssAfterTraining),
  'peak rss sampled (MB)': mb(sampledPeak),
  'peak rss maxRSS (MB)': peakRss(),
  'load average (1 min) before, after': `${loadBefore.toFixed(1)}, ${loadavg()[0].toFixed(1)}`,
});
