// The silver reader's failures. Each is bad input that a retry would meet again, so it says so
// (`nonRetryable`), and carries a stable `type` that orchestration classifies on.

export interface MissingPartition {
  date: string;
  /** missing: no folder for the date; incomplete: a folder without its _SUCCESS marker. */
  reason: 'missing' | 'incomplete';
}

export class SilverPartitionMissingError extends Error {
  override name = 'SilverPartitionMissingError';
  readonly nonRetryable = true;
  readonly type = 'SilverPartitionMissing';

  constructor(
    readonly missing: MissingPartition[],
    lakeUri: string,
  ) {
    const shown = missing.slice(0, 10).map((m) => `${m.date} (${m.reason})`);
    super(`silver is not ready in lake ${lakeUri}: ${shown.join(', ')}${missing.length > 10 ? `, and ${missing.length - 10} more` : ''}`);
  }
}

/** A silver file (or commit marker) that cannot be read. `file` is its lake key. */
export class SilverFileError extends Error {
  override name = 'SilverFileError';
  readonly nonRetryable = true;
  readonly type = 'SilverFile';

  constructor(
    readonly file: string,
    lakeUri: string,
    readonly detail: string,
  ) {
    super(`unreadable silver file ${file} in lake ${lakeUri}: ${detail.split('\n')[0]}`);
  }
}

/** A silver file without a contract column, or with it in a type that does not convert to the contract's. */
export class SilverSchemaError extends Error {
  override name = 'SilverSchemaError';
  readonly nonRetryable = true;
  readonly type = 'SilverSchema';

  constructor(
    readonly file: string,
    lakeUri: string,
    readonly column: string,
    readonly expected: string,
    readonly actual: string | null,
  ) {
    super(
      actual === null
        ? `silver file ${file} in lake ${lakeUri} has no column ${column} (expected ${expected})`
        : `silver file ${file} in lake ${lakeUri}: column ${column} is ${actual}, expected ${expected}`,
    );
  }
}
