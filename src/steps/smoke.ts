// The doctor's smoke step (an activity on the worker): a Parquet file written by DuckDB, committed to the lake, read back.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetScan, sqlStr, withEngine } from '../engine/duckdb.js';
import { commitPartition, committedFiles, deletePartition, paths } from '../lake/index.js';
import type { StepContext } from './context.js';

export interface SmokeResult {
  lakePath: string;
  rowsWritten: number;
  rowsRead: number;
  sumRead: number;
}

export function smokeSteps(ctx: StepContext) {
  return {
    async doctorSmoke(id: string): Promise<SmokeResult> {
      const prefix = paths.smoke(id);
      const dir = await mkdtemp(join(`${ctx.scratchDir}-`));
      try {
        const file = join(dir, 'smoke.parquet');
        return await withEngine(ctx.engine, async (db) => {
          await db.run(`COPY (SELECT range::BIGINT AS n, range * 2 AS twice FROM range(1000)) TO ${sqlStr(file)} (FORMAT parquet)`);
          await commitPartition(ctx.lake, prefix, [{ localPath: file }], { purpose: 'gold doctor' });
          const keys = (await committedFiles(ctx.lake, prefix)) ?? [];
          const local = await Promise.all(keys.map((k) => ctx.lake.localFile(k)));
          const r = await db.one<{ rows: number; total: number }>(`SELECT count(*)::BIGINT AS rows, sum(twice)::BIGINT AS total FROM ${parquetScan(local)}`);
          await deletePartition(ctx.lake, prefix);
          return { lakePath: `${ctx.lake.uri}/${prefix}`, rowsWritten: 1000, rowsRead: r.rows, sumRead: r.total };
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
