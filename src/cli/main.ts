// The `gold` command line.
import { Command } from 'commander';
import { addGlobalOptions } from './context.js';
import { registerDev } from './commands/dev.js';
import { registerDoctor } from './commands/doctor.js';
import { registerWorker } from './commands/worker.js';
import { registerDemo } from './commands/demo.js';

export function buildProgram(): Command {
  const program = addGlobalOptions(new Command('gold'))
    .description('gold: a durable silver-to-gold feature pipeline (Temporal + DuckDB)')
    .showHelpAfterError('(run with --help for usage)');
  program.configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `gold: ${s.slice(7)}` : s) });
  registerDev(program);
  registerWorker(program);
  registerDoctor(program);
  registerDemo(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
