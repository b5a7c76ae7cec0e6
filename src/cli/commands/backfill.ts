import type { Client } from '@temporalio/client';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { BackfillProgress } from '../../pipeline/types.js';
import { connectClient } from '../../temporal/connection.js';
import { startBackfill } from '../../temporal/workflows.js';
import { action, addQualityOptions, globals, output, parseDate, parseFamilies, parsePositiveInt, qualityFrom, requireRange, settingsFrom } from '../context.js';
import { renderBackfill, uiLink } from '../render.js';

/** Follows a backfill with a live bar on stderr until it ends; returns its final progress. */
async function follow(client: Client, workflowId: string, showBar: boolean): Promise<BackfillProgress> {
  const handle = client.workflow.getHandle(workflowId);
  const bar = showBar
    ? new cliProgress.SingleBar(
        {
          format: 'backfill |{bar}| {value}/{total} dates | {failed} failed | {running} running | {rate} dates/min | ETA {eta_formatted}',
          hideCursor: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  const done = handle.result().then(
    (r: BackfillProgress) => r,
    (e: unknown) => {
      const details = (e as { cause?: { details?: unknown[] } }).cause?.details?.[0] as BackfillProgress | undefined;
      if (details?.results) return details;
      throw e;
    },
  );
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    try {
      const p = await handle.query<BackfillProgress>('progress');
      const minutes = Math.max((Date.now() - p.startedAt) / 60_000, 1 / 60);
      const payload = {
        failed: p.results.filter((r) => r.status === 'failed' || r.status === 'partial').length,
        running: p.running.length,
        rate: (p.results.length / minutes).toFixed(1),
      };
      if (bar && !started) {
        bar.start(p.total, p.results.length, payload);
        started = true;
      }
      bar?.update(p.results.length, payload);
    } catch {
      // not queryable yet (first task not processed) or between runs of continue-as-new
    }
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
  }
  const final = await done;
  if (bar && started) {
    bar.update(final.results.length);
    bar.stop();
  }
  return final;
}

export function registerBackfill(program: Command): void {
  addQualityOptions(program.command('backfill'))
    .description('start a partitioned, resumable backfill over a date range (or control one with --pause/--resume/--cancel/--status ID)')
    .option('--from <date>', 'first feature date', parseDate)
    .option('--to <date>', 'last feature date', parseDate)
    .option('--families <list>', 'only these families (and what they depend on)', parseFamilies)
    .option('--concurrency <n>', 'dates running at once', parsePositiveInt('--concurrency'), 2)
    .option('--force', 'recompute dates already committed with the same code and schema')
    .option('--wait', 'show a live progress bar and end with a summary')
    .option('--pause <id>', 'pause a running backfill (running dates finish, no new ones start)')
    .option('--resume <id>', 'resume a paused backfill')
    .option('--cancel <id>', 'cancel a backfill: no new dates start; running ones finish')
    .option('--status <id>', "print a backfill's progress")
    .action(
      action(
        async (
          o: {
            from?: string;
            to?: string;
            families?: string[];
            concurrency: number;
            force?: boolean;
            driftWarnOnly?: boolean;
            quarantineRows?: boolean;
            wait?: boolean;
            pause?: string;
            resume?: string;
            cancel?: string;
            status?: string;
          },
          cmd: Command,
        ) => {
          const s = settingsFrom(cmd);
          const control = o.pause ?? o.resume ?? o.cancel;
          // Checked before connecting: a bad command line fails the same with or without a server.
          const range = control || o.status ? undefined : requireRange(o.from, o.to);
          const client = await connectClient(s);
          try {
            if (control) {
              const signal = o.pause ? 'pause' : o.resume ? 'resume' : 'cancel';
              await client.workflow.getHandle(control).signal(signal);
              output(cmd, { workflowId: control, signal }, () => `${signal} sent to ${control}`);
              return;
            }
            if (o.status) {
              const p = await client.workflow.getHandle(o.status).query<BackfillProgress>('progress');
              output(
                cmd,
                p,
                () => `${renderBackfill(p)}\nrunning: ${p.running.join(', ') || 'none'}; pending: ${p.pending.length}${p.paused ? ' (paused)' : ''}`,
              );
              return;
            }
            if (!range) return;
            const started = await startBackfill(client, s, {
              ...range,
              families: o.families,
              concurrency: o.concurrency,
              force: o.force,
              quality: qualityFrom(o),
            });
            const link = uiLink(s, started.workflowId);
            if (!o.wait) {
              output(cmd, { workflowId: started.workflowId, ui: link }, () => `started ${started.workflowId}\nweb ui: ${link}`);
              return;
            }
            if (!globals(cmd).json) process.stderr.write(`${started.workflowId}\nweb ui: ${link}\n`);
            const final = await follow(client, started.workflowId, !globals(cmd).json && process.stderr.isTTY !== false);
            output(cmd, final, () => renderBackfill(final));
            if (final.results.some((r) => r.status === 'failed' || r.status === 'partial') || final.cancelled) process.exitCode = 1;
          } finally {
            await client.connection.close();
          }
        },
      ),
    );
}
