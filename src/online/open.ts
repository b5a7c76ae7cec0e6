// Opening the online store a setting names ('embedded' or a Redis URL), its operations counted and timed.
import { join } from 'node:path';
import { observeStoreOperation } from '../monitoring/metrics.js';
import { EmbeddedOnlineStore } from './embedded-store.js';
import { RedisOnlineStore } from './redis-store.js';
import type { OnlineStore } from './store.js';

export function openOnlineStore(setting: string, home: string): OnlineStore {
  return withMetrics(setting === 'embedded' ? new EmbeddedOnlineStore(join(home, 'online')) : new RedisOnlineStore(setting));
}

/** The store with each data operation counted and timed (gold_store_operations_total, gold_store_operation_duration_seconds). */
export function withMetrics(store: OnlineStore): OnlineStore {
  const timed = async <T>(op: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      const r = await fn();
      observeStoreOperation(store.kind, op, (performance.now() - t) / 1000, true);
      return r;
    } catch (e) {
      observeStoreOperation(store.kind, op, (performance.now() - t) / 1000, false);
      throw e;
    }
  };
  return {
    kind: store.kind,
    location: store.location,
    ping: () => store.ping(),
    close: () => store.close(),
    writeBatch: (view, rows, now) => timed('write', () => store.writeBatch(view, rows, now)),
    writeRecords: (view, rows, now) => timed('write', () => store.writeRecords(view, rows, now)),
    read: (requests, now) => timed('read', () => store.read(requests, now)),
    deleteView: (view) => timed('delete', () => store.deleteView(view)),
    stats: () => store.stats(),
    latestFeatureTimestamp: (view) => store.latestFeatureTimestamp(view),
  };
}
