// Accepting a DLQ entry: a person decides that a partition which failed only soft checks (drift,
// outliers, skew: the data is valid, its distribution is in question) lands as it was staged, without
// recomputation. Refused when any hard check failed, when the entry is not a validation failure, or
// when the staged data is gone. Who accepted what and why is kept in the entry, the run record and the
// report.

import { commitPartition, committedFiles, type Lake, paths, readManifest } from '../lake/index.js';
import { readValidationReport } from '../monitoring/run-records.js';
import { SOFT_CHECKS } from '../quality/config.js';
import type { DlqEntry } from './entries.js';

export class DlqAcceptRefusedError extends Error {
  override name = 'DlqAcceptRefusedError';
}

export interface Acceptance {
  /** The staged partition that lands (lake key). */
  stagingPath: string;
  /** The soft checks that had failed, as their messages. */
  failedChecks: string[];
}

/** What an entry's acceptance would land, or why it cannot be accepted. */
export async function checkAcceptable(lake: Lake, entry: DlqEntry): Promise<Acceptance> {
  const refuse = (why: string) => new DlqAcceptRefusedError(`DLQ entry ${entry.id} cannot be accepted: ${why}`);
  if (entry.status === 'closed') throw refuse(`it is closed (by ${entry.closedBy ?? '?'} at ${entry.closedAt ?? '?'})`);
  if (entry.reason !== 'validation') throw refuse(`it failed with ${entry.reason}, not validation: there is no validated data to land (replay it instead)`);
  const report = await readValidationReport(lake, entry.date, entry.family, entry.runId);
  if (!report) throw refuse(`no validation report of run ${entry.runId} in lake ${lake.uri}`);
  const hard = report.failed.filter((c) => !SOFT_CHECKS.includes(c.check));
  if (hard.length > 0) throw refuse(`hard checks failed, which are never landed as they are: ${hard.map((c) => c.message).join('; ')}`);
  // Rows quarantined by that run stay out: the kept partition is the one that lands.
  const stagingPath = report.quarantine?.stagingPath ?? paths.staging(entry.family, entry.date, entry.runId);
  if (!(await committedFiles(lake, stagingPath))) throw refuse(`its staged data ${lake.uri}/${stagingPath} is no longer there`);
  return { stagingPath, failedChecks: report.failed.map((c) => c.message) };
}

/**
 * Stages an accepted partition under another run (the replay's), so that the families depending on it
 * read it like any staged family of that run. Idempotent: a partition already staged is kept.
 */
export async function stageAccepted(
  lake: Lake,
  o: { family: string; date: string; runId: string; fromPath: string },
): Promise<{ stagingPath: string; rows: number }> {
  const stagingPath = paths.staging(o.family, o.date, o.runId);
  const existing = await readManifest(lake, stagingPath);
  const source = existing ?? (await readManifest(lake, o.fromPath));
  if (!source) throw Object.assign(new Error(`accepted staged data ${lake.uri}/${o.fromPath} is not committed`), { nonRetryable: true, type: 'MissingInput' });
  const rows = Number(source.meta.rows ?? 0);
  if (existing) return { stagingPath, rows };
  const files = await Promise.all(source.files.map(async (f) => ({ localPath: await lake.localFile(`${o.fromPath}/${f.name}`) })));
  await commitPartition(lake, stagingPath, files, { ...source.meta, runId: o.runId, acceptedFrom: o.fromPath });
  return { stagingPath, rows };
}
