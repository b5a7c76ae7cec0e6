// Planning steps: the daily plan (stages and whether silver is there) and which dates of a backfill
// still need a run.

import { familyInputsHash } from '../features/compute.js';
import { FAMILIES, family } from '../features/families/index.js';
import { alsModelCurrent } from '../features/models/als-model.js';
import { firstStaleDate } from '../features/partials/build.js';
import { familyCodeVersion } from '../features/version.js';
import { paths, readManifest } from '../lake/index.js';
import { planStages } from '../pipeline/plan.js';
import type { BackfillActivities, DailyActivities } from '../pipeline/types.js';
import { schemaVersions } from '../registry/index.js';
import { dateRange } from '../shared/dates.js';
import { mapLimit } from '../shared/map-limit.js';
import { silverDates, silverStatus } from '../silver/status.js';
import type { StepContext } from './context.js';
import type { StepRuntime } from './runtime.js';

export function planSteps(ctx: StepContext, rt: StepRuntime): Pick<DailyActivities, 'planDaily'> & Pick<BackfillActivities, 'planBackfill'> {
  return {
    async planDaily({ date, families }) {
      const stages = planStages(FAMILIES, families);
      const dependencies = Object.fromEntries(stages.flat().map((n) => [n, [...family(n).dependsOn]]));
      const silver = await silverStatus(ctx.lake, date);
      return { stages, dependencies, silverReady: silver.ready, missing: silver.missing, attempt: rt.attempt() };
    },

    async planBackfill({ from, to, families, force }) {
      const dates = dateRange(from, to);
      if (force) return { toRun: dates, skipped: [] };
      const planned = planStages(FAMILIES, families).flat();
      const [current, stale] = await rt.keepAlive(() => Promise.all([currentDates(ctx, planned, dates), firstStaleDate(ctx.lake, to)]));
      // From a date whose partials are behind its silver on, nothing is current: the partials will change.
      const isCurrent = (d: string) => current.has(d) && (stale === null || d < stale);
      return { toRun: dates.filter((d) => !isCurrent(d)), skipped: dates.filter(isCurrent) };
    },
  };
}

/**
 * Which of these dates have every family's gold committed with the current code and schema, from
 * the partials there are now. The schema versions are read once, each partial's commit once, and
 * the dates several at a time (a year of dates on S3 is thousands of reads).
 */
async function currentDates(ctx: StepContext, families: string[], dates: string[]): Promise<Set<string>> {
  const expected = await Promise.all(
    families.map(async (name) => ({
      decl: family(name),
      code: familyCodeVersion(family(name)),
      schema: Math.max(...(await schemaVersions(ctx.lake, name)), 0),
    })),
  );
  const firstSilverDate = (await silverDates(ctx.lake))[0];
  const commits = new Map<string, Promise<string | null>>();
  const commitIdOf = (prefix: string) => {
    if (!commits.has(prefix))
      commits.set(
        prefix,
        readManifest(ctx.lake, prefix).then((m) => m?.commitId ?? null),
      );
    return commits.get(prefix)!;
  };
  const isCurrent = async (date: string): Promise<boolean> => {
    for (const e of expected) {
      const m = await readManifest(ctx.lake, paths.gold(e.decl.name, date));
      if (!m || m.meta.codeVersion !== e.code || m.meta.schemaVersion !== e.schema) return false;
      if (m.meta.inputsHash !== (await familyInputsHash(ctx.lake, e.decl, date, commitIdOf, firstSilverDate))) return false;
      // A model trained cold while the day before's was not there yet (dates run in parallel) is stale.
      if (e.decl.models?.includes('als') && !(await alsModelCurrent(ctx.lake, date))) return false;
    }
    return true;
  };
  const current = await mapLimit(dates, 16, isCurrent);
  return new Set(dates.filter((_, k) => current[k]));
}
