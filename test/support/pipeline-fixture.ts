// A small lake built by the real pipeline, for end-to-end tests of what reads gold and the online
// store: three days of random silver ending two days ago, then `gold run daily --local` for the last
// two (every family committed and materialized to the embedded store under `home`). Registers its own
// beforeAll/afterAll in the calling describe block.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, vi } from 'vitest';
import { Engine } from '../../src/engine/duckdb.js';
import { openLake } from '../../src/lake/index.js';
import { addDays } from '../../src/shared/dates.js';
import { runGold } from './cli.js';
import { tempDir } from './env.js';
import { writeRandomSilver } from './silver-fixture.js';

export interface PipelineFixture {
  home: string;
  lakeDir: string;
  /** The two feature dates computed, oldest first. */
  D1: string;
  D2: string;
  /** `gold` against this lake and its embedded store. */
  gold: (...args: string[]) => ReturnType<typeof runGold>;
}

export function pipelineFixture(name: string, seed: number): PipelineFixture {
  const start = addDays(new Date().toISOString().slice(0, 10), -4);
  const home = tempDir(`gold-${name}-home-`);
  const lakeDir = join(home, 'lake');
  const f: PipelineFixture = {
    home,
    lakeDir,
    D1: addDays(start, 1),
    D2: addDays(start, 2),
    gold: (...args) => runGold('--lake', lakeDir, '--online-store', 'embedded', '--log-level', 'error', ...args),
  };
  beforeAll(async () => {
    vi.stubEnv('GOLD_HOME', home);
    const lake = openLake(lakeDir, { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
    await writeRandomSilver(lake, db, { seed, start, days: 3, sessions: 300, users: 30, videos: 20, emptyDays: [] });
    db.close();
    await lake.close();
    for (const date of [f.D1, f.D2]) {
      const r = await f.gold('run', 'daily', '--local', '--date', date);
      expect(r.code, r.err).toBe(0);
    }
  });
  afterAll(() => {
    vi.unstubAllEnvs();
    rmSync(home, { recursive: true, force: true });
  });
  return f;
}
