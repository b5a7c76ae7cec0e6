// The HTTP feature server (fastify): POST /get-online-features (Feast's shapes, see
// online-features.ts), GET /health, GET /metrics (Prometheus), GET /openapi.json. Views come in as a
// parameter, so that tests pass their own and the CLI passes the product's; the caller owns the store.
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { logger } from '../monitoring/logger.js';
import { ViewFreshness, type ViewFreshnessOptions } from '../monitoring/view-freshness.js';
import type { OnlineStore } from '../online/store.js';
import { createServingMetrics } from './metrics.js';
import { Catalog, FeatureRequestError, getOnlineFeatures, OnlineStoreReadError, responseJson, type ServingCatalog } from './online-features.js';
import { openApiDocument } from './openapi.js';

export interface FeatureServerOptions extends ServingCatalog {
  store: OnlineStore;
  /** Entity rows per request at most (default 1,000). */
  maxEntities?: number;
  /** Largest request body (default 4 MiB). */
  bodyLimitBytes?: number;
  /** Exports the views' freshness on /metrics (monitoring/view-freshness.ts), refreshed until the server closes. */
  freshness?: Omit<ViewFreshnessOptions, 'online'>;
}

const ROUTES = 'POST /get-online-features, GET /health, GET /metrics, GET /openapi.json';

function errorBody(statusCode: number, message: string) {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

/** A configured server, not yet listening (`await app.listen({port, host})`; `app.inject` in tests). */
export function createFeatureServer(opts: FeatureServerOptions): FastifyInstance {
  const { store } = opts;
  const catalog = new Catalog(opts);
  const maxEntities = opts.maxEntities ?? 1000;
  const metrics = createServingMetrics(store.kind);
  const openapi = openApiDocument(catalog, maxEntities);
  const app = Fastify({ bodyLimit: opts.bodyLimitBytes ?? 4 * 1024 * 1024, logger: false });
  if (opts.freshness) {
    const freshness = new ViewFreshness(metrics.registry, { ...opts.freshness, online: { store, views: async () => [...catalog.views.values()] } });
    app.addHook('onClose', async () => freshness.stop());
  }

  app.addHook('onResponse', async (req, reply) => {
    // Unmatched URLs share one label, so that scanners cannot blow up the metric's cardinality.
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (err instanceof FeatureRequestError) return reply.code(err.statusCode).send(errorBody(err.statusCode, err.message));
    const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : undefined;
    // fastify's own 4xx: bad JSON, empty body, body too large, unsupported content type.
    if (status !== undefined && status >= 400 && status < 500) return reply.code(status).send(errorBody(status, err.message));
    // The request was fine; the store was not.
    if (err instanceof OnlineStoreReadError) {
      logger().warn({ err: err.message, url: req.url }, 'online store unavailable');
      return reply.code(503).send(errorBody(503, err.message));
    }
    logger().error({ err, url: req.url }, 'feature server error');
    return reply.code(500).send(errorBody(500, `internal error: ${err.message}`));
  });

  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody(404, `no route ${req.method} ${req.url} (routes: ${ROUTES})`)));

  app.post('/get-online-features', async (req, reply) => {
    const response = await getOnlineFeatures(store, catalog, req.body, {
      maxEntities,
      onStoreRead: (seconds, plan, results) => metrics.observeStoreRead(seconds, plan.rows, plan.reads, results),
    });
    return reply.type('application/json; charset=utf-8').send(responseJson(response));
  });

  app.get('/health', async (_req, reply) => {
    try {
      await store.ping();
      return { status: 'ok', store: store.kind, location: store.location, views: catalog.views.size };
    } catch (e) {
      return reply.code(503).send({ status: 'unavailable', store: store.kind, location: store.location, message: (e as Error).message });
    }
  });

  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  app.get('/openapi.json', async () => openapi);
  return app;
}
