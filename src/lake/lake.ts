// The lake: a root URI (local folder or s3://bucket/prefix) and the few object operations everything
// else is built from. Keys are '/'-separated and relative to the root.

export interface LakeEntry {
  key: string;
  size: number;
  /** Changes when the object is rewritten, even at the same size: the ETag on S3, the modification time on disk. */
  version: string;
}

export interface Lake {
  /** The root as given by the user, for messages (never carries credentials). */
  readonly uri: string;
  readonly kind: 'local' | 's3';
  /** Every object under a prefix (recursive), sorted by key. */
  list(prefix: string): Promise<LakeEntry[]>;
  /** Names of the immediate sub-folders of a prefix, sorted. */
  listDirs(prefix: string): Promise<string[]>;
  exists(key: string): Promise<boolean>;
  /** Throws LakeNotFoundError when absent. */
  read(key: string): Promise<Buffer>;
  /** Atomic per object: a reader sees the old content or the new one. */
  write(key: string, data: Buffer | string): Promise<void>;
  /** Creates the object only if it does not exist yet (atomically); false when it already existed. */
  writeIfAbsent(key: string, data: Buffer | string): Promise<boolean>;
  /** Copies a local file into the lake (multipart on S3). */
  upload(localPath: string, key: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Deletes every object under a prefix; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** A local file path with the object's content, for DuckDB (a bounded cache on S3). */
  localFile(key: string): Promise<string>;
  close(): Promise<void>;
}

export class LakeNotFoundError extends Error {
  override name = 'LakeNotFoundError';
  constructor(
    readonly key: string,
    lakeUri: string,
  ) {
    super(`not found in lake ${lakeUri}: ${key}`);
  }
}

export function joinKey(...parts: string[]): string {
  return parts
    .filter((p) => p !== '')
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p !== '')
    .join('/');
}
