// The dead-letter queue: one JSON entry in the lake per family partition that could not land, saying
// why, where its data was kept (nothing is deleted) and a few offending rows. The id is derived from
// family, date and run, so that a retried DLQ activity writes the same entry once; entries live in the
// lake and so survive restarts. Closing an entry (after a replay landed) keeps it, marked closed.
import { createHash } from 'node:crypto';
import { type Lake, LakeNotFoundError, paths } from '../lake/index.js';
import { goldMetrics } from '../monitoring/metrics.js';
import { assertDate } from '../shared/dates.js';
import { logger } from '../shared/logger.js';

export const DLQ_REASONS = ['validation', 'retries_exhausted', 'error'] as const;
export type DlqReason = (typeof DLQ_REASONS)[number];
export type DlqStatus = 'open' | 'closed';

export interface DlqEntryInput {
  family: string;
  date: string;
  runId: string;
  workflowId?: string;
  reason: DlqReason;
  error: string;
  /** A few offending rows (at most 5 are kept, and at most ~16 KB of them). */
  sampleRows?: unknown[];
  /** Lake prefix where the rejected data was kept. */
  dataPath?: string;
}

export interface DlqReplay {
  workflowId: string;
  startedAt: string;
}

/** A person's decision to land the staged data as it is (only soft checks had failed). */
export interface DlqAcceptance {
  by: string;
  reason: string;
  at: string;
  /** The replay that lands it. */
  workflowId: string;
  /** The soft checks that had failed, as their messages. */
  failedChecks: string[];
}

export interface DlqEntry extends DlqEntryInput {
  id: string;
  status: DlqStatus;
  createdAt: string;
  closedAt?: string;
  closedBy?: string;
  replays: DlqReplay[];
  accepted?: DlqAcceptance;
}

export class DlqEntryNotFoundError extends Error {
  override name = 'DlqEntryNotFoundError';
}

const MAX_SAMPLE_ROWS = 5;
const MAX_SAMPLE_CHARS = 16_000;
const MAX_ERROR_CHARS = 4_000;
const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `<family>-<date>-<10 hex>`: the same for the same family, date and run. */
export function dlqEntryId(family: string, date: string, runId: string): string {
  const hash = createHash('sha256').update(`${family}\u0000${date}\u0000${runId}`).digest('hex').slice(0, 10);
  return `${family}-${date}-${hash}`;
}

/** The hash part of an entry id, for names that should stay short. */
export function shortDlqId(id: string): string {
  return id.slice(id.lastIndexOf('-') + 1);
}

function checkedId(id: string): string {
  if (!SAFE.test(id)) throw new Error(`invalid DLQ entry id '${id}'`);
  return id;
}

/** JSON-safe rows (bigints as text), as many of the first 5 as fit in the size limit. */
function boundedSample(rows: readonly unknown[]): unknown[] {
  const safe = JSON.parse(JSON.stringify(rows.slice(0, MAX_SAMPLE_ROWS), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as unknown[];
  while (safe.length > 0 && JSON.stringify(safe).length > MAX_SAMPLE_CHARS) safe.pop();
  return safe;
}

function validateInput(e: DlqEntryInput): void {
  if (!SAFE.test(e.family)) throw new Error(`invalid DLQ family '${e.family}'`);
  assertDate(e.date);
  if (!SAFE.test(e.runId)) throw new Error(`invalid DLQ run id '${e.runId}'`);
  if (!DLQ_REASONS.includes(e.reason)) throw new Error(`invalid DLQ reason '${e.reason}': expected ${DLQ_REASONS.join(', ')}`);
  if (typeof e.error !== 'string' || e.error.trim() === '') throw new Error('a DLQ entry needs an error message');
}

/** Adds an entry unless the same family, date and run already has one; returns its id either way. */
export async function addDlqEntry(lake: Lake, input: DlqEntryInput): Promise<string> {
  validateInput(input);
  const id = dlqEntryId(input.family, input.date, input.runId);
  const entry: DlqEntry = {
    id,
    family: input.family,
    date: input.date,
    runId: input.runId,
    ...(input.workflowId ? { workflowId: input.workflowId } : {}),
    reason: input.reason,
    error: input.error.length > MAX_ERROR_CHARS ? `${input.error.slice(0, MAX_ERROR_CHARS)}...` : input.error,
    ...(input.sampleRows ? { sampleRows: boundedSample(input.sampleRows) } : {}),
    ...(input.dataPath ? { dataPath: input.dataPath } : {}),
    status: 'open',
    createdAt: new Date().toISOString(),
    replays: [],
  };
  const created = await lake.writeIfAbsent(paths.dlqEntry(id), JSON.stringify(entry, null, 1));
  if (created) {
    goldMetrics().dlqEntries.inc({ family: input.family, reason: input.reason });
    logger().warn(
      { dlqEntryId: id, family: input.family, date: input.date, runId: input.runId, reason: input.reason, dataPath: input.dataPath },
      `DLQ entry added: ${input.error.split('\n')[0]}`,
    );
  }
  return id;
}

export async function getDlq(lake: Lake, id: string): Promise<DlqEntry> {
  let raw: Buffer;
  try {
    raw = await lake.read(paths.dlqEntry(checkedId(id)));
  } catch (e) {
    if (e instanceof LakeNotFoundError) throw new DlqEntryNotFoundError(`no DLQ entry '${id}' in lake ${lake.uri} (gold dlq list shows them)`);
    throw e;
  }
  try {
    return JSON.parse(raw.toString('utf8')) as DlqEntry;
  } catch {
    throw new Error(`corrupt DLQ entry ${paths.dlqEntry(id)} in lake ${lake.uri}`);
  }
}

/** Entries, newest first, optionally only open or closed ones, of a family or a date. */
export async function listDlq(lake: Lake, filter: { status?: DlqStatus; family?: string; date?: string } = {}): Promise<DlqEntry[]> {
  const keys = (await lake.list(paths.dlq)).map((e) => e.key).filter((k) => k.endsWith('.json') && !k.slice(paths.dlq.length + 1).includes('/'));
  const entries = await Promise.all(keys.map((k) => getDlq(lake, k.slice(paths.dlq.length + 1, -'.json'.length))));
  if (!filter.status && !filter.family && !filter.date) goldMetrics().dlqOpen.set(entries.filter((e) => e.status === 'open').length);
  return entries
    .filter((e) => (!filter.status || e.status === filter.status) && (!filter.family || e.family === filter.family) && (!filter.date || e.date === filter.date))
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id.localeCompare(b.id)));
}

async function update(lake: Lake, id: string, change: (e: DlqEntry) => DlqEntry | undefined): Promise<DlqEntry> {
  const e = await getDlq(lake, id);
  const next = change(e);
  if (!next) return e;
  await lake.write(paths.dlqEntry(id), JSON.stringify(next, null, 1));
  return next;
}

/** Marks an entry closed (its family and date landed); closing a closed entry changes nothing. */
export async function closeDlqEntry(lake: Lake, id: string, by: { closedBy: string }): Promise<DlqEntry> {
  if (!by.closedBy.trim()) throw new Error('closing a DLQ entry needs closedBy (a run id or a person)');
  const closed = await update(lake, id, (e) =>
    e.status === 'closed' ? undefined : { ...e, status: 'closed', closedAt: new Date().toISOString(), closedBy: by.closedBy },
  );
  logger().info({ dlqEntryId: id, closedBy: closed.closedBy }, 'DLQ entry closed');
  return closed;
}

/** A family that landed settles the open entries of its date, whichever run (or replay) made them. */
export async function settleDlqEntries(lake: Lake, date: string, familiesLanded: readonly string[], runId: string): Promise<void> {
  for (const family of familiesLanded) {
    for (const entry of await listDlq(lake, { status: 'open', family, date })) await closeDlqEntry(lake, entry.id, { closedBy: runId });
  }
}

/** Remembers that a replay workflow was started for the entry, and the acceptance it carries out if any. */
export async function recordDlqReplay(lake: Lake, id: string, replay: DlqReplay, accepted?: DlqAcceptance): Promise<DlqEntry> {
  const next = await update(lake, id, (e) => ({ ...e, replays: [...e.replays, replay], ...(accepted ? { accepted } : {}) }));
  if (accepted)
    logger().warn(
      { dlqEntryId: id, acceptedBy: accepted.by, reason: accepted.reason, workflowId: accepted.workflowId },
      'DLQ entry accepted: its staged data lands as it is',
    );
  return next;
}
