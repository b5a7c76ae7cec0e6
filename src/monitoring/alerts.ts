// Alerts: each one is a log line, a Prometheus count, and a JSON POST to GOLD_ALERT_WEBHOOK when set.
// A webhook that fails is logged and counted, never thrown: an alert must not break the run raising it.

import { SETTING_ENV } from '../config/settings.js';
import { logger } from '../shared/logger.js';
import { goldMetrics } from './metrics.js';

export type AlertSeverity = 'warn' | 'error';

export interface Alert {
  /** What tripped: freshness, completeness, anomaly, drift, quality, sla_commit_by... */
  kind: string;
  severity: AlertSeverity;
  date: string;
  message: string;
  family?: string;
  feature?: string;
  runId?: string;
  value?: number;
  threshold?: number;
}

export interface AlertDelivery {
  webhook: 'sent' | 'skipped' | 'failed';
  status?: number;
  error?: string;
}

const ALERT_WEBHOOK_ENV = SETTING_ENV.alertWebhook;

/** Logs and counts the alert, and POSTs it to the webhook of the settings (`alertWebhook`) when there is one. */
export async function raiseAlert(alert: Alert, opts: { webhookUrl?: string; timeoutMs?: number } = {}): Promise<AlertDelivery> {
  const { kind, severity, message, ...context } = alert;
  logger()[severity]({ alert: kind, ...context }, `ALERT ${kind}: ${message}`);
  goldMetrics().alerts.inc({ kind, severity });
  const url = opts.webhookUrl;
  if (!url) return { webhook: 'skipped' };
  const delivery = await post(url, { source: 'gold', at: new Date().toISOString(), ...alert }, opts.timeoutMs ?? 5000);
  if (delivery.webhook === 'failed') {
    // The URL may carry a token: name the failure, never the URL.
    logger().error({ alert: kind, status: delivery.status, error: delivery.error }, `alert webhook (${ALERT_WEBHOOK_ENV}) failed`);
    goldMetrics().errors.inc({ type: 'alert_webhook' });
  }
  return delivery;
}

async function post(url: string, body: unknown, timeoutMs: number): Promise<AlertDelivery> {
  if (!/^https?:\/\//i.test(url)) return { webhook: 'failed', error: `${ALERT_WEBHOOK_ENV} is not an http(s) URL` };
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? { webhook: 'sent', status: res.status } : { webhook: 'failed', status: res.status, error: `HTTP ${res.status}` };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    return { webhook: 'failed', error: err.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (err.cause?.code ?? err.message) };
  }
}
