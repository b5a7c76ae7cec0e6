// Run records and validation reports, kept in the lake next to each other per feature date, so that the
// report page, monitoring and people can read what a run did after the fact:
//   runs/feature_date=D/<runId>.json                       one record per run
//   runs/feature_date=D/validation/<family>/<runId>.json    the validation report of a family in that run

import { type Lake, LakeNotFoundError, paths, safeSegment } from '../lake/index.js';
import type { ValidationReport } from '../quality/report.js';
import { assertDate } from '../shared/dates.js';
import { observeRun } from './metrics.js';
import type { RunRecord } from './run-record.js';

export function runRecordKey(date: string, runId: string): string {
  return paths.join(paths.runs(assertDate(date)), `${safeSegment('run id', runId)}.json`);
}

export function validationReportKey(date: string, family: string, runId: string): string {
  return paths.join(paths.runs(assertDate(date)), 'validation', safeSegment('family', family), `${safeSegment('run id', runId)}.json`);
}

/** Stores a run's record (replacing the same run's earlier one) and counts it in the metrics. */
export async function writeRunMetrics(lake: Lake, date: string, runId: string, record: RunRecord): Promise<string> {
  if (record.date !== date || record.runId !== runId) throw new Error(`run record of ${record.date}/${record.runId} written as ${date}/${runId}`);
  const key = runRecordKey(date, runId);
  // A retried recordRun (monitoring failed after the write) rewrites the record but counts the run once.
  const counted = await lake.exists(key);
  await lake.write(key, JSON.stringify(record, null, 1));
  if (!counted) observeRun(record);
  return key;
}

async function readJson<T>(lake: Lake, key: string): Promise<T> {
  const raw = await lake.read(key);
  try {
    return JSON.parse(raw.toString('utf8')) as T;
  } catch {
    throw new Error(`corrupt JSON in lake ${lake.uri}: ${key}`);
  }
}

/** Every run record of a date, oldest first. */
export async function readRunRecords(lake: Lake, date: string): Promise<RunRecord[]> {
  const prefix = paths.runs(assertDate(date));
  const keys = (await lake.list(prefix)).map((e) => e.key).filter((k) => !k.slice(prefix.length + 1).includes('/') && k.endsWith('.json'));
  const records = await Promise.all(keys.map((k) => readJson<RunRecord>(lake, k)));
  return records.sort((a, b) => a.startedAt - b.startedAt);
}

/** Stores a validation report under its date, family and run id; returns the key. */
export async function writeValidationReport(lake: Lake, report: ValidationReport): Promise<string> {
  if (!report.runId) throw new Error(`the validation report of ${report.family} for ${report.date} has no run id; it cannot be stored`);
  const key = validationReportKey(report.date, report.family, report.runId);
  await lake.write(key, JSON.stringify(report));
  return key;
}

/** The validation report of a family in one run, or null when that run stored none. */
export async function readValidationReport(lake: Lake, date: string, family: string, runId: string): Promise<ValidationReport | null> {
  try {
    return await readJson<ValidationReport>(lake, validationReportKey(date, family, runId));
  } catch (e) {
    if (e instanceof LakeNotFoundError) return null;
    throw e;
  }
}

/** The latest validation report of each family for a date (by validation time), by family name. */
export async function latestValidationReports(lake: Lake, date: string, family?: string): Promise<Map<string, ValidationReport>> {
  const prefix = paths.join(paths.runs(assertDate(date)), 'validation', ...(family ? [safeSegment('family', family)] : []));
  const keys = (await lake.list(prefix)).map((e) => e.key).filter((k) => k.endsWith('.json'));
  const out = new Map<string, ValidationReport>();
  for (const r of await Promise.all(keys.map((k) => readJson<ValidationReport>(lake, k)))) {
    const seen = out.get(r.family);
    if (!seen || seen.validatedAt < r.validatedAt) out.set(r.family, r);
  }
  return out;
}
