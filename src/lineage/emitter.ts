// Sends OpenLineage events: an HTTP POST to GOLD_OPENLINEAGE_URL (Marquez and other consumers take
// them at /api/v1/lineage) and/or a JSON line per event in the lake (lineage/feature_date=D/<run>.jsonl).
// Emission never fails a run: a failure is logged and counted, never thrown, and bounded in time.
import type { Lake } from '../lake/index.js';
import { LakeNotFoundError } from '../lake/lake.js';
import { paths } from '../lake/paths.js';
import { goldMetrics } from '../monitoring/metrics.js';
import { logger } from '../shared/logger.js';
import { redactUrl } from '../shared/redact.js';
import type { RunEvent } from './events.js';

export interface LineageOptions {
  /** HTTP endpoint; a URL without a path gets OpenLineage's default one, /api/v1/lineage. */
  url?: string;
  /** Sent as `Authorization: Bearer <key>`; never logged. */
  apiKey?: string;
  /** Job namespace. */
  namespace: string;
  /** Also append each event to the lake (lineage/feature_date=D/<run id>.jsonl). */
  lakeLog?: boolean;
  timeoutMs?: number;
}

export interface LineageEmitter {
  readonly enabled: boolean;
  readonly namespace: string;
  /** Never throws. `date` is the feature date, for the lake log's place. */
  emit(event: RunEvent, date: string): Promise<void>;
}

export const NO_LINEAGE: LineageEmitter = { enabled: false, namespace: 'gold', emit: async () => undefined };

/** The endpoint events are POSTed to. */
export function lineageEndpoint(url: string): string {
  const u = new URL(url);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/api/v1/lineage';
  return u.toString();
}

export function createLineageEmitter(opts: LineageOptions, lake?: Lake): LineageEmitter {
  const endpoint = opts.url ? lineageEndpoint(opts.url) : undefined;
  const toLake = opts.lakeLog && lake ? lake : undefined;
  if (!endpoint && !toLake) return { ...NO_LINEAGE, namespace: opts.namespace };
  const timeoutMs = opts.timeoutMs ?? 5000;
  const count = (transport: 'http' | 'lake', result: 'sent' | 'failed') => goldMetrics().lineageEvents.inc({ transport, result });

  async function post(event: RunEvent): Promise<void> {
    try {
      const res = await fetch(endpoint!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      count('http', 'sent');
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; errors?: { code?: string }[] } };
      const why = err.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (err.cause?.code ?? err.cause?.errors?.[0]?.code ?? err.message);
      count('http', 'failed');
      logger().warn({ job: event.job.name, eventType: event.eventType, endpoint: redactUrl(endpoint!), error: why }, 'OpenLineage event not sent');
    }
  }

  async function append(event: RunEvent, date: string): Promise<void> {
    try {
      const key = paths.lineage(date, event.run.runId);
      const before = await toLake!.read(key).then(
        (b) => b.toString('utf8'),
        (e) => {
          if (e instanceof LakeNotFoundError) return '';
          throw e;
        },
      );
      await toLake!.write(key, `${before}${JSON.stringify(event)}\n`);
      count('lake', 'sent');
    } catch (e) {
      count('lake', 'failed');
      logger().warn({ job: event.job.name, eventType: event.eventType, error: (e as Error).message }, 'OpenLineage event not written to the lake');
    }
  }

  return {
    enabled: true,
    namespace: opts.namespace,
    async emit(event, date) {
      await Promise.all([endpoint ? post(event) : undefined, toLake ? append(event, date) : undefined]);
    },
  };
}
