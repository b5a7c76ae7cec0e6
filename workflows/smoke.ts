import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { SmokeResult } from '../src/steps/smoke.js';

const { doctorSmoke } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
});

/** Used by `gold doctor`: proves a worker runs activities that reach the lake through DuckDB. */
export async function smokeWorkflow(id: string): Promise<SmokeResult> {
  return doctorSmoke(id);
}
