import { type CalendarSpec, type ScheduleDescription, ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { SCHEDULE_ID } from '../../pipeline/ids.js';
import { connectClient } from '../../temporal/connection.js';
import { scheduledDailyAction } from '../../temporal/workflows.js';
import { action, addQualityOptions, CliError, output, parsePositiveInt, qualityFrom, settingsFrom } from '../context.js';

const OVERLAP: Record<string, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};

function parseOverlap(v: string): ScheduleOverlapPolicy {
  const p = OVERLAP[v];
  if (!p) throw new InvalidArgumentError(`invalid --overlap '${v}': one of ${Object.keys(OVERLAP).join(', ')}`);
  return p;
}

const CALENDAR_FIELDS = ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'year', 'dayOfWeek', 'comment'];

function parseCalendar(v: string): CalendarSpec {
  const bad = (why: string) => new InvalidArgumentError(`invalid --calendar '${v}': ${why}; expected JSON like {"hour": 2, "minute": 30}`);
  let spec: unknown;
  try {
    spec = JSON.parse(v);
  } catch {
    throw bad('not JSON');
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw bad('not an object');
  // A misspelt field would be ignored, and the schedule would run at midnight instead.
  const unknown = Object.keys(spec).filter((k) => !CALENDAR_FIELDS.includes(k));
  if (unknown.length > 0) throw bad(`unknown field ${unknown.join(', ')} (fields: ${CALENDAR_FIELDS.join(', ')})`);
  if (Object.keys(spec).length === 0) throw bad('no field');
  return spec as CalendarSpec;
}

function summary(d: ScheduleDescription) {
  return {
    scheduleId: d.scheduleId,
    paused: d.state.paused,
    note: d.state.note,
    spec: d.spec,
    overlap: d.policies.overlap,
    catchupWindowMs: d.policies.catchupWindow,
    nextActionTimes: d.info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()),
    recentActions: d.info.recentActions
      .slice(-5)
      .map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), takenAt: a.takenAt.toISOString(), workflowId: a.action.workflow.workflowId })),
    running: d.info.runningActions.map((a) => a.workflow.workflowId),
  };
}

export function registerSchedule(program: Command): void {
  const schedule = program.command('schedule').description('the Temporal Schedule of the daily gold job');
  const withSchedule = (
    fn: (cmd: Command, handle: ReturnType<Awaited<ReturnType<typeof connectClient>>['schedule']['getHandle']>, opts: Record<string, unknown>) => Promise<void>,
  ) =>
    action(async (opts: Record<string, unknown>, cmd: Command) => {
      const s = settingsFrom(cmd);
      const client = await connectClient(s);
      try {
        await fn(cmd, client.schedule.getHandle((opts.id as string | undefined) ?? SCHEDULE_ID), opts);
      } catch (e) {
        if (e instanceof ScheduleNotFoundError)
          throw new CliError(`no schedule '${(opts.id as string | undefined) ?? SCHEDULE_ID}' (create it: gold schedule create)`);
        throw e;
      } finally {
        await client.connection.close();
      }
    });

  addQualityOptions(schedule.command('create'))
    .description('create the schedule (the run at its time computes the previous UTC day by default)')
    .option('--id <id>', 'schedule id', SCHEDULE_ID)
    .option('--cron <expr>', 'cron expression', '0 2 * * *')
    .addOption(new Option('--calendar <json>', 'calendar spec instead of cron, e.g. {"hour": 2, "minute": 30}').argParser(parseCalendar).conflicts('cron'))
    .option('--timezone <tz>', 'time zone of the spec', 'UTC')
    .option('--catchup-window <duration>', 'how far back missed runs are caught up (Temporal duration, e.g. 1d, 12h)', '1 day')
    .option(
      '--overlap <policy>',
      `what a run does when the previous one still runs: ${Object.keys(OVERLAP).join('|')}`,
      parseOverlap,
      ScheduleOverlapPolicy.SKIP,
    )
    .option('--lag-days <n>', 'days between the run date and the feature date', parsePositiveInt('--lag-days'), 1)
    .option('--paused', 'create it paused')
    .action(
      action(
        async (
          o: {
            id: string;
            cron: string;
            calendar?: CalendarSpec;
            timezone: string;
            catchupWindow: string;
            overlap: ScheduleOverlapPolicy;
            lagDays: number;
            paused?: boolean;
            driftWarnOnly?: boolean;
            quarantineRows?: boolean;
          },
          cmd: Command,
        ) => {
          const s = settingsFrom(cmd);
          const quality = qualityFrom(o);
          const client = await connectClient(s);
          try {
            const handle = await client.schedule.create({
              scheduleId: o.id,
              spec: { ...(o.calendar ? { calendars: [o.calendar] } : { cronExpressions: [o.cron] }), timezone: o.timezone },
              action: scheduledDailyAction(s, o.id, { lagDays: o.lagDays, ...(quality ? { quality } : {}) }),
              policies: { catchupWindow: o.catchupWindow as never, overlap: o.overlap, pauseOnFailure: false },
              state: { paused: o.paused ?? false, note: 'created by gold schedule create' },
            });
            const d = await handle.describe();
            output(cmd, summary(d), () => `created schedule ${o.id}; next runs: ${summary(d).nextActionTimes.join(', ')}`);
          } finally {
            await client.connection.close();
          }
        },
      ),
    );
  schedule
    .command('describe')
    .option('--id <id>', 'schedule id', SCHEDULE_ID)
    .description('show the spec, state, next and recent runs')
    .action(
      withSchedule(async (cmd, h) => {
        const d = summary(await h.describe());
        output(cmd, d, () => JSON.stringify(d, null, 2));
      }),
    );
  for (const [name, description] of [
    ['pause', 'pause the schedule'],
    ['unpause', 'unpause the schedule'],
  ] as const) {
    schedule
      .command(name)
      .option('--id <id>', 'schedule id', SCHEDULE_ID)
      .option('--note <text>', 'why')
      .description(description)
      .action(
        withSchedule(async (cmd, h, o) => {
          await (name === 'pause' ? h.pause(o.note as string | undefined) : h.unpause(o.note as string | undefined));
          output(cmd, { scheduleId: h.scheduleId, paused: name === 'pause' }, () => `${name}d ${h.scheduleId}`);
        }),
      );
  }
  schedule
    .command('trigger')
    .option('--id <id>', 'schedule id', SCHEDULE_ID)
    .description('run the scheduled action now')
    .action(
      withSchedule(async (cmd, h) => {
        await h.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
        output(cmd, { scheduleId: h.scheduleId, triggered: true }, () => `triggered ${h.scheduleId}`);
      }),
    );
  schedule
    .command('delete')
    .option('--id <id>', 'schedule id', SCHEDULE_ID)
    .description('delete the schedule (runs already started go on)')
    .action(
      withSchedule(async (cmd, h) => {
        await h.delete();
        output(cmd, { scheduleId: h.scheduleId, deleted: true }, () => `deleted ${h.scheduleId}`);
      }),
    );
}
