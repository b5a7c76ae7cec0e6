// The feature server's Prometheus metrics, in a registry per server (so that tests can run several).
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { OnlineReadResult } from '../online/store.js';

/** Seconds: fine below 10 ms, where online reads live. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export function createServingMetrics(storeKind: string) {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const m = {
    registry,
    requests: new Counter({
      name: 'gold_serving_requests_total',
      help: 'HTTP requests, by route and status code',
      labelNames: ['route', 'status'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: 'gold_serving_request_duration_seconds',
      help: 'HTTP request latency, by route',
      labelNames: ['route'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    storeReadDuration: new Histogram({
      name: 'gold_serving_store_read_duration_seconds',
      help: 'Online store read latency (one call per request)',
      labelNames: ['store'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    entitiesPerRequest: new Histogram({
      name: 'gold_serving_entities_per_request',
      help: 'Entity rows per feature request',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    }),
    rowsServed: new Counter({
      name: 'gold_serving_rows_total',
      help: 'Entity rows read per view, by status (present, not_found, outside_ttl)',
      labelNames: ['view', 'status'] as const,
      registers,
    }),
  };
  return {
    ...m,
    observeStoreRead(seconds: number, rows: number, reads: readonly { view: { name: string } }[], results: readonly OnlineReadResult[][]): void {
      m.storeReadDuration.observe({ store: storeKind }, seconds);
      m.entitiesPerRequest.observe(rows);
      reads.forEach((r, i) => {
        const counts = { present: 0, not_found: 0, outside_ttl: 0 };
        for (const x of results[i]!) counts[x.status]++;
        for (const [status, n] of Object.entries(counts)) if (n > 0) m.rowsServed.inc({ view: r.view.name, status }, n);
      });
    },
  };
}

export type ServingMetrics = ReturnType<typeof createServingMetrics>;
