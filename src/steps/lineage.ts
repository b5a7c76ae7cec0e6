// OpenLineage events of the daily run and of each of its steps that reads or writes the lake: START
// before the step, COMPLETE or FAIL after it (ABORT when it was cancelled), with the lake datasets it
// reads and writes. The daily run (job gold.daily) starts with its plan step and ends with its run
// record; each step's run names it as its parent. Run ids are UUIDv5 of (workflow run id, job, date),
// so a retried activity reports the same run. Emission never fails a step (see src/lineage/emitter.ts).
import { family } from '../features/families/index.js';
import { DAILY_PARTIALS, HISTORY_PARTIALS, LINK_PARTIALS } from '../features/partials/definitions.js';
import { paths } from '../lake/paths.js';
import {
  type Dataset,
  type EventType,
  type LineageRun,
  lakeDataset,
  lineageRunId,
  runEvent,
  schemaColumns,
  withQuality,
  withSchema,
} from '../lineage/events.js';
import type { DailyActivities, DailyReport } from '../pipeline/types.js';
import type { ValidationReport } from '../quality/report.js';
import { schemaFromDecl } from '../registry/schema.js';
import { logger } from '../shared/logger.js';
import type { StepContext } from './context.js';
import type { StepRuntime } from './runtime.js';

export const DAILY_JOB = 'gold.daily';

interface Io {
  inputs: Dataset[];
  outputs: Dataset[];
}

/** What a step's lineage needs to know: its job, date, and the datasets (the result is absent at START). */
interface StepLineage<A, R> {
  job(a: A): string;
  date(a: A): string;
  io(a: A, r: R | undefined): Io | Promise<Io>;
}

/** A partition's table: its key up to the date partition. */
const tableOf = (key: string) => key.replace(/\/feature_date=.*$/, '');
const dateOfPath = (p: string) => /feature_date=(\d{4}-\d{2}-\d{2})/.exec(p)?.[1] ?? '1970-01-01';

export function withLineage(ctx: StepContext, rt: StepRuntime, acts: DailyActivities): DailyActivities {
  const lineage = ctx.lineage;
  if (!lineage.enabled) return acts;
  const ds = (key: string) => lakeDataset(ctx.lake.uri, key);
  const gold = (name: string) => withSchema(ds(paths.goldFamily(name)), schemaColumns(schemaFromDecl(family(name))));
  const staging = (name: string) => withSchema(ds(`staging/${name}`), schemaColumns(schemaFromDecl(family(name))));
  const partials = (names: string[]) => names.map((n) => ds(`partials/${n}`));
  const silver = () => ds(paths.silverEvents);
  const allPartials = [...Object.keys(DAILY_PARTIALS), ...Object.keys(HISTORY_PARTIALS), ...Object.keys(LINK_PARTIALS)];

  const workflowRunId = (fallback?: string) => rt.workflowRun()?.runId ?? fallback ?? 'standalone';
  const dailyRun = (wf: string, date: string): LineageRun => ({ namespace: lineage.namespace, job: DAILY_JOB, runId: lineageRunId(DAILY_JOB, wf), date });

  async function emit(type: EventType, run: LineageRun, io: Io & { error?: string }): Promise<void> {
    try {
      await lineage.emit(runEvent(type, run, io), run.date);
    } catch (e) {
      // The emitter does not throw; building datasets might (an unknown family): never the step's failure.
      logger().warn({ job: run.job, error: (e as Error).message }, 'OpenLineage event not built');
    }
  }
  async function ioOf<A, R>(spec: StepLineage<A, R>, a: A, r: R | undefined): Promise<Io> {
    try {
      return await spec.io(a, r);
    } catch (e) {
      logger().warn({ error: (e as Error).message }, 'OpenLineage datasets not found');
      return { inputs: [], outputs: [] };
    }
  }

  function wrap<A extends object, R>(fn: (a: A) => Promise<R>, spec: StepLineage<A, R>, hooks: { before?: (a: A) => Promise<void> } = {}) {
    return async (a: A): Promise<R> => {
      const wf = workflowRunId((a as { runId?: string }).runId);
      const date = spec.date(a);
      const job = spec.job(a);
      const parent = dailyRun(wf, date);
      const run: LineageRun = { namespace: lineage.namespace, job, runId: lineageRunId(job, wf, date), date, parent: { job: parent.job, runId: parent.runId } };
      await hooks.before?.(a);
      await emit('START', run, await ioOf(spec, a, undefined));
      let result: R;
      try {
        result = await fn(a);
      } catch (e) {
        const cancelled = (e as Error)?.name === 'CancelledFailure' || (e as Error)?.name === 'AbortError';
        const io = await ioOf(spec, a, undefined);
        await emit(cancelled ? 'ABORT' : 'FAIL', run, cancelled ? io : { ...io, error: e instanceof Error ? e.message : String(e) });
        throw e;
      }
      await emit('COMPLETE', run, await ioOf(spec, a, result));
      return result;
    };
  }

  async function validationQuality(reportPath: string): Promise<ValidationReport | undefined> {
    try {
      return JSON.parse((await ctx.lake.read(reportPath)).toString('utf8')) as ValidationReport;
    } catch {
      return undefined;
    }
  }

  return {
    ...acts,
    planDaily: wrap(
      acts.planDaily,
      { job: () => 'gold.plan', date: (a) => a.date, io: () => ({ inputs: [silver()], outputs: [] }) },
      {
        // The daily run starts with its plan (each plan attempt while waiting for silver says so again, same run).
        before: async (a) => emit('START', dailyRun(workflowRunId(), a.date), { inputs: [], outputs: [] }),
      },
    ),
    buildPartials: wrap(acts.buildPartials, {
      job: () => 'gold.partials',
      date: (a) => a.date,
      io: () => ({ inputs: [silver()], outputs: partials(allPartials) }),
    }),
    computeFeatureFamily: wrap(acts.computeFeatureFamily, {
      job: (a) => `gold.compute.${a.family}`,
      date: (a) => a.date,
      io: (a) => {
        const decl = family(a.family);
        return {
          inputs: [...partials(Object.keys(decl.partials)), ...(decl.models ?? []).map((m) => ds(`models/${m}`)), ...decl.dependsOn.map((d) => staging(d))],
          outputs: [staging(a.family)],
        };
      },
    }),
    stageAcceptedFamily: wrap(acts.stageAcceptedFamily, {
      job: (a) => `gold.compute.${a.family}`,
      date: (a) => a.date,
      io: (a) => ({ inputs: [staging(a.family)], outputs: [staging(a.family)] }),
    }),
    validateFeatureFamily: wrap(acts.validateFeatureFamily, {
      job: (a) => `gold.validate.${a.family}`,
      date: (a) => a.date,
      io: async (a, r) => {
        const report = r?.reportPath ? await validationQuality(r.reportPath) : undefined;
        const input = report
          ? withQuality(staging(a.family), {
              rows: report.rows,
              score: report.score,
              passed: report.passed,
              nulls: Object.fromEntries(report.features.map((f) => [f.name, Math.round(f.nullShare * report.rows)])),
            })
          : staging(a.family);
        return { inputs: [input], outputs: report?.quarantine ? [ds(tableOf(report.quarantine.path))] : [] };
      },
    }),
    commitFeatureFamily: wrap(acts.commitFeatureFamily, {
      job: (a) => `gold.commit.${a.family}`,
      date: (a) => a.date,
      io: (a) => ({ inputs: [staging(a.family)], outputs: [gold(a.family)] }),
    }),
    materializeFeatureFamily: wrap(acts.materializeFeatureFamily, {
      job: (a) => `gold.materialize.${a.family}`,
      date: (a) => dateOfPath(a.goldPath),
      io: (a) => ({ inputs: [gold(a.family)], outputs: [] }),
    }),
    sendToDlq: wrap(acts.sendToDlq, {
      job: (a) => `gold.dlq.${a.family}`,
      date: (a) => a.date,
      io: () => ({ inputs: [], outputs: [ds(paths.dlq)] }),
    }),
    consistencySample: wrap(acts.consistencySample, {
      job: () => 'gold.consistency',
      date: (a) => a.date,
      io: (a) => ({ inputs: a.families.map(gold), outputs: [] }),
    }),
    recordRun: wrapRecord(acts.recordRun),
  };

  /** The run record ends the daily run: COMPLETE when something landed, FAIL when nothing did. */
  function wrapRecord(fn: DailyActivities['recordRun']): DailyActivities['recordRun'] {
    const inner = wrap(fn, { job: () => 'gold.record_run', date: (a) => a.report.date, io: (a) => ({ inputs: [], outputs: [ds(paths.runs(a.report.date))] }) });
    return async (a) => {
      const r = await inner(a);
      const report: DailyReport = a.report;
      const end: EventType = report.status === 'failed' ? 'FAIL' : report.status === 'cancelled' ? 'ABORT' : 'COMPLETE';
      await emit(end, dailyRun(workflowRunId(report.runId), report.date), {
        inputs: [],
        outputs: report.familiesLanded.map(gold),
      });
      return r;
    };
  }
}
