// The text that identifies an entity within a view, built the same way in JS (reads, writeBatch) and in
// SQL (materialization): a single key column is its value as text; a composite key joins its parts with
// '|' after escaping '\' as '\\' and '|' as '\|', so that no two different key tuples collide.
import { sqlIdent } from '../engine/sql.js';

/**
 * Longest entity key, in UTF-8 bytes, that a read accepts: with its view's prefix it stays within the
 * embedded store's key size (LMDB: 1,978 bytes), and no real identifier comes near it.
 */
export const MAX_ENTITY_KEY_BYTES = 1024;

function escapePart(part: string): string {
  return part.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
}

/** The entity key of one entity: its key values in the view's key order. */
export function encodeEntityKey(parts: readonly string[]): string {
  if (parts.length === 1) return parts[0]!;
  return parts.map(escapePart).join('|');
}

/** The same encoding as a DuckDB expression over the key columns. */
export function entityKeySql(keys: readonly string[]): string {
  const text = (k: string) => `CAST(${sqlIdent(k)} AS VARCHAR)`;
  if (keys.length === 1) return text(keys[0]!);
  return keys.map((k) => `replace(replace(${text(k)}, '\\', '\\\\'), '|', '\\|')`).join(` || '|' || `);
}
