// Containment of every path built from data (a lake key, a manifest's file name): one check, used
// by the local lake, the S3 lake and its cache, and every manifest reader, so that no name found in
// the lake can place a file outside the folder it belongs in.
import { isAbsolute, join, relative } from 'node:path';

/** A key that would leave its root, or that names nothing. Bad input: a retry meets it again. */
export class UnsafeKeyError extends Error {
  override name = 'UnsafeKeyError';
  readonly nonRetryable = true;
}

/**
 * The '/'-separated segments of a key, refusing '.', '..', empty segments (a leading, trailing or
 * doubled '/'), NUL and '\' (a separator elsewhere). `what` names the key in the message.
 */
export function keySegments(key: string, what = 'lake key'): string[] {
  const segments = key.split('/');
  const bad = segments.find((s) => s === '' || s === '.' || s === '..' || s.includes('\0') || s.includes('\\'));
  if (bad !== undefined) {
    const why = bad === '' ? 'empty segment (leading, trailing or doubled /)' : bad.includes('\0') ? 'NUL character' : bad.includes('\\') ? "'\\'" : `'${bad}'`;
    throw new UnsafeKeyError(`invalid ${what} '${key.replace(/\0/g, '\\0')}': ${why} not allowed`);
  }
  return segments;
}

/** `root` joined with a key, which must stay under root (see keySegments); '' is root itself. */
export function containedPath(root: string, key: string, what = 'lake key'): string {
  if (key === '') return root;
  const path = join(root, ...keySegments(key, what));
  const rel = relative(root, path);
  // Checked again on the result, whatever the segments held.
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new UnsafeKeyError(`invalid ${what} '${key}': leaves ${root}`);
  return path;
}
