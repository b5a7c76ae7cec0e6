// Error classification for Temporal: bad input, schema and validation errors are non-retryable (a
// retry would fail the same way); anything else (I/O, timeouts) is retried with backoff. Every failure
// carries the attempt it happened on, for the run report.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';

interface Classified {
  nonRetryable?: boolean;
  type?: string;
}

export function toFailure(err: unknown): ApplicationFailure | CancelledFailure {
  // A cancellation is reported as one, not as a failure to retry.
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const c = e as Error & Classified;
  return ApplicationFailure.create({
    message: e.message,
    type: c.type ?? e.name,
    nonRetryable: c.nonRetryable === true,
    details: [{ attempt: Context.current().info.attempt }],
    cause: e,
  });
}

/** Wraps every function of an activity object so that its failures are classified. */
export function classified<T extends object>(acts: T): T {
  const out = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(acts) as [string, (...args: unknown[]) => Promise<unknown>][]) {
    out[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toFailure(err);
      }
    };
  }
  return out as T;
}
