// The product's Prometheus metrics, in their own registry, created on first use so that importing this
// module (from activities, the CLI, tests) has no side effect; `startMetricsServer` serves them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ValidationReport } from '../quality/report.js';
import type { RunRecord } from './run-record.js';

/** Seconds: from quick lake reads to long backfill steps, so that p95/p99 land inside a bucket. */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

function create(registry: Registry) {
  const registers = [registry];
  return {
    registry,
    rowsIn: new Counter({ name: 'gold_rows_in_total', help: 'Rows computed into staging, per family', labelNames: ['family'] as const, registers }),
    rowsOut: new Counter({ name: 'gold_rows_out_total', help: 'Rows committed to gold, per family', labelNames: ['family'] as const, registers }),
    rowsQuarantined: new Counter({
      name: 'gold_rows_quarantined_total',
      help: 'Feature rows moved to the quarantine by validation',
      labelNames: ['family'] as const,
      registers,
    }),
    stepDuration: new Histogram({
      name: 'gold_step_duration_seconds',
      help: 'Duration of pipeline steps',
      labelNames: ['step', 'family'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    runs: new Counter({ name: 'gold_runs_total', help: 'Finished gold runs', labelNames: ['kind', 'status'] as const, registers }),
    qualityScore: new Gauge({ name: 'gold_quality_score', help: 'Latest quality score of a family, in [0, 1]', labelNames: ['family'] as const, registers }),
    featureQualityScore: new Gauge({
      name: 'gold_feature_quality_score',
      help: 'Latest quality score of a feature, in [0, 1]',
      labelNames: ['family', 'feature'] as const,
      registers,
    }),
    featurePsi: new Gauge({
      name: 'gold_feature_psi',
      help: 'Latest PSI of a feature against its reference',
      labelNames: ['family', 'feature'] as const,
      registers,
    }),
    validations: new Counter({ name: 'gold_validations_total', help: 'Validations run, by outcome', labelNames: ['family', 'result'] as const, registers }),
    validationChecks: new Counter({
      name: 'gold_validation_checks_total',
      help: 'Checks that fired, by check and severity',
      labelNames: ['family', 'check', 'severity'] as const,
      registers,
    }),
    dlqEntries: new Counter({
      name: 'gold_dlq_entries_total',
      help: 'Entries added to the dead-letter queue',
      labelNames: ['family', 'reason'] as const,
      registers,
    }),
    dlqOpen: new Gauge({ name: 'gold_dlq_open_entries', help: 'Open dead-letter queue entries when last listed', registers }),
    storeOperations: new Counter({
      name: 'gold_store_operations_total',
      help: 'Online and offline store operations',
      labelNames: ['store', 'op', 'result'] as const,
      registers,
    }),
    storeDuration: new Histogram({
      name: 'gold_store_operation_duration_seconds',
      help: 'Duration of store operations',
      labelNames: ['store', 'op'] as const,
      buckets: STORE_BUCKETS,
      registers,
    }),
    errors: new Counter({ name: 'gold_errors_total', help: 'Errors by type', labelNames: ['type'] as const, registers }),
    lineageEvents: new Counter({
      name: 'gold_lineage_events_total',
      help: 'OpenLineage events emitted, by transport (http, lake) and result (sent, failed)',
      labelNames: ['transport', 'result'] as const,
      registers,
    }),
    alerts: new Counter({ name: 'gold_alerts_total', help: 'Alerts raised', labelNames: ['kind', 'severity'] as const, registers }),
    freshnessLagDays: new Gauge({
      name: 'gold_freshness_lag_days',
      help: 'Days between the expected feature date and the latest committed gold date',
      labelNames: ['family'] as const,
      registers,
    }),
    modelQuality: new Gauge({
      name: 'gold_model_quality',
      help: 'Latest quality figures of a model: recall/precision@k and their popularity baselines, final loss, vector drift, training seconds',
      labelNames: ['model', 'metric'] as const,
      registers,
    }),
    completenessRatio: new Gauge({
      name: 'gold_completeness_ratio',
      help: 'Rows of a date over the recent average',
      labelNames: ['family'] as const,
      registers,
    }),
  };
}

export type GoldMetrics = ReturnType<typeof create>;

let metrics: GoldMetrics | undefined;

/**
 * Alert kinds that Prometheus rules count with increase() (deploy/prometheus/rules.yml): exported at 0
 * from the start, since a counter that first appears at 1 shows Prometheus no increase.
 */
const WATCHED_ALERT_KINDS = ['sla_commit_by', 'sla_max_run', 'sla_max_step', 'drift'];

export function goldMetrics(): GoldMetrics {
  if (!metrics) {
    metrics = create(new Registry());
    for (const kind of WATCHED_ALERT_KINDS) for (const severity of ['warn', 'error']) metrics.alerts.inc({ kind, severity }, 0);
  }
  return metrics;
}

export function observeValidation(r: ValidationReport): void {
  const m = goldMetrics();
  m.validations.inc({ family: r.family, result: r.passed ? 'passed' : 'failed' });
  m.qualityScore.set({ family: r.family }, r.score);
  for (const c of [...r.failed, ...r.warned]) m.validationChecks.inc({ family: r.family, check: c.check, severity: c.severity });
  for (const x of r.features) {
    m.featureQualityScore.set({ family: r.family, feature: x.name }, x.score);
    if (x.psi !== undefined) m.featurePsi.set({ family: r.family, feature: x.name }, x.psi);
  }
  if (r.quarantine) m.rowsQuarantined.inc({ family: r.family }, r.quarantine.rows);
}

/** Step durations, rows in and out, failed steps and the run's outcome, from its record. */
export function observeRun(r: RunRecord): void {
  const m = goldMetrics();
  for (const s of r.steps) {
    const family = s.family ?? '';
    if (s.seconds !== undefined && (s.status === 'succeeded' || s.status === 'failed')) m.stepDuration.observe({ step: s.step, family }, s.seconds);
    if (s.status === 'failed') m.errors.inc({ type: `${s.step}_failed` });
    if (s.status !== 'succeeded' || s.rows === undefined || !s.family) continue;
    if (s.step === 'compute') m.rowsIn.inc({ family }, s.rows);
    if (s.step === 'commit') m.rowsOut.inc({ family }, s.rows);
  }
  m.runs.inc({ kind: r.runKind, status: r.status });
  const als = r.models?.als;
  if (als) {
    const k = als.heldOut?.k ?? 10;
    const figures: Record<string, number | null | undefined> = {
      final_loss: als.loss.at(-1),
      train_seconds: als.trainSeconds,
      user_drift: als.userDrift,
      video_drift: als.videoDrift,
      [`recall_at_${k}`]: als.heldOut?.recallAtK,
      [`precision_at_${k}`]: als.heldOut?.precisionAtK,
      [`popularity_recall_at_${k}`]: als.heldOut?.popularityRecallAtK,
      [`popularity_precision_at_${k}`]: als.heldOut?.popularityPrecisionAtK,
    };
    for (const [metric, v] of Object.entries(figures)) if (typeof v === 'number' && Number.isFinite(v)) m.modelQuality.set({ model: 'als', metric }, v);
  }
}

export function observeStoreOperation(store: string, op: string, seconds: number, ok: boolean): void {
  const m = goldMetrics();
  m.storeOperations.inc({ store, op, result: ok ? 'ok' : 'error' });
  m.storeDuration.observe({ store, op }, seconds);
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

let processMetrics = false;

/** Serves GET /metrics (with the process metrics too) until closed. Port 0 picks a free port; host: GOLD_METRICS_HOST. */
export async function startMetricsServer(port: number, host = '127.0.0.1'): Promise<MetricsServer> {
  const { registry } = goldMetrics();
  if (!processMetrics) {
    collectDefaultMetrics({ register: registry, prefix: 'gold_' });
    processMetrics = true;
  }
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${e instanceof Error ? e.message : String(e)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new Error(`metrics port ${port} on ${host} is already in use (set GOLD_METRICS_PORT to another port)`) : e),
    );
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
