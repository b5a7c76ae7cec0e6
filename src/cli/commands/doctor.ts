import type { Command } from 'commander';
import { runDoctor } from '../../doctor/doctor.js';
import { action, output, settingsFrom } from '../context.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check an installation end to end: lake, Temporal, a worker, a smoke workflow, the online store')
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const results = await runDoctor(settingsFrom(cmd));
        output(cmd, results, () => results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.check}: ${r.detail}`).join('\n'));
        if (results.some((r) => !r.ok)) process.exitCode = 1;
      }),
    );
}
