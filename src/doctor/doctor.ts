// `gold doctor`: a real end-to-end check of an installation. Each check says ok or why not.
import { randomBytes } from 'node:crypto';
import type { Settings } from '../config/settings.js';
import { openLake } from '../lake/index.js';
import { openOnlineStore } from '../online/open.js';
import { redactText } from '../shared/redact.js';
import { connectClient, workflowPollers } from '../temporal/connection.js';
import { RUN_KIND } from '../temporal/search-attributes.js';

export interface CheckResult {
  check: string;
  ok: boolean;
  detail: string;
}

async function timed(check: string, fn: () => Promise<string>): Promise<CheckResult> {
  const t0 = Date.now();
  try {
    const detail = await fn();
    return { check, ok: true, detail: `${detail} (${Date.now() - t0} ms)` };
  } catch (e) {
    return { check, ok: false, detail: redactText((e as Error).message.split('\n')[0]!) };
  }
}

export async function runDoctor(settings: Settings): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  results.push(
    await timed('lake writable', async () => {
      const lake = openLake(settings.lake, settings);
      try {
        const key = `_doctor/probe-${randomBytes(4).toString('hex')}`;
        await lake.write(key, 'ok');
        const back = (await lake.read(key)).toString();
        await lake.delete(key);
        if (back !== 'ok') throw new Error(`read back '${back}'`);
        return lake.uri;
      } finally {
        await lake.close();
      }
    }),
  );
  let client: Awaited<ReturnType<typeof connectClient>> | undefined;
  results.push(
    await timed('temporal reachable', async () => {
      client = await connectClient(settings, 3000);
      await client.workflowService.getSystemInfo({});
      return `${settings.temporalAddress} namespace ${settings.temporalNamespace}`;
    }),
  );
  if (client) {
    const c = client;
    const polled = await timed('worker polling', async () => {
      const n = await workflowPollers(c, settings.taskQueue);
      if (n === 0) throw new Error(`no worker polls task queue '${settings.taskQueue}' (start one: gold worker, or gold dev up)`);
      return `${n} poller(s) on '${settings.taskQueue}'`;
    });
    results.push(polled);
    if (polled.ok) {
      results.push(
        await timed('smoke workflow (DuckDB parquet in the lake)', async () => {
          const id = `gold-doctor-${Date.now()}-${randomBytes(3).toString('hex')}`;
          const r = await c.workflow.execute('smokeWorkflow', {
            taskQueue: settings.taskQueue,
            workflowId: id,
            args: [id],
            workflowExecutionTimeout: '2 minutes',
            typedSearchAttributes: [{ key: RUN_KIND, value: 'smoke' }],
          });
          const res = r as { rowsWritten: number; rowsRead: number; sumRead: number; lakePath: string };
          if (res.rowsRead !== res.rowsWritten || res.sumRead !== 999 * 1000) {
            throw new Error(`wrote ${res.rowsWritten} rows, read back ${res.rowsRead} (sum ${res.sumRead})`);
          }
          return `${res.rowsRead} rows round-tripped through ${res.lakePath}`;
        }),
      );
    } else {
      results.push({ check: 'smoke workflow (DuckDB parquet in the lake)', ok: false, detail: 'skipped: no worker' });
    }
    await c.connection.close();
  } else {
    // Said, not left out: a report without them would read as if they had not been needed.
    results.push({ check: 'worker polling', ok: false, detail: 'skipped: Temporal not reachable' });
    results.push({ check: 'smoke workflow (DuckDB parquet in the lake)', ok: false, detail: 'skipped: Temporal not reachable' });
  }
  results.push(
    await timed('online store reachable', async () => {
      const store = openOnlineStore(settings.onlineStore, settings.home);
      try {
        await store.ping();
        return `${store.kind} at ${store.location}`;
      } finally {
        await store.close();
      }
    }),
  );
  return results;
}
