import type { Command } from 'commander';
import { type StackStatus, stackDown, stackStatus, stackUp } from '../../dev/stack.js';
import { action, output, settingsFrom } from '../context.js';

export function renderStatus(st: StackStatus): string {
  const t = st.temporal;
  const w = st.worker;
  return [
    `temporal: ${t.reachable ? 'running' : 'not running'} at ${t.address}${t.pid ? ` (pid ${t.pid})` : ''}`,
    ...(t.ui ? [`web ui:   ${t.ui}`] : []),
    `worker:   ${w.running ? 'running' : 'not running'}${w.pid ? ` (pid ${w.pid})` : ''}, ${w.pollers} poller(s)`,
  ].join('\n');
}

export function registerDev(program: Command): void {
  const dev = program.command('dev').description('the local stack: Temporal dev server with its Web UI, and a worker');
  dev
    .command('up')
    .description('start the local stack in the background (a second up is a no-op)')
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const s = settingsFrom(cmd);
        const st = await stackUp(s, (m) => process.stderr.write(`${m}\n`));
        output(cmd, st, () => renderStatus(st));
      }),
    );
  dev
    .command('down')
    .description('stop what `gold dev up` started')
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const s = settingsFrom(cmd);
        await stackDown(s, (m) => process.stderr.write(`${m}\n`));
        output(cmd, { stopped: true }, () => 'stopped');
      }),
    );
  dev
    .command('status')
    .description('show what runs')
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const st = await stackStatus(settingsFrom(cmd));
        output(cmd, st, () => renderStatus(st));
      }),
    );
}
