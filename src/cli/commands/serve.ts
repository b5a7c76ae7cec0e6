import { type Command, InvalidArgumentError } from 'commander';
import { loadServeConfig, type ServeConfig } from '../../config/serve.js';
import type { Settings } from '../../config/settings.js';
import { engineOptions } from '../../engine/duckdb.js';
import { openLake } from '../../lake/index.js';
import { openOnlineStore } from '../../online/open.js';
import { LakeNormalizationSource } from '../../serving/normalization-parameters.js';
import { createFeatureServer } from '../../serving/server.js';
import { servingCatalog } from '../../serving/view-provider.js';
import { logger } from '../../shared/logger.js';
import { action, parsePositiveInt, settingsFrom } from '../context.js';

export interface ServeOptions {
  port: number;
  host: string;
  maxEntities: number;
  /** Limits, tokens and TLS (default: from the GOLD_SERVE_* variables). */
  config?: ServeConfig;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Serves until `stop` aborts, then closes the server (finishing requests in flight) and the store. */
export async function runFeatureServer(s: Settings, opts: ServeOptions, stop: AbortSignal, onListening?: (address: string) => void): Promise<void> {
  // Checked before anything is opened: a bad setting leaves nothing behind.
  const config = opts.config ?? loadServeConfig();
  const store = openOnlineStore(s.onlineStore, s.home);
  const lake = openLake(s.lake, s);
  try {
    const catalog = await servingCatalog(s);
    const freshness = { lake, slaSeconds: s.freshnessSlaSeconds, refreshSeconds: s.freshnessRefreshSeconds };
    const normalization = new LakeNormalizationSource(lake, engineOptions(s));
    const app = createFeatureServer({
      store,
      ...catalog,
      maxEntities: opts.maxEntities,
      limits: config.limits,
      auth: config.auth,
      tls: config.tls,
      freshness,
      normalization,
    });
    try {
      const address = await app.listen({ port: opts.port, host: opts.host });
      const auth = config.auth.tokens.length > 0 ? { tokens: config.auth.tokens.length, open: config.auth.open } : 'none';
      logger().info(
        {
          address,
          store: store.kind,
          location: store.location,
          tls: config.tls !== undefined,
          auth,
          views: catalog.views.map((v) => `${v.name}:v${v.version}`),
          featureServices: Object.keys(catalog.featureServices ?? {}),
        },
        'feature server listening',
      );
      if (!LOOPBACK.test(opts.host) && config.auth.tokens.length === 0)
        logger().warn({ host: opts.host }, 'feature server reachable beyond this machine without authentication (set GOLD_SERVE_TOKENS)');
      onListening?.(address);
      if (!stop.aborted) await new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true }));
    } finally {
      await app.close();
    }
  } finally {
    await store.close();
    await lake.close();
  }
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('HTTP feature server for online reads: POST /get-online-features, GET /health, /metrics, /openapi.json (until SIGINT/SIGTERM)')
    .option('--port <n>', 'port to listen on', parsePort, 6566)
    .option('--host <host>', 'interface to listen on (0.0.0.0: all)', '127.0.0.1')
    .option('--max-entities <n>', 'entity rows per request at most', parsePositiveInt('--max-entities'), 1000)
    .action(
      action(async (opts: ServeOptions, cmd: Command) => {
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          await runFeatureServer(settingsFrom(cmd), opts, stop.signal, (address) => process.stderr.write(`gold: serving online features on ${address}\n`));
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }),
    );
}
