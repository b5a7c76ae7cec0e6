// Settings come from the environment (names in ../shared/spec/interfaces.md), overridable by CLI flags,
// and are validated once at start so that a bad value fails with a message naming it.
import { resolve } from 'node:path';
import { z } from 'zod';
import { REDACTED, redactUrl } from '../shared/redact.js';

/** A whole number written in decimal digits ('0x10' and '1e3' are refused, not read as 16 and 1000). */
const decimal = z.union([z.number(), z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)]).pipe(z.number().int());
const positiveInt = decimal.pipe(z.number().positive());

const schema = z.object({
  lake: z
    .string()
    .min(1)
    .refine((v) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^(file|s3):\/\//i.test(v), {
      message: 'must be a path, file://... or s3://bucket/prefix',
    }),
  home: z.string().min(1),
  temporalAddress: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port'),
  temporalNamespace: z.string().min(1),
  taskQueue: z.string().min(1),
  onlineStore: z.string().refine((v) => v === 'embedded' || /^rediss?:\/\//i.test(v), {
    message: "must be 'embedded', redis://... or rediss://...",
  }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  // More threads than this only adds scheduling overhead on any machine gold runs on.
  duckdbThreads: positiveInt.pipe(z.number().max(256, 'must be at most 256')),
  duckdbMemory: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, "must look like '4GB'")
    .refine((v) => parseFloat(v) > 0, 'must be more than 0'),
  s3CacheDir: z.string().min(1),
  s3CacheMaxBytes: positiveInt,
  // The SDK's runtime metrics take the next port, so the last port is not available.
  metricsPort: decimal.pipe(z.number().min(0).max(65534, 'must be at most 65534 (the next port serves the SDK metrics)')),
  metricsHost: z.string().regex(/^[A-Za-z0-9.:-]+$/, 'must be an interface address or host name (0.0.0.0: every interface)'),
  workerMaxActivities: positiveInt,
  freshnessRefreshSeconds: positiveInt,
  freshnessSlaSeconds: positiveInt,
  heavyTaskQueue: z.string().min(1).optional(),
  alertWebhook: z
    .string()
    .regex(/^https?:\/\/\S+$/i, 'must be an http(s) URL')
    .optional(),
  temporalUi: z
    .string()
    .regex(/^https?:\/\/\S+$/i, 'must be an http(s) URL')
    .optional(),
  openlineageUrl: z
    .string()
    .regex(/^https?:\/\/\S+$/i, 'must be an http(s) URL')
    .refine((v) => URL.canParse(v), 'must be a valid URL')
    .optional(),
  openlineageApiKey: z.string().regex(/^\S+$/, 'must not contain spaces').optional(),
  openlineageNamespace: z.string().min(1),
  openlineageLakeLog: z
    .union([z.boolean(), z.enum(['0', '1', 'true', 'false'], 'must be 1, 0, true or false')])
    .transform((v) => v === true || v === '1' || v === 'true'),
});

export type Settings = z.infer<typeof schema>;
export type SettingsOverrides = Partial<Record<keyof Settings, string | number | undefined>>;

/** Environment variable behind each setting. */
export const SETTING_ENV: Record<keyof Settings, string> = {
  lake: 'GOLD_LAKE',
  home: 'GOLD_HOME',
  temporalAddress: 'TEMPORAL_ADDRESS',
  temporalNamespace: 'TEMPORAL_NAMESPACE',
  taskQueue: 'GOLD_TASK_QUEUE',
  onlineStore: 'GOLD_ONLINE_STORE',
  logLevel: 'GOLD_LOG_LEVEL',
  duckdbThreads: 'GOLD_DUCKDB_THREADS',
  duckdbMemory: 'GOLD_DUCKDB_MEMORY',
  s3CacheDir: 'GOLD_S3_CACHE_DIR',
  s3CacheMaxBytes: 'GOLD_S3_CACHE_MAX_BYTES',
  metricsPort: 'GOLD_METRICS_PORT',
  metricsHost: 'GOLD_METRICS_HOST',
  workerMaxActivities: 'GOLD_WORKER_MAX_ACTIVITIES',
  freshnessRefreshSeconds: 'GOLD_FRESHNESS_REFRESH_SECONDS',
  freshnessSlaSeconds: 'GOLD_FRESHNESS_SLA_SECONDS',
  heavyTaskQueue: 'GOLD_HEAVY_TASK_QUEUE',
  alertWebhook: 'GOLD_ALERT_WEBHOOK',
  temporalUi: 'GOLD_TEMPORAL_UI',
  openlineageUrl: 'GOLD_OPENLINEAGE_URL',
  openlineageApiKey: 'GOLD_OPENLINEAGE_API_KEY',
  openlineageNamespace: 'GOLD_OPENLINEAGE_NAMESPACE',
  openlineageLakeLog: 'GOLD_OPENLINEAGE_LAKE_LOG',
};

/** Settings whose values are secrets: never shown, not even redacted. */
const SECRET_SETTINGS: ReadonlySet<keyof Settings> = new Set(['openlineageApiKey']);

/** The command-line flag that sets a setting, where there is one (shown when the bad value came from it). */
const SETTING_FLAG: Partial<Record<keyof Settings, string>> = {
  lake: '--lake',
  temporalAddress: '--temporal-address',
  temporalNamespace: '--namespace',
  taskQueue: '--task-queue',
  onlineStore: '--online-store',
  logLevel: '--log-level',
};

export class SettingsError extends Error {
  override name = 'SettingsError';
}

export function loadSettings(overrides: SettingsOverrides = {}, env: NodeJS.ProcessEnv = process.env): Settings {
  const pick = (key: keyof Settings): string | number | undefined => {
    const o = overrides[key];
    if (o !== undefined && o !== '') return o;
    const e = env[SETTING_ENV[key]];
    return e === undefined || e === '' ? undefined : e;
  };
  const home = String(pick('home') ?? '.gold');
  const raw = {
    lake: pick('lake') ?? `${home}/lake`,
    home,
    temporalAddress: pick('temporalAddress') ?? '127.0.0.1:7233',
    temporalNamespace: pick('temporalNamespace') ?? 'default',
    taskQueue: pick('taskQueue') ?? 'gold',
    onlineStore: pick('onlineStore') ?? 'embedded',
    logLevel: pick('logLevel') ?? 'info',
    duckdbThreads: pick('duckdbThreads') ?? 2,
    duckdbMemory: pick('duckdbMemory') ?? '4GB',
    s3CacheDir: pick('s3CacheDir') ?? `${home}/cache/s3`,
    s3CacheMaxBytes: pick('s3CacheMaxBytes') ?? 8 * 1024 ** 3,
    metricsPort: pick('metricsPort') ?? 9464,
    // Loopback unless said otherwise: the metrics have no authentication (the compose file opens them inside its network).
    metricsHost: pick('metricsHost') ?? '127.0.0.1',
    // Each activity's DuckDB has its own memory limit: slots x GOLD_DUCKDB_MEMORY bounds a worker's memory.
    workerMaxActivities: pick('workerMaxActivities') ?? 8,
    freshnessRefreshSeconds: pick('freshnessRefreshSeconds') ?? 60,
    // A daily schedule commits D by as_of(D) + 6 h: the latest committed date is then never older than 1 day + 6 h.
    freshnessSlaSeconds: pick('freshnessSlaSeconds') ?? 30 * 3600,
    // Unset: every activity runs on the main task queue; set: the heavy ones go to workers of their own (`gold worker --activities-only`).
    heavyTaskQueue: pick('heavyTaskQueue'),
    // Unset: alerts are logs and metrics only.
    alertWebhook: pick('alertWebhook'),
    // Unset: the dev server's UI of the local stack.
    temporalUi: pick('temporalUi'),
    // Unset (and no lake log): no OpenLineage events.
    openlineageUrl: pick('openlineageUrl'),
    openlineageApiKey: pick('openlineageApiKey'),
    openlineageNamespace: pick('openlineageNamespace') ?? 'gold',
    openlineageLakeLog: pick('openlineageLakeLog') ?? '0',
  };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path[0] as keyof Settings;
    const value = SECRET_SETTINGS.has(key) ? REDACTED : typeof raw[key] === 'string' ? redactUrl(raw[key]) : raw[key];
    const from = overrides[key] !== undefined && overrides[key] !== '' ? `${SETTING_FLAG[key] ?? SETTING_ENV[key]}` : SETTING_ENV[key];
    throw new SettingsError(`invalid setting ${from}=${JSON.stringify(value)}: ${issue.message}`);
  }
  const s = parsed.data;
  return { ...s, home: resolve(s.home), s3CacheDir: resolve(s.s3CacheDir) };
}

/** The settings as environment variables, to hand to a child process. */
export function settingsEnv(s: Settings): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, env] of Object.entries(SETTING_ENV)) {
    const v = s[k as keyof Settings];
    if (v !== undefined) out[env] = String(v);
  }
  return out;
}
