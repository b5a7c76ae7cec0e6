// The local stack of `gold dev up|down|status`: a Temporal dev server (state in a file under .gold/,
// Web UI on the frontend port + 1000, 8233 by default, the product's search attributes registered) and one worker, both in the
// background; their pids are recorded so that `down` stops exactly what `up` started.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Settings, settingsEnv } from '../config/settings.js';
import { connectClient, temporalReachable, webUiUrl, workflowPollers } from '../temporal/connection.js';
import { SEARCH_ATTRIBUTE_FLAGS } from '../temporal/search-attributes.js';
import { packageRoot, temporalCli } from '../tools/binaries.js';

export interface StackState {
  temporal?: { pid: number; address: string; uiPort: number; dbFile: string; log: string };
  worker?: { pid: number; taskQueue: string; log: string };
}

export interface StackStatus {
  temporal: { running: boolean; pid?: number; address: string; reachable: boolean; ui?: string; startedByGold: boolean };
  worker: { running: boolean; pid?: number; pollers: number; startedByGold: boolean };
}

/** The Temporal CLI's own convention: the Web UI on the frontend port + 1000 (7233 -> 8233). */
export function uiPortFor(address: string): number {
  return port(address) + 1000;
}

const stateFile = (s: Settings) => join(s.home, 'stack.json');

export function readState(s: Settings): StackState {
  try {
    return JSON.parse(readFileSync(stateFile(s), 'utf8')) as StackState;
  } catch {
    return {};
  }
}

function writeState(s: Settings, state: StackState): void {
  mkdirSync(s.home, { recursive: true });
  writeFileSync(stateFile(s), JSON.stringify(state, null, 2));
}

export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, logFile?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail = logFile && existsSync(logFile) ? `; last log lines:\n${readFileSync(logFile, 'utf8').split('\n').slice(-8).join('\n')}` : '';
  throw new Error(`${what} not ready after ${timeoutMs / 1000}s${tail}`);
}

/** The last non-empty line of a log, for an error's first line (the CLI shows only that). */
function lastLogLine(logFile: string): string {
  const lines = existsSync(logFile)
    ? readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
    : [];
  return lines.at(-1)?.slice(0, 500) ?? 'no output';
}

function port(address: string): number {
  return Number(address.split(':').pop());
}

export async function stackUp(s: Settings, log: (m: string) => void = () => undefined): Promise<StackStatus> {
  const state = readState(s);
  const logs = join(s.home, 'logs');
  mkdirSync(logs, { recursive: true });

  if (!(state.temporal && alive(state.temporal.pid))) {
    if (await temporalReachable(s.temporalAddress)) {
      log(`a Temporal server already answers on ${s.temporalAddress}; using it`);
    } else {
      const dbFile = join(s.home, 'temporal.db');
      const logFile = join(logs, 'temporal.log');
      const args = [
        'server',
        'start-dev',
        '--ip',
        s.temporalAddress.split(':')[0]!,
        '--port',
        String(port(s.temporalAddress)),
        '--ui-port',
        String(uiPortFor(s.temporalAddress)),
        '--db-filename',
        dbFile,
        '--namespace',
        s.temporalNamespace,
        '--log-level',
        'warn',
        ...SEARCH_ATTRIBUTE_FLAGS.flatMap((a) => ['--search-attribute', a]),
      ];
      const out = openSync(logFile, 'a');
      const child = spawn(temporalCli(), args, { detached: true, stdio: ['ignore', out, out] });
      child.unref();
      state.temporal = { pid: child.pid!, address: s.temporalAddress, uiPort: uiPortFor(s.temporalAddress), dbFile, log: logFile };
      writeState(s, state);
      log(`starting Temporal dev server (pid ${child.pid}, state ${dbFile})`);
      await waitFor(
        'Temporal dev server',
        60_000,
        async () => {
          // Exited (a port in use, a locked state file): say why at once, in the first line.
          if (!alive(child.pid)) throw new Error(`the Temporal dev server exited at start: ${lastLogLine(logFile)} (log: ${logFile})`);
          return temporalReachable(s.temporalAddress);
        },
        logFile,
      );
    }
  }

  if (!(state.worker && alive(state.worker.pid))) {
    const logFile = join(logs, 'worker.log');
    const out = openSync(logFile, 'a');
    const child = spawn(process.execPath, [join(packageRoot, 'bin', 'gold.js'), 'worker'], {
      detached: true,
      stdio: ['ignore', out, out],
      // biome-ignore lint/style/noProcessEnv: the worker inherits this process's environment (PATH, AWS credentials) with the settings on top
      env: { ...process.env, ...settingsEnv(s) },
    });
    child.unref();
    state.worker = { pid: child.pid!, taskQueue: s.taskQueue, log: logFile };
    writeState(s, state);
    log(`starting worker (pid ${child.pid}, task queue ${s.taskQueue}, log ${logFile})`);
    const client = await connectClient(s);
    try {
      await waitFor(
        'gold worker',
        60_000,
        async () => {
          if (!alive(child.pid)) throw new Error(`the worker exited at start: ${lastLogLine(logFile)} (log: ${logFile})`);
          // Its own pollers: another stack's worker on the same queue says nothing about this one.
          return (await workflowPollers(client, s.taskQueue, child.pid)) > 0;
        },
        logFile,
      );
    } finally {
      await client.connection.close();
    }
  }
  return stackStatus(s);
}

async function stop(pid: number, timeoutMs: number): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(-pid, 'SIGTERM'); // the whole process group: detached children lead their own
  } catch {
    process.kill(pid, 'SIGTERM');
  }
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      process.kill(pid, 'SIGKILL');
    }
  }
}

export async function stackDown(s: Settings, log: (m: string) => void = () => undefined): Promise<void> {
  const state = readState(s);
  if (state.worker) {
    log(`stopping worker (pid ${state.worker.pid})`);
    await stop(state.worker.pid, 35_000);
  }
  if (state.temporal) {
    log(`stopping Temporal dev server (pid ${state.temporal.pid})`);
    await stop(state.temporal.pid, 15_000);
  }
  rmSync(stateFile(s), { force: true });
}

export async function stackStatus(s: Settings): Promise<StackStatus> {
  const state = readState(s);
  const reachable = await temporalReachable(s.temporalAddress);
  let pollers = 0;
  if (reachable) {
    const client = await connectClient(s);
    try {
      pollers = await workflowPollers(client, s.taskQueue);
    } finally {
      await client.connection.close();
    }
  }
  return {
    temporal: {
      running: alive(state.temporal?.pid) || reachable,
      pid: alive(state.temporal?.pid) ? state.temporal?.pid : undefined,
      address: s.temporalAddress,
      reachable,
      ui: reachable ? webUiUrl(state.temporal?.uiPort ?? uiPortFor(s.temporalAddress), s.temporalNamespace) : undefined,
      startedByGold: alive(state.temporal?.pid),
    },
    worker: {
      running: alive(state.worker?.pid) || pollers > 0,
      pid: alive(state.worker?.pid) ? state.worker?.pid : undefined,
      pollers,
      startedByGold: alive(state.worker?.pid),
    },
  };
}
