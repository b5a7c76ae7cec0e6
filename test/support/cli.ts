// The whole `gold` command line run in this process with its output captured, for CLI tests that do
// not need a process of their own.
import { CommanderError } from 'commander';
import { vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';

export interface CliRun {
  out: string;
  err: string;
  code: number;
}

export async function runGold(...args: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  process.exitCode = 0;
  let code = 0;
  try {
    await buildProgram({ exitOverride: true }).parseAsync(['node', 'gold', ...args]);
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = e.exitCode;
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    process.exitCode = 0;
  }
  return { out, err, code };
}
