// Online against offline: for a committed gold partition, read the same entities from the online
// store and compare value by value. An online value newer than the partition (a later date was
// materialized since) is not a mismatch; one with the partition's timestamp and other values is.
import { type EngineOptions, parquetScan, withEngine } from '../engine/duckdb.js';
import { family } from '../features/families/index.js';
import type { FamilyDecl } from '../features/types.js';
import { committedFiles, type Lake, paths, readManifest } from '../lake/index.js';
import { entityKeySql } from '../online/entity-key.js';
import type { OnlineStore } from '../online/store.js';
import type { OnlineViewSpec } from '../online/view.js';
import { onlineLayoutVersion, onlineViewOf } from '../online/views.js';
import { schemaVersions } from '../registry/index.js';
import { addDays } from '../shared/dates.js';

export interface ConsistencyResult {
  family: string;
  date: string;
  /** Entities compared (all of the partition, or the sample). */
  checked: number;
  matched: number;
  mismatched: number;
  mismatchShare: number;
  /** In the partition, not found online at this date: absent, outside its TTL, or only an older date's row. */
  missing: number;
  /** The partition is older than its view's TTL: materialization rightly kept it out of the store, nothing was compared. */
  expired: boolean;
  /** Online holds a later date for the entity: not comparable, not a mismatch. */
  newerOnline: number;
  /** Online rows stamped with this date for entities the partition does not hold (found among the previous date's entities). */
  extra: number;
  samples: { entityKey: string; feature: string; gold: unknown; online: unknown }[];
}

/**
 * Whether a gold value and the online one agree: numbers to 1e-6 relative (NaN agrees with NaN, an
 * infinity only with itself: both are stored faithfully), timestamps and dates by instant, lists
 * element by element, integers beyond 2^53 by their digits.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (a instanceof Date || b instanceof Date) return instant(a) === instant(b);
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
    if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
    return a === b || Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
  }
  if (typeof a === 'bigint' || typeof b === 'bigint') return String(a) === String(b);
  return a === b;
}

/** Epoch ms of a Date, of a 'YYYY-MM-DD' or ISO string or of epoch ms; NaN for anything else (never equal). */
function instant(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string') return Date.parse(v);
  return typeof v === 'number' ? v : Number.NaN;
}

export async function checkConsistency(
  lake: Lake,
  store: OnlineStore,
  engine: EngineOptions,
  o: { family: FamilyDecl; view: OnlineViewSpec; date: string; sample?: number },
): Promise<ConsistencyResult> {
  const keys = await committedFiles(lake, paths.gold(o.family.name, o.date));
  if (!keys) throw new Error(`no committed gold for ${o.family.name} ${o.date}`);
  const stamp = Date.parse(`${addDays(o.date, 1)}T00:00:00Z`);
  const expired = stamp + o.view.ttlSeconds * 1000 <= Date.now();
  const r: ConsistencyResult = {
    family: o.family.name,
    date: o.date,
    checked: 0,
    matched: 0,
    mismatched: 0,
    mismatchShare: 0,
    missing: 0,
    expired,
    newerOnline: 0,
    extra: 0,
    samples: [],
  };
  if (expired) return r;
  const files = await Promise.all(keys.map((k) => lake.localFile(k)));
  const featureCols = o.view.features.map((f) => `"${f.name}"`).join(', ');
  const prevKeys = await committedFiles(lake, paths.gold(o.family.name, addDays(o.date, -1)));
  const prevFiles = prevKeys ? await Promise.all(prevKeys.map((k) => lake.localFile(k))) : [];
  // Streamed a DuckDB chunk at a time, each chunk's entities read from the store in one request:
  // memory stays bounded however large the partition.
  await withEngine(engine, async (db) => {
    const sample = o.sample ? `USING SAMPLE ${o.sample} ROWS (reservoir, 42)` : '';
    for await (const rows of db.batches(`SELECT ${entityKeySql(o.view.keys)} AS __key, ${featureCols} FROM ${parquetScan(files)} ${sample}`)) {
      r.checked += rows.length;
      const [online] = await store.read([{ view: o.view, entityKeys: rows.map((x) => String(x.__key)) }], stamp);
      for (const [j, row] of rows.entries()) {
        const got = online![j]!;
        // An older date's row online means this date's was never written: missing, whatever its values.
        if (got.status !== 'present' || got.featureTimestamp! < stamp) r.missing++;
        else if (got.featureTimestamp! > stamp) r.newerOnline++;
        else {
          const bad = o.view.features.findIndex((f, k) => !sameValue(row[f.name], got.values[k]));
          if (bad < 0) r.matched++;
          else {
            r.mismatched++;
            if (r.samples.length < 5)
              r.samples.push({ entityKey: got.entityKey, feature: o.view.features[bad]!.name, gold: row[o.view.features[bad]!.name], online: got.values[bad] });
          }
        }
      }
    }
    if (prevFiles.length > 0) {
      const previousOnly = `SELECT ${entityKeySql(o.view.keys)} AS k FROM ${parquetScan(prevFiles)}
        EXCEPT SELECT ${entityKeySql(o.view.keys)} FROM ${parquetScan(files)} ${o.sample ? `LIMIT ${o.sample}` : ''}`;
      for await (const ks of db.batches<{ k: string }>(previousOnly)) {
        const [online] = await store.read([{ view: o.view, entityKeys: ks.map((x) => x.k) }], stamp);
        r.extra += online!.filter((x) => x.featureTimestamp === stamp).length;
      }
    }
  });
  r.mismatchShare = r.checked > 0 ? r.mismatched / r.checked : 0;
  return r;
}

/**
 * A family's committed partition of a date against the store, under the view version it was written
 * with; undefined for a family that is not served online.
 */
export async function checkFamilyConsistency(
  lake: Lake,
  store: OnlineStore,
  engine: EngineOptions,
  o: { family: string; date: string; sample?: number },
): Promise<ConsistencyResult | undefined> {
  const decl = family(o.family);
  if (decl.online === false) return undefined;
  const manifest = await readManifest(lake, paths.gold(decl.name, o.date));
  const version = (manifest?.meta.schemaVersion as number | undefined) ?? Math.max(...(await schemaVersions(lake, decl.name)));
  return checkConsistency(lake, store, engine, {
    family: decl,
    view: onlineViewOf(decl, Number.isFinite(version) ? await onlineLayoutVersion(lake, decl.name, version) : version),
    date: o.date,
    sample: o.sample,
  });
}
