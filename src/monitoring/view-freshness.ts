// Freshness exported continuously, whether anything runs or not: per view, the latest committed gold
// date and the newest feature timestamp online, as unix timestamps, with the SLA and TTL they are held
// to, and the open DLQ entries. Alert rules compute the ages themselves (`time() - gauge`), so that an
// alert fires when the schedule stopped or every worker died: nothing in the pipeline has to notice.
//
// A timer refreshes the values from the lake and the online store; a scrape reads the last values and
// never waits for either. Each source (lake, online, dlq) refreshes on its own: one that fails, or
// does not answer in time, keeps its last values and says so (gold_freshness_refresh_success 0); the
// failure is never thrown.
import { Gauge, type Registry } from 'prom-client';
import { listDlq } from '../dlq/entries.js';
import { FAMILIES } from '../features/families/index.js';
import type { FamilyDecl } from '../features/types.js';
import type { Lake } from '../lake/index.js';
import type { OnlineStore } from '../online/store.js';
import type { OnlineViewSpec } from '../online/view.js';
import { latestGoldDate } from '../quality/reference.js';
import { asOf } from '../shared/dates.js';
import { logger } from '../shared/logger.js';

export type FreshnessSource = 'lake' | 'online' | 'dlq';

export interface ViewFreshnessOptions {
  lake: Lake;
  /** The online store and the views to read from it; without it, no online gauges. */
  online?: { store: OnlineStore; views: () => Promise<readonly OnlineViewSpec[]> };
  /** Families whose committed gold is watched (default: every declared family). */
  families?: readonly FamilyDecl[];
  /** Age of the latest committed date past which a view is stale (GOLD_FRESHNESS_SLA_SECONDS). */
  slaSeconds: number;
  /** Seconds between refreshes (GOLD_FRESHNESS_REFRESH_SECONDS). */
  refreshSeconds: number;
  /** A source not read in this long counts as failed (default: the refresh interval, at least 10 s). */
  timeoutSeconds?: number;
}

const DLQ_OPEN = 'gold_dlq_open_entries';

function gauges(registry: Registry) {
  const registers = [registry];
  return {
    committed: new Gauge({
      name: 'gold_view_latest_committed_date_seconds',
      help: 'as_of (end, unix seconds) of the latest committed gold date of a view; absent: none committed',
      labelNames: ['view'] as const,
      registers,
    }),
    online: new Gauge({
      name: 'gold_view_online_feature_timestamp_seconds',
      help: 'Newest feature timestamp (unix seconds) written to the online store for a view; absent: none recorded',
      labelNames: ['view'] as const,
      registers,
    }),
    sla: new Gauge({
      name: 'gold_view_freshness_sla_seconds',
      help: 'Age of the latest committed date past which a view is stale',
      labelNames: ['view'] as const,
      registers,
    }),
    ttl: new Gauge({
      name: 'gold_view_ttl_seconds',
      help: 'TTL of a view online: values older than this are not served',
      labelNames: ['view'] as const,
      registers,
    }),
    // The worker's registry has it already (listDlq sets it): one gauge per name and registry.
    dlqOpen:
      (registry.getSingleMetric(DLQ_OPEN) as Gauge | undefined) ??
      new Gauge({ name: DLQ_OPEN, help: 'Open dead-letter queue entries when last listed', registers }),
    success: new Gauge({
      name: 'gold_freshness_refresh_success',
      help: 'Whether the last freshness refresh from a source (lake, online, dlq) succeeded (1) or failed (0)',
      labelNames: ['source'] as const,
      registers,
    }),
    refreshed: new Gauge({
      name: 'gold_freshness_refresh_timestamp_seconds',
      help: 'When freshness was last refreshed from a source without error (unix seconds)',
      labelNames: ['source'] as const,
      registers,
    }),
  };
}

export class ViewFreshness {
  private readonly g: ReturnType<typeof gauges>;
  private readonly families: readonly FamilyDecl[];
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  /** Sources whose last refresh failed: a failure is logged when it starts and when it ends, not every time. */
  private readonly failing = new Set<FreshnessSource>();

  /** Registers the gauges in `registry` and refreshes now, then every `refreshSeconds` until stopped. */
  constructor(
    registry: Registry,
    private readonly opts: ViewFreshnessOptions,
  ) {
    this.g = gauges(registry);
    this.families = opts.families ?? FAMILIES;
    for (const f of this.families) this.g.sla.set({ view: f.name }, opts.slaSeconds);
    void this.tick();
  }

  /** One refresh of every source; concurrent calls share it. Never rejects. */
  refresh(): Promise<void> {
    this.running ??= Promise.all([
      this.source('lake', () => this.refreshCommitted()),
      this.source('online', () => this.refreshOnline()),
      this.source('dlq', () => this.refreshDlq()),
    ]).then(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** No refresh after this; waits for one in flight (the lake and the store may be closed afterwards). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async tick(): Promise<void> {
    await this.refresh();
    if (this.stopped) return;
    // Not keeping the process alive: the command that started it ends by its own means.
    this.timer = setTimeout(() => void this.tick(), this.opts.refreshSeconds * 1000).unref();
  }

  private async source(source: FreshnessSource, read: () => Promise<void>): Promise<void> {
    if (source === 'online' && !this.opts.online) return;
    const timeoutMs = (this.opts.timeoutSeconds ?? Math.max(10, this.opts.refreshSeconds)) * 1000;
    let timer: NodeJS.Timeout | undefined;
    try {
      // A lake that never answers (S3 requests have no timeout of their own) must not stop the refreshes.
      await Promise.race([
        read(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref())),
      ]);
      this.g.success.set({ source }, 1);
      this.g.refreshed.set({ source }, Date.now() / 1000);
      if (this.failing.delete(source)) logger().info({ source }, 'freshness refresh recovered');
    } catch (e) {
      this.g.success.set({ source }, 0);
      if (!this.failing.has(source)) logger().warn({ source, err: (e as Error).message }, 'freshness refresh failed: the last values stay exported');
      this.failing.add(source);
    } finally {
      clearTimeout(timer);
    }
  }

  private async refreshCommitted(): Promise<void> {
    const latest = await Promise.all(this.families.map(async (f) => [f.name, await latestGoldDate(this.opts.lake, f.name)] as const));
    // Replaced in one synchronous step: a scrape never sees half of a refresh.
    this.g.committed.reset();
    for (const [view, date] of latest) if (date) this.g.committed.set({ view }, asOf(date).getTime() / 1000);
  }

  private async refreshOnline(): Promise<void> {
    const { store, views } = this.opts.online!;
    const read = await Promise.all((await views()).map(async (v) => [v, await store.latestFeatureTimestamp(v)] as const));
    this.g.online.reset();
    this.g.ttl.reset();
    for (const [v, ts] of read) {
      this.g.ttl.set({ view: v.name }, v.ttlSeconds);
      if (ts !== undefined) this.g.online.set({ view: v.name }, ts / 1000);
    }
  }

  private async refreshDlq(): Promise<void> {
    const entries = await listDlq(this.opts.lake);
    this.g.dlqOpen.set(entries.filter((e) => e.status === 'open').length);
  }
}
