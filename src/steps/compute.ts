// Computing steps: the daily partials up to a date, a family's features staged, or a DLQ'd family's
// accepted staging copied as the run's own.
import { stageAccepted } from '../dlq/index.js';
import { computeFamily } from '../features/compute.js';
import { family } from '../features/families/index.js';
import { ensurePartials } from '../features/partials/build.js';
import type { DailyActivities } from '../pipeline/types.js';
import type { StepContext } from './context.js';
import type { StepRuntime } from './runtime.js';

export function computeSteps(ctx: StepContext, rt: StepRuntime): Pick<DailyActivities, 'buildPartials' | 'computeFeatureFamily' | 'stageAcceptedFamily'> {
  return {
    async buildPartials({ date, runTime }) {
      let daysDone = 0;
      const days = await rt.keepAlive(
        () => ensurePartials(ctx, date, { runTime: new Date(runTime), onDay: () => void daysDone++ }),
        () => ({ daysDone }),
      );
      const sum = (f: (s: NonNullable<(typeof days)[number]['silver']>) => number) => days.reduce((a, d) => a + (d.silver ? f(d.silver) : 0), 0);
      return {
        daysComputed: days.length,
        rowsRead: sum((s) => s.rowsRead),
        rowsAccepted: sum((s) => s.rowsAccepted),
        rowsQuarantined: sum((s) => s.rowsQuarantined),
        attempt: rt.attempt(),
      };
    },

    async computeFeatureFamily({ family: name, date, runId, createdAt }) {
      const r = await rt.keepAlive(() => computeFamily(ctx, family(name), date, runId, { createdAt: new Date(createdAt) }));
      return { stagingPath: r.stagingPath, rows: r.rows, attempt: rt.attempt() };
    },

    async stageAcceptedFamily({ family: name, date, runId, fromPath }) {
      const r = await rt.keepAlive(() => stageAccepted(ctx.lake, { family: family(name).name, date, runId, fromPath }));
      return { stagingPath: r.stagingPath, rows: r.rows, attempt: rt.attempt() };
    },
  };
}
