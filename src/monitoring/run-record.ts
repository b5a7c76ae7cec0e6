// What a run reports about itself: the daily workflow's report, with the quality reports of the models
// its landed families were computed from. Stored by run-records.ts, counted by metrics.ts.
import type { AlsModelReport } from '../features/models/als-model.js';
import type { DailyReport } from '../pipeline/types.js';

export type RunRecord = DailyReport & { models?: { als?: AlsModelReport } };
