// The feature server's network settings (GOLD_SERVE_*): limits, bearer tokens, which routes are open,
// TLS. Read and checked once at start, so that a bad value fails naming its variable.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Limits that keep a server's memory and connections bounded whatever its clients do. */
export interface ServeLimits {
  /** Whole request (headers and body) must arrive within this (slow bodies). */
  requestTimeoutMs: number;
  /** Headers must arrive within this (slow or partial headers). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** How often the two timeouts above are checked. */
  checkIntervalMs: number;
  /** Feature requests being served at once; more are answered 429 with Retry-After. */
  maxConcurrentRequests: number;
  /** Open connections at most; the server drops more at once. */
  maxConnections: number;
  /** Largest request body; larger is answered 413 before it is read. */
  bodyLimitBytes: number;
}

export const DEFAULT_LIMITS: ServeLimits = {
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  maxConcurrentRequests: 32,
  maxConnections: 256,
  bodyLimitBytes: 1024 * 1024,
};

/** Routes that may be left open when tokens are set (the feature route never is). */
export const OPENABLE_ROUTES = ['health', 'metrics', 'openapi'] as const;
export type OpenableRoute = (typeof OPENABLE_ROUTES)[number];

export interface ServeAuth {
  /** Accepted bearer tokens (several during a rotation); empty: no authentication. */
  tokens: string[];
  /** Routes answered without a token. */
  open: OpenableRoute[];
}

export interface ServeTls {
  cert: Buffer;
  key: Buffer;
}

export interface ServeConfig {
  limits: ServeLimits;
  auth: ServeAuth;
  tls?: ServeTls;
}

/** A token shorter than this is guessable; refused rather than trusted. */
export const MIN_TOKEN_LENGTH = 16;

export const SERVE_ENV = {
  tokens: 'GOLD_SERVE_TOKENS',
  open: 'GOLD_SERVE_OPEN_ROUTES',
  tlsCert: 'GOLD_SERVE_TLS_CERT',
  tlsKey: 'GOLD_SERVE_TLS_KEY',
  requestTimeoutMs: 'GOLD_SERVE_REQUEST_TIMEOUT_MS',
  headersTimeoutMs: 'GOLD_SERVE_HEADERS_TIMEOUT_MS',
  keepAliveTimeoutMs: 'GOLD_SERVE_KEEP_ALIVE_TIMEOUT_MS',
  maxConcurrentRequests: 'GOLD_SERVE_MAX_CONCURRENT',
  maxConnections: 'GOLD_SERVE_MAX_CONNECTIONS',
  bodyLimitBytes: 'GOLD_SERVE_BODY_LIMIT_BYTES',
} as const;

export class ServeConfigError extends Error {
  override name = 'ServeConfigError';
}

const positive = z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().positive('must be more than 0'));

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function parsed<T>(name: string, value: string, schema: z.ZodType<T>): T {
  const r = schema.safeParse(value);
  // Values of the token and TLS variables are never echoed: only their names.
  if (!r.success) throw new ServeConfigError(`invalid setting ${name}: ${r.error.issues[0]!.message}`);
  return r.data;
}

/** The server's settings from the environment (GOLD_SERVE_*), with defaults. */
export function loadServeConfig(env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of ['requestTimeoutMs', 'headersTimeoutMs', 'keepAliveTimeoutMs', 'maxConcurrentRequests', 'maxConnections', 'bodyLimitBytes'] as const) {
    const v = envValue(env, SERVE_ENV[key]);
    if (v !== undefined) limits[key] = parsed(SERVE_ENV[key], v, positive);
  }
  // Node checks the headers timeout against the request timeout: headers cannot be allowed longer.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs)
    throw new ServeConfigError(`invalid setting ${SERVE_ENV.headersTimeoutMs}: must be at most ${SERVE_ENV.requestTimeoutMs} (${limits.requestTimeoutMs})`);

  const rawTokens = envValue(env, SERVE_ENV.tokens);
  const tokens =
    rawTokens === undefined
      ? []
      : rawTokens
          .split(',')
          .map((t) => t.trim())
          .filter((t) => t !== '');
  tokens.forEach((t, i) => {
    if (t.length < MIN_TOKEN_LENGTH)
      throw new ServeConfigError(`invalid setting ${SERVE_ENV.tokens}: token ${i + 1} is shorter than ${MIN_TOKEN_LENGTH} characters`);
    if (!/^[\x21-\x7e]+$/.test(t)) throw new ServeConfigError(`invalid setting ${SERVE_ENV.tokens}: token ${i + 1} has characters other than printable ASCII`);
  });
  const rawOpen = envValue(env, SERVE_ENV.open) ?? 'health';
  const open = rawOpen === 'none' ? [] : rawOpen.split(',').map((r) => r.trim());
  const unknown = open.filter((r) => !(OPENABLE_ROUTES as readonly string[]).includes(r));
  if (unknown.length > 0)
    throw new ServeConfigError(
      `invalid setting ${SERVE_ENV.open}=${JSON.stringify(rawOpen)}: unknown route(s) ${unknown.join(', ')} (expected a comma-separated list of ${OPENABLE_ROUTES.join(', ')}, or none)`,
    );

  const certPath = envValue(env, SERVE_ENV.tlsCert);
  const keyPath = envValue(env, SERVE_ENV.tlsKey);
  if ((certPath === undefined) !== (keyPath === undefined))
    throw new ServeConfigError(
      `invalid setting: ${SERVE_ENV.tlsCert} and ${SERVE_ENV.tlsKey} go together (got only ${certPath ? SERVE_ENV.tlsCert : SERVE_ENV.tlsKey})`,
    );
  const read = (name: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new ServeConfigError(`invalid setting ${name}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const tls = certPath && keyPath ? { cert: read(SERVE_ENV.tlsCert, certPath), key: read(SERVE_ENV.tlsKey, keyPath) } : undefined;
  return { limits, auth: { tokens, open: open as OpenableRoute[] }, ...(tls ? { tls } : {}) };
}
