// What every activity needs, built once per worker process.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../src/config/settings.js';
import type { EngineOptions } from '../src/engine/duckdb.js';
import { openLake, type Lake } from '../src/lake/index.js';

export interface ActivityContext {
  settings: Settings;
  lake: Lake;
  engine: EngineOptions;
  /** Local scratch space for staged files before they go to the lake. */
  scratchDir: string;
}

export function createActivityContext(settings: Settings): ActivityContext {
  return {
    settings,
    lake: openLake(settings.lake, settings),
    engine: { threads: settings.duckdbThreads, memoryLimit: settings.duckdbMemory, tempDir: join(settings.home, 'tmp', 'duckdb') },
    scratchDir: join(tmpdir(), 'gold-scratch'),
  };
}
