// Failures of the offline store that a retry cannot fix (Temporal reads `nonRetryable`).

/** The staged input of a gold commit is missing or does not match the family's schema. */
export class GoldInputError extends Error {
  override name = 'GoldInputError';
  readonly nonRetryable = true;
  readonly type = 'GoldInput';
}

/** A gold partition was written with a schema version the requested features cannot be read from. */
export class UnreadablePartitionError extends Error {
  override name = 'UnreadablePartitionError';
  readonly nonRetryable = true;
  readonly type = 'UnreadablePartition';
}

/** A training-set request that cannot be served as given (refs, entity input, options). */
export class TrainingSetInputError extends Error {
  override name = 'TrainingSetInputError';
  readonly nonRetryable = true;
  readonly type = 'TrainingSetInput';
}
