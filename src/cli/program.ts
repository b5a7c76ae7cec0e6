// The `gold` command line: every command, with the global options.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { packageRoot } from '../tools/binaries.js';
import { registerBackfill } from './commands/backfill.js';
import { registerCompute } from './commands/compute.js';
import { registerConsistency } from './commands/consistency.js';
import { registerDemo } from './commands/demo.js';
import { registerDev } from './commands/dev.js';
import { registerDlq } from './commands/dlq.js';
import { registerDoctor } from './commands/doctor.js';
import { registerOnline } from './commands/online.js';
import { registerRegistry } from './commands/registry.js';
import { registerReport } from './commands/report.js';
import { registerRun } from './commands/run.js';
import { registerSchedule } from './commands/schedule.js';
import { registerServe } from './commands/serve.js';
import { registerSilver } from './commands/silver.js';
import { registerTrainingSet } from './commands/training-set.js';
import { registerWorker } from './commands/worker.js';
import { addGlobalOptions } from './context.js';

/** The version in package.json (read at run time: the compiled CLI lives in dist/). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/** With exitOverride, usage errors and --help throw a CommanderError instead of exiting (for tests). */
export function buildProgram(opts: { exitOverride?: boolean } = {}): Command {
  const program = addGlobalOptions(new Command('gold'));
  if (opts.exitOverride) program.exitOverride();
  program
    .description('gold: a durable silver-to-gold feature pipeline (Temporal + DuckDB)')
    // -V only: `--version` is a subcommand's option (registry show --version N), and root options win.
    .version(packageVersion(), '-V', "gold's version")
    .showHelpAfterError('(run with --help for usage)');
  program.configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `gold: ${s.slice(7)}` : s) });
  registerDev(program);
  registerWorker(program);
  registerDoctor(program);
  registerDemo(program);
  registerCompute(program);
  registerRun(program);
  registerBackfill(program);
  registerSchedule(program);
  registerDlq(program);
  registerReport(program);
  registerServe(program);
  registerOnline(program);
  registerSilver(program);
  registerTrainingSet(program);
  registerRegistry(program);
  registerConsistency(program);
  return program;
}
