import type { Command } from 'commander';
import { runDoctor } from '../../doctor/doctor.js';
import { stackUp } from '../../dev/stack.js';
import { renderStatus } from './dev.js';
import { action, output, settingsFrom } from '../context.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description("the README's main job: the local stack up, then an end-to-end check")
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const s = settingsFrom(cmd);
        const st = await stackUp(s, (m) => process.stderr.write(`${m}\n`));
        const checks = await runDoctor(s);
        output(cmd, { stack: st, checks }, () =>
          [renderStatus(st), '', ...checks.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.check}: ${r.detail}`)].join('\n'),
        );
        if (checks.some((r) => !r.ok)) process.exitCode = 1;
      }),
    );
}
