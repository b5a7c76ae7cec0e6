// Shared plumbing of the CLI commands: settings from the global flags, output as text or JSON, and
// one-line failures.
import { userInfo } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import { loadSettings, type Settings } from '../config/settings.js';
import { FAMILIES } from '../features/families/index.js';
import { type Lake, openLake, safeSegment } from '../lake/index.js';
import type { QualityConfig } from '../quality/config.js';
import { setLogLevel } from '../shared/logger.js';
import { redactText } from '../shared/redact.js';

export interface GlobalFlags {
  lake?: string;
  temporalAddress?: string;
  namespace?: string;
  taskQueue?: string;
  onlineStore?: string;
  logLevel?: string;
  json?: boolean;
}

export function addGlobalOptions(cmd: Command): Command {
  return cmd
    .option('--lake <uri>', 'lake root: a path, file://... or s3://bucket/prefix (env GOLD_LAKE)')
    .option('--temporal-address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS)')
    .option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE)')
    .option('--task-queue <name>', 'task queue (env GOLD_TASK_QUEUE)')
    .option('--online-store <url>', "'embedded' or redis://... (env GOLD_ONLINE_STORE)")
    .option('--log-level <level>', 'log level (env GOLD_LOG_LEVEL)')
    .option('--json', 'print results as JSON');
}

export function globals(cmd: Command): GlobalFlags {
  return cmd.optsWithGlobals<GlobalFlags>();
}

export function settingsFrom(cmd: Command): Settings {
  const f = globals(cmd);
  const s = loadSettings({
    lake: f.lake,
    temporalAddress: f.temporalAddress,
    temporalNamespace: f.namespace,
    taskQueue: f.taskQueue,
    onlineStore: f.onlineStore,
    logLevel: f.logLevel,
  });
  setLogLevel(s.logLevel);
  return s;
}

/** Prints a result: JSON with --json, otherwise the human rendering. */
export function output(cmd: Command, result: unknown, human: () => string): void {
  process.stdout.write(globals(cmd).json ? `${JSON.stringify(result, null, 2)}\n` : `${human()}\n`);
}

export class CliError extends Error {
  override name = 'CliError';
}

/** Wraps an action so that any failure is one line on stderr and a non-zero exit. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      process.stderr.write(`gold: ${redactText(msg.split('\n')[0]!)}\n`);
      process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
    }
  };
}

// Option parsers throw commander's InvalidArgumentError, which it reports as a one-line usage error.
export function parseDate(value: string): string {
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(value) ||
    Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ||
    new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value
  ) {
    throw new InvalidArgumentError(`invalid date '${value}': expected YYYY-MM-DD`);
  }
  return value;
}

/** --from and --to, both given and in order. */
export function requireRange(from: string | undefined, to: string | undefined): { from: string; to: string } {
  if (!from || !to) throw new CliError('--from and --to are required');
  if (from > to) throw new CliError(`--from ${from} is after --to ${to}`);
  return { from, to };
}

/** A comma-separated list of declared family names (each one checked, so that a typo fails here, before any run starts). */
export function parseFamilies(value: string): string[] {
  const names = value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError(`invalid --families '${value}': expected a comma-separated list of families`);
  const unknown = names.filter((n) => !FAMILIES.some((f) => f.name === n));
  if (unknown.length > 0)
    throw new InvalidArgumentError(
      `unknown feature famil${unknown.length > 1 ? 'ies' : 'y'} ${unknown.map((n) => `'${n}'`).join(', ')} (families: ${FAMILIES.map((f) => f.name).join(', ')})`,
    );
  return names;
}

/** A run id: one folder name in the lake (it names the staging partition). */
export function parseRunId(value: string): string {
  try {
    return safeSegment('--run-id', value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export function parsePositiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`invalid ${name} '${value}': expected a positive whole number`);
    return n;
  };
}

/** The validation overrides of a run, as flags: `run daily`, `backfill` and `schedule create` share them. */
export function addQualityOptions(cmd: Command): Command {
  return cmd
    .option(
      '--drift-warn-only',
      'drift checks (PSI, KS, JS, mean and row-count change) never fail a family, even where its declaration makes them block; they still warn and alert',
    )
    .option(
      '--quarantine-rows',
      'rows that break a row check (nulls, ranges, allowed values, declared rules) go to the quarantine and the rest lands, instead of failing the family',
    );
}

export function qualityFrom(o: { driftWarnOnly?: boolean; quarantineRows?: boolean }): QualityConfig | undefined {
  const q: QualityConfig = { ...(o.driftWarnOnly ? { driftWarnOnly: true } : {}), ...(o.quarantineRows ? { quarantineRows: true } : {}) };
  return Object.keys(q).length ? q : undefined;
}

/** Runs fn with the lake of the command's settings, closed afterwards. */
export async function withLake<T>(cmd: Command, fn: (lake: Lake) => Promise<T>): Promise<T> {
  const s = settingsFrom(cmd);
  const lake = openLake(s.lake, s);
  try {
    return await fn(lake);
  } finally {
    await lake.close();
  }
}

/** Who runs the command, for the records it writes (`--by`); 'cli' where the OS has no name for the user (a container's arbitrary uid). */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'cli';
  }
}
