// Row quarantine: rows that break error-level row checks are moved to their own committed partition
// (with the checks they broke), and the rest are staged as a filtered partition that can go on to gold.
// Nothing is deleted: the original staged partition stays where it was.
import { join } from 'node:path';
import type { Engine } from '../engine/duckdb.js';
import { sqlIdent, sqlStr } from '../engine/duckdb.js';
import type { FamilyDecl } from '../features/types.js';
import { commitPartition, type Lake, paths } from '../lake/index.js';
import type { RowCheck } from './row-checks.js';

/** Where a family's quarantined rows of a run go. */
export function featureQuarantinePath(family: string, date: string, runId: string): string {
  return paths.join('quarantine', 'features', family, `feature_date=${date}`, `run=${runId}`);
}

/** The staged partition of the rows let through. */
export function filteredStagingPath(family: string, date: string, runId: string): string {
  return paths.staging(family, date, `${runId}-filtered`);
}

export interface QuarantineSplit {
  rows: number;
  keptRows: number;
  path: string;
  stagingPath: string;
  /** Local copy of the kept rows, to validate them further. */
  keptFile: string;
}

function checkLabel(c: RowCheck): string {
  return c.rule ? `rule:${c.rule.name}` : `${c.check}:${c.feature!.name}`;
}

export async function splitQuarantine(
  lake: Lake,
  db: Engine,
  a: { view: string; family: FamilyDecl; date: string; runId: string; checks: readonly RowCheck[]; scratchDir: string },
): Promise<QuarantineSplit> {
  const broken = a.checks.map((c) => c.predicate).join(' OR ');
  const reasons = `list_filter([${a.checks.map((c) => `CASE WHEN ${c.predicate} THEN ${sqlStr(checkLabel(c))} END`).join(', ')}], lambda r: r IS NOT NULL)`;
  const order = a.family.keys.map((k) => sqlIdent(k.name)).join(', ');
  const quarantined = join(a.scratchDir, 'quarantined.parquet');
  const kept = join(a.scratchDir, 'kept.parquet');
  await db.run(
    `COPY (SELECT *, ${reasons} AS quarantine_reasons FROM ${a.view} WHERE ${broken} ORDER BY ${order}) TO ${sqlStr(quarantined)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  await db.run(`COPY (SELECT * FROM ${a.view} WHERE NOT (${broken}) ORDER BY ${order}) TO ${sqlStr(kept)} (FORMAT parquet, COMPRESSION zstd)`);
  const counts = await db.one<{ q: number; k: number }>(
    `SELECT (SELECT count(*) FROM read_parquet(${sqlStr(quarantined)}))::BIGINT AS q, (SELECT count(*) FROM read_parquet(${sqlStr(kept)}))::BIGINT AS k`,
  );
  const meta = { family: a.family.name, version: a.family.version, date: a.date, runId: a.runId, checks: a.checks.map(checkLabel) };
  const path = featureQuarantinePath(a.family.name, a.date, a.runId);
  const stagingPath = filteredStagingPath(a.family.name, a.date, a.runId);
  await commitPartition(lake, path, [{ localPath: quarantined }], { ...meta, rows: counts.q });
  await commitPartition(lake, stagingPath, [{ localPath: kept }], { ...meta, rows: counts.k, quarantinedRows: counts.q });
  return { rows: counts.q, keptRows: counts.k, path, stagingPath, keptFile: kept };
}
