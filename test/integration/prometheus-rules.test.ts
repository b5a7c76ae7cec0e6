// The monitoring files of the production stack (deploy/): promtool checks the Prometheus config and the
// alert rules and runs their unit tests (rules.test.yml), which can fail; every alert is tested; and
// every gold metric the rules and the Grafana dashboard query is one that gold exports.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { openLake } from '../../src/lake/index.js';
import { goldMetrics } from '../../src/monitoring/metrics.js';
import { ViewFreshness } from '../../src/monitoring/view-freshness.js';
import { EmbeddedOnlineStore } from '../../src/online/embedded-store.js';
import { createServingMetrics } from '../../src/serving/metrics.js';
import { setLogLevel } from '../../src/shared/logger.js';
import { packageRoot } from '../../src/tools/binaries.js';
import { tempDir } from '../support/env.js';
import { runPromtool } from '../support/prometheus.js';

setLogLevel('silent');
const deploy = join(packageRoot, 'deploy');
const rules = readFileSync(join(deploy, 'prometheus', 'rules.yml'), 'utf8');
const ruleTests = readFileSync(join(deploy, 'prometheus', 'rules.test.yml'), 'utf8');
const dashboard = readFileSync(join(deploy, 'grafana', 'dashboards', 'gold.json'), 'utf8');

describe('Prometheus config and alert rules', () => {
  it('promtool finds the config and the rules valid', () => {
    const config = runPromtool(['check', 'config', join(deploy, 'prometheus', 'prometheus.yml')]);
    expect(config.output).toMatch(/SUCCESS: 10 rules found/);
    expect(config.code).toBe(0);
  });

  it('the rules pass their unit tests', () => {
    const r = runPromtool(['test', 'rules', 'rules.test.yml'], join(deploy, 'prometheus'));
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.code).toBe(0);
  });

  it('the unit tests catch a broken rule', () => {
    const dir = tempDir('gold-rules-');
    copyFileSync(join(deploy, 'prometheus', 'rules.test.yml'), join(dir, 'rules.test.yml'));
    // Stale only at twice the SLA: the test expecting the alert just past it must fail.
    const broken = rules.replace('> max by (view) (gold_view_freshness_sla_seconds)', '> 2 * max by (view) (gold_view_freshness_sla_seconds)');
    expect(broken).not.toBe(rules);
    writeFileSync(join(dir, 'rules.yml'), broken);
    const r = runPromtool(['test', 'rules', 'rules.test.yml'], dir);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/alertname: GoldViewStale/);
  });

  it('every alert has a test that expects it to fire', () => {
    const alerts = [...rules.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!);
    expect(alerts).toHaveLength(10);
    const expectedFiring = new Set([...ruleTests.matchAll(/alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels:/g)].map((m) => m[1]!));
    expect(alerts.filter((a) => !expectedFiring.has(a))).toEqual([]);
  });
});

describe('metric names in the rules and the dashboard', () => {
  const dir = tempDir('gold-rules-metrics-');
  const lake = openLake(join(dir, 'lake'), { s3CacheDir: join(dir, 'cache'), s3CacheMaxBytes: 1e9 });
  const store = new EmbeddedOnlineStore(join(dir, 'online'));
  afterAll(async () => {
    await store.close();
    await lake.close();
  });

  it('are all exported by the worker or the feature server', async () => {
    // As the worker (gold's registry) and the feature server (its own) register them.
    const worker = new ViewFreshness(goldMetrics().registry, { lake, online: { store, views: async () => [] }, slaSeconds: 60, refreshSeconds: 60 });
    const serving = createServingMetrics('embedded');
    const served = new ViewFreshness(serving.registry, { lake, online: { store, views: async () => [] }, slaSeconds: 60, refreshSeconds: 60 });
    await Promise.all([worker.stop(), served.stop()]);
    const exported = new Set<string>();
    for (const registry of [goldMetrics().registry, serving.registry] as Registry[]) {
      for (const m of await registry.getMetricsAsJSON()) {
        exported.add(m.name);
        if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(m.name + s);
      }
    }
    const queries = `${rules.replace(/^\s*#.*$/gm, '')}\n${dashboard}`;
    const queried = new Set([...queries.matchAll(/\bgold_[a-z0-9_]+/g)].map((m) => m[0]));
    expect(queried.size).toBeGreaterThanOrEqual(10);
    expect([...queried].filter((n) => !exported.has(n))).toEqual([]);
  });

  it('the dashboard is valid JSON on the provisioned datasource', () => {
    const d = JSON.parse(dashboard) as { uid: string; panels: { datasource: { uid: string }; targets: { expr: string }[] }[] };
    expect(d.uid).toBe('gold-overview');
    expect(d.panels.length).toBeGreaterThan(5);
    const datasource = readFileSync(join(deploy, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8');
    for (const p of d.panels) expect(datasource).toContain(`uid: ${p.datasource.uid}`);
  });
});
