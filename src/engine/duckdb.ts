// DuckDB for all heavy computation: an in-memory instance per unit of work, with bounded threads and
// memory and a spill folder, plus the small helpers for writing SQL over lake files.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Settings } from '../config/settings.js';
import { currentCancellation } from './cancellation.js';

export interface EngineOptions {
  threads: number;
  memoryLimit: string;
  /** Where DuckDB spills when a query outgrows memory. */
  tempDir?: string;
}

/** The limits the settings give each engine (GOLD_DUCKDB_THREADS, GOLD_DUCKDB_MEMORY), spilling under GOLD_HOME. */
export function engineOptions(s: Pick<Settings, 'duckdbThreads' | 'duckdbMemory' | 'home'>): EngineOptions {
  return { threads: s.duckdbThreads, memoryLimit: s.duckdbMemory, tempDir: join(s.home, 'tmp', 'duckdb') };
}

export type Row = Record<string, unknown>;

export class Engine {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {}

  static async create(opts: EngineOptions): Promise<Engine> {
    const config: Record<string, string> = {
      threads: String(opts.threads),
      memory_limit: opts.memoryLimit,
      preserve_insertion_order: 'false',
    };
    if (opts.tempDir) {
      mkdirSync(opts.tempDir, { recursive: true });
      config.temp_directory = opts.tempDir;
    }
    const instance = await DuckDBInstance.create(':memory:', config);
    const conn = await instance.connect();
    await conn.run("SET TimeZone = 'UTC'");
    const engine = new Engine(instance, conn);
    const signal = currentCancellation();
    if (signal) {
      if (signal.aborted) {
        engine.close();
        throw signal.reason;
      }
      const interrupt = () => conn.interrupt();
      signal.addEventListener('abort', interrupt, { once: true });
      engine.detach = () => signal.removeEventListener('abort', interrupt);
    }
    return engine;
  }

  /** Stops listening to the unit of work's cancellation (set when there is one). */
  private detach: () => void = () => undefined;

  async run(sql: string): Promise<void> {
    await this.conn.run(sql);
  }

  /** Rows as plain objects: BIGINT to number when it fits, timestamps as Date, lists as arrays. */
  async all<T extends Row = Row>(sql: string): Promise<T[]> {
    const reader = await this.conn.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((r) => normalize(r) as T);
  }

  /** Rows as all() gives them, one DuckDB chunk (up to 2,048 rows) at a time: memory does not grow with the result. */
  async *batches<T extends Row = Row>(sql: string): AsyncGenerator<T[]> {
    const result = await this.conn.stream(sql);
    for await (const rows of result.yieldRowObjectJs()) yield rows.map((r) => normalize(r) as T);
  }

  async one<T extends Row = Row>(sql: string): Promise<T> {
    const rows = await this.all<T>(sql);
    if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}: ${sql.slice(0, 200)}`);
    return rows[0]!;
  }

  close(): void {
    this.detach();
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

function normalize(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object' && !(v instanceof Date) && !(v instanceof Uint8Array)) {
    const out: Row = {};
    for (const [k, x] of Object.entries(v)) out[k] = normalize(x);
    return out;
  }
  return v;
}

/** Runs fn with a fresh engine and always closes it. */
export async function withEngine<T>(opts: EngineOptions, fn: (e: Engine) => Promise<T>): Promise<T> {
  const engine = await Engine.create(opts);
  try {
    return await fn(engine);
  } finally {
    engine.close();
  }
}

export { parquetScan, sqlIdent, sqlList, sqlStr } from './sql.js';
