// Cancelling DuckDB work from outside: a unit of work (a Temporal activity) runs under an AbortSignal,
// and every engine created inside it interrupts its running query when the signal fires. Library code
// stays unaware of who cancels; the scope follows the async calls (AsyncLocalStorage).
import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<AbortSignal>();

/** Runs fn so that engines created inside it stop their queries when `signal` aborts. */
export function withCancellation<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  return scope.run(signal, fn);
}

/** The signal of the unit of work running now, if any. */
export function currentCancellation(): AbortSignal | undefined {
  return scope.getStore();
}
