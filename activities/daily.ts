// The activities of the daily DAG and of backfills: thin functions over src/ that take lake paths and
// return references, counts and small reports.
import { planStages } from '../src/pipeline/plan.js';
import { stageAccepted } from '../src/dlq/index.js';
import { computeFamily } from '../src/features/compute.js';
import { FAMILIES, family } from '../src/features/families/index.js';
import { ensurePartials, firstStaleDate } from '../src/features/partials/build.js';
import { dateRange } from '../src/shared/dates.js';
import { silverStatus } from '../src/silver/status.js';
import type { BackfillActivities, DailyActivities } from '../src/pipeline/types.js';
import type { ActivityContext } from '../src/steps/context.js';
import { classified, currentAttempt, withHeartbeat } from './errors.js';
import { goldActivities } from './gold.js';

export function createDailyActivities(ctx: ActivityContext): DailyActivities & BackfillActivities {
  const gold = goldActivities(ctx);
  const acts: DailyActivities & BackfillActivities = {
    async planDaily({ date, families }) {
      const stages = planStages(FAMILIES, families);
      const dependencies = Object.fromEntries(stages.flat().map((n) => [n, [...family(n).dependsOn]]));
      const silver = await silverStatus(ctx.lake, date);
      return { stages, dependencies, silverReady: silver.ready, missing: silver.missing, attempt: currentAttempt() };
    },

    async buildPartials({ date, runTime }) {
      let daysDone = 0;
      const days = await withHeartbeat(
        () => ensurePartials(ctx, date, { runTime: new Date(runTime), onDay: () => void daysDone++ }),
        () => ({ daysDone }),
      );
      const sum = (f: (s: NonNullable<(typeof days)[number]['silver']>) => number) => days.reduce((a, d) => a + (d.silver ? f(d.silver) : 0), 0);
      return {
        daysComputed: days.length,
        rowsRead: sum((s) => s.rowsRead),
        rowsAccepted: sum((s) => s.rowsAccepted),
        rowsQuarantined: sum((s) => s.rowsQuarantined),
        attempt: currentAttempt(),
      };
    },

    async computeFeatureFamily({ family: name, date, runId, createdAt }) {
      const r = await withHeartbeat(() => computeFamily(ctx, family(name), date, runId, { createdAt: new Date(createdAt) }));
      return { stagingPath: r.stagingPath, rows: r.rows, attempt: currentAttempt() };
    },

    async stageAcceptedFamily({ family: name, date, runId, fromPath }) {
      const r = await withHeartbeat(() => stageAccepted(ctx.lake, { family: family(name).name, date, runId, fromPath }));
      return { stagingPath: r.stagingPath, rows: r.rows, attempt: currentAttempt() };
    },

    async planBackfill({ from, to, families, force }) {
      const dates = dateRange(from, to);
      if (force) return { toRun: dates, skipped: [] };
      const planned = planStages(FAMILIES, families).flat();
      const [current, stale] = await withHeartbeat(() => Promise.all([gold.currentDates(planned, dates), firstStaleDate(ctx.lake, to)]));
      // From a date whose partials are behind its silver on, nothing is current: the partials will change.
      const isCurrent = (d: string) => current.has(d) && (stale === null || d < stale);
      return { toRun: dates.filter((d) => !isCurrent(d)), skipped: dates.filter(isCurrent) };
    },

    ...gold.activities,
  };
  return classified(acts);
}
