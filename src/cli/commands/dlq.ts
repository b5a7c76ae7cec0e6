import { type Command, InvalidArgumentError } from 'commander';
import { checkAcceptable, closeDlqEntry, type DlqEntry, type DlqStatus, getDlq, listDlq, recordDlqReplay } from '../../dlq/index.js';
import { withClient } from '../../temporal/connection.js';
import { startReplay } from '../../temporal/workflows.js';
import { action, CliError, currentUser, output, parseDate, settingsFrom, withLake } from '../context.js';
import { uiLink } from '../render.js';

function parseStatus(v: string): DlqStatus | 'all' {
  if (v !== 'open' && v !== 'closed' && v !== 'all') throw new InvalidArgumentError(`invalid --status '${v}': expected open, closed or all`);
  return v;
}

function oneLine(s: string, max: number): string {
  const line = s.split('\n')[0]!;
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

function describeEntry(e: DlqEntry): string {
  const lines = [
    `${e.id}  ${e.status.toUpperCase()}`,
    `  family      ${e.family}`,
    `  date        ${e.date}`,
    `  reason      ${e.reason}`,
    `  run         ${e.runId}${e.workflowId ? ` (workflow ${e.workflowId})` : ''}`,
    `  created     ${e.createdAt}`,
    ...(e.closedAt ? [`  closed      ${e.closedAt} by ${e.closedBy}`] : []),
    ...(e.dataPath ? [`  data kept   ${e.dataPath}`] : []),
    `  error       ${e.error}`,
    ...e.replays.map((r) => `  replayed    ${r.startedAt} as ${r.workflowId}`),
    ...(e.accepted ? [`  accepted    ${e.accepted.at} by ${e.accepted.by}: ${e.accepted.reason} (lands as it is in ${e.accepted.workflowId})`] : []),
  ];
  if (e.sampleRows?.length) lines.push('  sample rows', ...e.sampleRows.map((r) => `    ${JSON.stringify(r)}`));
  return lines.join('\n');
}

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description('the dead-letter queue of feature partitions that could not land');

  dlq
    .command('list')
    .description('list entries, newest first')
    .option('--status <status>', 'open, closed or all', parseStatus, 'open')
    .option('--family <name>', 'only this family')
    .option('--date <date>', 'only this feature date (YYYY-MM-DD)', parseDate)
    .action(
      action(async (opts: { status: DlqStatus | 'all'; family?: string; date?: string }, cmd: Command) => {
        const entries = await withLake(cmd, (lake) =>
          listDlq(lake, { status: opts.status === 'all' ? undefined : opts.status, family: opts.family, date: opts.date }),
        );
        output(cmd, entries, () =>
          entries.length === 0
            ? `no ${opts.status === 'all' ? '' : `${opts.status} `}DLQ entries`
            : entries
                .map((e) => `${e.id.padEnd(44)} ${e.status.padEnd(6)} ${e.reason.padEnd(17)} ${e.createdAt.slice(0, 19)}  ${oneLine(e.error, 80)}`)
                .join('\n'),
        );
      }),
    );

  dlq
    .command('show <id>')
    .description('show an entry: why it failed, where its data was kept, sample rows, replays')
    .action(
      action(async (id: string, _opts: unknown, cmd: Command) => {
        const e = await withLake(cmd, (lake) => getDlq(lake, id));
        output(cmd, e, () => describeEntry(e));
      }),
    );

  dlq
    .command('replay <id>')
    .description("start the daily workflow for the entry's family and date (run kind 'replay'); it closes the entry when the family lands")
    .option(
      '--accept',
      "land the entry's staged data as it is, without recomputing it: only when soft checks alone failed (drift, outliers, skew, constant values); needs --reason",
    )
    .option('--reason <text>', 'why it is accepted (kept in the entry, the run record and the report)')
    .option('--by <name>', 'who accepts it', currentUser())
    .action(
      action(async (id: string, opts: { accept?: boolean; reason?: string; by: string }, cmd: Command) => {
        if (opts.accept && !opts.reason?.trim()) throw new CliError('--accept needs --reason: say why the data lands as it is');
        if (!opts.accept && opts.reason !== undefined) throw new CliError('--reason goes with --accept');
        const s = settingsFrom(cmd);
        const result = await withLake(cmd, async (lake) => {
          const entry = await getDlq(lake, id);
          const acceptance = opts.accept ? await checkAcceptable(lake, entry) : undefined;
          const accept = acceptance && {
            family: entry.family,
            stagingPath: acceptance.stagingPath,
            dlqEntryId: entry.id,
            acceptedBy: opts.by,
            reason: opts.reason!.trim(),
            failedChecks: acceptance.failedChecks,
          };
          const started = await withClient(s, (client) => startReplay(client, s, entry, accept));
          if (!started.alreadyRunning) {
            const at = new Date().toISOString();
            await recordDlqReplay(
              lake,
              id,
              { workflowId: started.workflowId, startedAt: at },
              accept && { by: accept.acceptedBy, reason: accept.reason, at, workflowId: started.workflowId, failedChecks: accept.failedChecks },
            );
          }
          return { ...started, ...(accept ? { accepted: accept } : {}) };
        });
        output(
          cmd,
          result,
          () =>
            `${result.alreadyRunning ? 'already running' : result.accepted ? 'started (landing the staged data as it is)' : 'started'}: ${result.workflowId} (run ${result.runId}) on task queue ${s.taskQueue}\nfollow it in the Web UI: ${uiLink(s, result.workflowId)}`,
        );
      }),
    );

  dlq
    .command('close <id>')
    .description('close an entry by hand (when the partition was fixed another way)')
    .option('--by <name>', 'who closes it', currentUser())
    .action(
      action(async (id: string, opts: { by: string }, cmd: Command) => {
        const e = await withLake(cmd, (lake) => closeDlqEntry(lake, id, { closedBy: opts.by }));
        output(cmd, e, () => `closed ${e.id} (by ${e.closedBy} at ${e.closedAt})`);
      }),
    );
}
