import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineOptions } from '../engine/duckdb.js';
import type { Lake } from '../lake/index.js';

/** What feature computation needs: the lake, DuckDB limits, local scratch space. */
export interface FeatureContext {
  lake: Lake;
  engine: EngineOptions;
  scratchDir: string;
}

/** A fresh folder under the scratch space, for one unit of work (the caller removes it). */
export async function scratchFolder(ctx: Pick<FeatureContext, 'scratchDir'>, label: string): Promise<string> {
  await mkdir(ctx.scratchDir, { recursive: true });
  return mkdtemp(join(ctx.scratchDir, `${label}-`));
}
