// The HTTP feature server (fastify): POST /get-online-features (Feast's shapes, see
// online-features.ts), GET /health, GET /metrics (Prometheus), GET /openapi.json. Views come in as a
// parameter, so that tests pass their own and the CLI passes the product's; the caller owns the store.
// Fit for a network (config.ts): timeouts on headers, whole requests and idle connections, caps on
// connections, concurrent feature requests, body size and entities, bearer tokens, TLS.
import { randomUUID } from 'node:crypto';
import { createServer, type Server, STATUS_CODES } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { DEFAULT_LIMITS, type OpenableRoute, type ServeAuth, type ServeLimits, type ServeTls } from '../config/serve.js';
import { ViewFreshness, type ViewFreshnessOptions } from '../monitoring/view-freshness.js';
import type { OnlineStore } from '../online/store.js';
import { logger } from '../shared/logger.js';
import { TokenSet } from './auth.js';
import { createServingMetrics } from './metrics.js';
import {
  Catalog,
  FeatureRequestError,
  getOnlineFeatures,
  type NormalizationSource,
  OnlineStoreReadError,
  ParametersReadError,
  responseJson,
  type ServingCatalog,
} from './online-features.js';
import { openApiDocument } from './openapi.js';

export interface FeatureServerOptions extends ServingCatalog {
  store: OnlineStore;
  /** Entity rows per request at most (default 1,000). */
  maxEntities?: number;
  /** Largest request body (default: limits.bodyLimitBytes). */
  bodyLimitBytes?: number;
  limits?: Partial<ServeLimits>;
  /** Bearer tokens and open routes (default: no tokens, every route open). */
  auth?: ServeAuth;
  /** Serve HTTPS with this certificate and key. */
  tls?: ServeTls;
  /** Exports the views' freshness on /metrics (monitoring/view-freshness.ts), refreshed until the server closes. */
  freshness?: Omit<ViewFreshnessOptions, 'online'>;
  /** Normalization parameters for requests with `normalize` (normalization-parameters.ts); without it such requests get a 400. */
  normalization?: NormalizationSource;
}

const ROUTES = 'POST /get-online-features, GET /health, GET /metrics, GET /openapi.json';

function errorBody(statusCode: number, message: string, requestId: string) {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, requestId };
}

const OPENABLE: Record<string, OpenableRoute> = { '/health': 'health', '/metrics': 'metrics', '/openapi.json': 'openapi' };
/** A request id a client may give (x-request-id) and the logs may carry as it is. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The Node server under fastify, with every limit that does not need a route set on it. */
function nodeServer(limits: ServeLimits, tls: ServeTls | undefined, handler: Parameters<typeof createServer>[1]): Server {
  const opts = { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: limits.checkIntervalMs };
  // fastify's instance type follows one raw server type; an https.Server has the same request API.
  const server = tls ? (createTlsServer({ ...opts, cert: tls.cert, key: tls.key }, handler) as unknown as Server) : createServer(opts, handler);
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // A socket with nothing sent or received for this long is closed (also while a response is written).
  server.setTimeout(limits.requestTimeoutMs);
  server.maxConnections = limits.maxConnections;
  return server;
}

/** A configured server, not yet listening (`await app.listen({port, host})`; `app.inject` in tests). */
export function createFeatureServer(opts: FeatureServerOptions): FastifyInstance {
  const { store } = opts;
  const catalog = new Catalog(opts);
  const maxEntities = opts.maxEntities ?? 1000;
  const metrics = createServingMetrics(store.kind);
  const openapi = openApiDocument(catalog, maxEntities);
  const limits: ServeLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const tokens = new TokenSet(opts.auth?.tokens ?? []);
  const open = new Set(opts.auth?.open ?? []);
  let inFlight = 0;
  const isOpen = (req: FastifyRequest): boolean => {
    const route = OPENABLE[req.routeOptions.url ?? ''];
    return route !== undefined && open.has(route);
  };
  const app = Fastify({
    bodyLimit: opts.bodyLimitBytes ?? limits.bodyLimitBytes,
    logger: false,
    serverFactory: (handler) => nodeServer(limits, opts.tls, handler),
    // Only read by fastify to write the listening address as https://; nodeServer makes the server.
    ...(opts.tls ? { https: {} } : {}),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
    },
  });

  if (opts.freshness) {
    const freshness = new ViewFreshness(metrics.registry, { ...opts.freshness, online: { store, views: async () => [...catalog.views.values()] } });
    app.addHook('onClose', async () => freshness.stop());
  }

  // Before the body is read: a refused request costs no memory for its body.
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (tokens.enabled && !isOpen(req) && !tokens.accepts(req.headers.authorization)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send(errorBody(401, 'a bearer token is required (Authorization: Bearer <token>)', req.id));
    }
    if (req.routeOptions.url !== '/get-online-features') return;
    if (inFlight >= limits.maxConcurrentRequests) {
      return reply
        .code(429)
        .header('retry-after', '1')
        .send(errorBody(429, `too many requests in flight (at most ${limits.maxConcurrentRequests}); retry after 1 s`, req.id));
    }
    inFlight++;
    // 'close' comes once per response, whether it finished or the client went away.
    reply.raw.once('close', () => inFlight--);
  });

  app.addHook('onResponse', async (req, reply) => {
    // Unmatched URLs share one label, so that scanners cannot blow up the metric's cardinality.
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ route }, reply.elapsedTime / 1000);
    logger().debug({ reqId: req.id, method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (err instanceof FeatureRequestError) return reply.code(err.statusCode).send(errorBody(err.statusCode, err.message, req.id));
    const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : undefined;
    // fastify's own 4xx: bad JSON, empty body, body too large, unsupported content type.
    if (status !== undefined && status >= 400 && status < 500) return reply.code(status).send(errorBody(status, err.message, req.id));
    // The request was fine; the store was not. The cause (which names the store) goes to the log only.
    if (err instanceof OnlineStoreReadError) {
      logger().warn({ reqId: req.id, err: err.message, url: req.url }, 'online store unavailable');
      return reply.code(503).send(errorBody(503, `online store (${store.kind}) unavailable; the server log has the cause under this request id`, req.id));
    }
    if (err instanceof ParametersReadError) {
      logger().warn({ reqId: req.id, err: err.message, url: req.url }, 'normalization parameters unavailable');
      return reply.code(503).send(errorBody(503, 'normalization parameters unavailable; the server log has the cause under this request id', req.id));
    }
    logger().error({ reqId: req.id, err, url: req.url }, 'feature server error');
    return reply.code(500).send(errorBody(500, 'internal error; the server log has the cause under this request id', req.id));
  });

  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody(404, `no route ${req.method} ${req.url} (routes: ${ROUTES})`, req.id)));

  app.post('/get-online-features', async (req, reply) => {
    const response = await getOnlineFeatures(store, catalog, req.body, {
      maxEntities,
      ...(opts.normalization ? { normalization: opts.normalization } : {}),
      onStoreRead: (seconds, plan, results) => metrics.observeStoreRead(seconds, plan.rows, plan.reads, results),
    });
    return reply.type('application/json; charset=utf-8').send(responseJson(response));
  });

  // Which kind of store and whether it answers; never where it is.
  app.get('/health', async (req, reply) => {
    try {
      await store.ping();
      return { status: 'ok', store: store.kind, views: catalog.views.size };
    } catch (e) {
      logger().warn({ reqId: req.id, err: (e as Error).message }, 'online store unavailable');
      return reply.code(503).send({ status: 'unavailable', store: store.kind, requestId: req.id });
    }
  });

  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  app.get('/openapi.json', async () => openapi);
  return app;
}
