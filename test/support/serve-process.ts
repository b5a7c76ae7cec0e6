// `gold serve` as a process of its own (the built CLI), for tests of what it logs and of its memory
// under load: its address once listening, everything it wrote to stderr, its resident memory.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/tools/binaries.js';
import { stopChild } from './servers.js';

export interface ServeProcess {
  address: string;
  child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resident memory now and its peak so far, in MB (/proc/<pid>/status). */
  memory(): { rssMb: number; peakMb: number };
  stop(): Promise<void>;
}

export async function startServeProcess(env: Record<string, string>, args: string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, [join(packageRoot, 'bin', 'gold.js'), 'serve', '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`gold serve did not start in 30 s:\n${err}`)), 30_000);
    const check = () => {
      const m = /serving online features on (\S+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`gold serve exited (${code}):\n${err}`));
    });
  });
  const kb = (status: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return {
    address,
    child,
    stderr: () => err,
    memory: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return { rssMb: kb(status, 'VmRSS') / 1024, peakMb: kb(status, 'VmHWM') / 1024 };
    },
    stop: () => stopChild(child),
  };
}
