// The online store: one interface, a Redis implementation for production and an embedded one
// (LMDB under .gold/, no server) as the default.
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { open, type RootDatabase } from 'lmdb';
import { redactedOnlineStore } from '../config/settings.js';

export interface OnlineStore {
  readonly kind: 'redis' | 'embedded';
  /** Where it is, without credentials. */
  readonly location: string;
  /** Throws with a reason when the store cannot be used. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class RedisOnlineStore implements OnlineStore {
  readonly kind = 'redis' as const;
  readonly location: string;
  readonly redis: Redis;

  constructor(url: string) {
    this.location = redactedOnlineStore(url);
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 3000 });
  }

  async ping(): Promise<void> {
    if (this.redis.status === 'wait') await this.redis.connect();
    const r = await this.redis.ping();
    if (r !== 'PONG') throw new Error(`unexpected PING answer from ${this.location}: ${r}`);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

export class EmbeddedOnlineStore implements OnlineStore {
  readonly kind = 'embedded' as const;
  readonly db: RootDatabase;

  constructor(readonly location: string) {
    this.db = open({ path: location, compression: false });
  }

  async ping(): Promise<void> {
    await this.db.put('__ping__', Date.now());
    if (typeof this.db.get('__ping__') !== 'number') throw new Error(`embedded online store at ${this.location} does not read back`);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

export function openOnlineStore(setting: string, home: string): OnlineStore {
  return setting === 'embedded' ? new EmbeddedOnlineStore(join(home, 'online')) : new RedisOnlineStore(setting);
}
