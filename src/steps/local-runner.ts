// `gold run daily --local`: the same DAG and the same activities as the Temporal workflow, in one
// process, with the same retry policies applied by plain loops. For debugging, and as the baseline
// that measures what orchestration costs.
import { randomBytes } from 'node:crypto';
import { type DagHost, newReport, runDailyDag } from '../pipeline/daily-dag.js';
import { ACTIVITY_GROUP, policyFor } from '../pipeline/policies.js';
import type { DailyActivities, DailyInput, DailyReport } from '../pipeline/types.js';
import { localRun } from './runtime.js';

class LocalActivityError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
    readonly retriesExhausted: boolean,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Each activity retried like Temporal would: until success, a non-retryable error, or max attempts. */
export function withLocalRetries(acts: DailyActivities, input: DailyInput): DailyActivities {
  const out = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(acts) as [keyof DailyActivities, (a: unknown) => Promise<unknown>][]) {
    const p = policyFor(ACTIVITY_GROUP[name], input.policies);
    out[name] = async (a: unknown) => {
      let interval = p.initialIntervalMs;
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await fn(a);
          return r && typeof r === 'object' && 'attempt' in r ? { ...r, attempt } : r;
        } catch (err) {
          const e = err as Error & { nonRetryable?: boolean };
          const last = attempt >= p.maximumAttempts;
          if (e.nonRetryable || last) throw new LocalActivityError(`${e.message}${last && !e.nonRetryable ? ' (retries exhausted)' : ''}`, attempt, last);
          await sleep(interval);
          interval = Math.min(interval * p.backoffCoefficient, p.maximumIntervalMs);
        }
      }
    };
  }
  return out as unknown as DailyActivities;
}

export async function runDailyLocal(acts: DailyActivities, input: DailyInput, log: (line: string) => void = () => undefined): Promise<DailyReport> {
  const runId = `local-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const host: DagHost = {
    runId,
    workflowId: `gold-daily-${input.date}-local`,
    now: () => Date.now(),
    sleep,
    progress: (_r, line) => log(line),
    describeFailure: (err) =>
      err instanceof LocalActivityError
        ? { message: err.message, attempts: err.attempts, retriesExhausted: err.retriesExhausted }
        : { message: err instanceof Error ? err.message : String(err), attempts: 1, retriesExhausted: false },
    // The in-process runner is stopped by stopping the process: nothing cancels a run from outside.
    isCancellation: () => false,
  };
  const report = newReport(input, host);
  return localRun.run({ runId, workflowId: host.workflowId }, () => runDailyDag(withLocalRetries(acts, input), input, host, report));
}
