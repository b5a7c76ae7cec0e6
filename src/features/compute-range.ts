// In-process computation of families over a date range, without Temporal: for debugging feature
// definitions and for notebooks (`gold compute`). Stages results; committing gold is the pipeline's job.
import { planStages } from '../pipeline/plan.js';
import { dateRange } from '../shared/dates.js';
import { computeFamily, type FamilyResult } from './compute.js';
import type { FeatureContext } from './context.js';
import { FAMILIES, family } from './families/index.js';
import { ensurePartials, type PartialsDayReport } from './partials/build.js';

export interface ComputeRangeOptions {
  from: string;
  to: string;
  families?: string[];
  runId?: string;
  onPartials?: (r: PartialsDayReport) => void;
  onResult?: (r: FamilyResult) => void;
}

export async function computeRange(ctx: FeatureContext, o: ComputeRangeOptions): Promise<FamilyResult[]> {
  const dates = dateRange(o.from, o.to);
  const stages = planStages(FAMILIES, o.families);
  await ensurePartials(ctx, o.to, { onDay: o.onPartials });
  const results: FamilyResult[] = [];
  for (const date of dates) {
    for (const stage of stages) {
      for (const name of stage) {
        const r = await computeFamily(ctx, family(name), date, o.runId ?? 'compute');
        results.push(r);
        o.onResult?.(r);
      }
    }
  }
  return results;
}
