// What every step of the pipeline needs, built once per worker process (or per in-process run).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../config/settings.js';
import { type EngineOptions, engineOptions } from '../engine/duckdb.js';
import { type Lake, openLake } from '../lake/index.js';
import { createLineageEmitter, type LineageEmitter } from '../lineage/emitter.js';
import { openOnlineStore } from '../online/open.js';
import type { OnlineStore } from '../online/store.js';

export interface StepContext {
  settings: Settings;
  lake: Lake;
  engine: EngineOptions;
  /** Local scratch space for staged files before they go to the lake. */
  scratchDir: string;
  /** The online store, opened on first use and kept for the process. */
  online(): OnlineStore;
  /** OpenLineage events of the steps (a no-op unless GOLD_OPENLINEAGE_URL or the lake log is set). */
  lineage: LineageEmitter;
  close(): Promise<void>;
}

export function createStepContext(settings: Settings): StepContext {
  let store: OnlineStore | undefined;
  const lake = openLake(settings.lake, settings);
  return {
    settings,
    lake,
    engine: engineOptions(settings),
    scratchDir: join(tmpdir(), 'gold-scratch'),
    online: () => (store ??= openOnlineStore(settings.onlineStore, settings.home)),
    lineage: createLineageEmitter(
      {
        url: settings.openlineageUrl,
        apiKey: settings.openlineageApiKey,
        namespace: settings.openlineageNamespace,
        lakeLog: settings.openlineageLakeLog,
      },
      lake,
    ),
    async close() {
      await store?.close();
      await lake.close();
    },
  };
}
