// Feature references ('family:feature') resolved against the registry into feature views, and the
// gold partitions of a view that a request may read, each checked readable for the requested features.
import type { Lake } from '../lake/index.js';
import type { FeatureSchema, KeySchema } from '../registry/schema.js';
import { listSchemas, type RegisteredSchema, registeredFamilies } from '../registry/store.js';
import { TrainingSetInputError, UnreadablePartitionError } from './errors.js';
import { type GoldPartition, listGold } from './gold.js';
import { localFiles } from './lake-files.js';
import { isNormalizeMethod, type NormalizeMethod, unknownMethodMessage } from './normalize.js';

export interface FeatureRef {
  family: string;
  feature: string;
  /** 'family:feature:method': normalize this feature (normalize.ts). */
  normalize?: NormalizeMethod;
}

/** A family as a request reads it: the latest registered schema, and the features asked for, in order. */
export interface FeatureView {
  family: string;
  keys: KeySchema[];
  ttlSeconds: number;
  features: FeatureSchema[];
  /** The registered version the request is resolved against (the latest). */
  version: number;
  history: RegisteredSchema[];
}

export interface ReadablePartition {
  date: string;
  schemaVersion: number;
  /** Local paths of the data files. */
  files: string[];
}

const REF = /^([A-Za-z_][A-Za-z0-9_]*):([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z0-9_]+))?$/;

export function parseFeatureRefs(refs: readonly string[], allowNone = false): FeatureRef[] {
  if (refs.length === 0 && !allowNone) throw new TrainingSetInputError('no features requested: give refs like user_features:watch_time_7d');
  const seen = new Set<string>();
  return refs.map((raw) => {
    const ref = raw.trim();
    const m = REF.exec(ref);
    if (!m)
      throw new TrainingSetInputError(
        `invalid feature reference '${raw}': expected family:feature, as in user_features:watch_time_7d (or family:feature:zscore to normalize it)`,
      );
    const key = `${m[1]}:${m[2]}`;
    if (seen.has(key)) throw new TrainingSetInputError(`feature reference '${key}' is listed twice`);
    seen.add(key);
    if (m[3] === undefined) return { family: m[1]!, feature: m[2]! };
    if (!isNormalizeMethod(m[3])) throw new TrainingSetInputError(`feature reference '${ref}': ${unknownMethodMessage(m[3])}`);
    return { family: m[1]!, feature: m[2]!, normalize: m[3] };
  });
}

/** One view per family referenced, in order of first reference. */
export async function resolveViews(lake: Lake, refs: readonly FeatureRef[]): Promise<FeatureView[]> {
  const families = [...new Set(refs.map((r) => r.family))];
  const views: FeatureView[] = [];
  for (const family of families) {
    const history = await listSchemas(lake, family);
    const latest = history[history.length - 1];
    if (!latest) {
      const known = await registeredFamilies(lake);
      throw new TrainingSetInputError(`unknown feature view '${family}': not in the registry of lake ${lake.uri} (registered: ${known.join(', ') || 'none'})`);
    }
    const byName = new Map(latest.schema.features.map((f) => [f.name, f]));
    const features = refs
      .filter((r) => r.family === family)
      .map((r) => {
        const f = byName.get(r.feature);
        if (!f)
          throw new TrainingSetInputError(
            `unknown feature '${r.feature}' in view ${family} (schema version ${latest.version}; features: ${[...byName.keys()].join(', ')})`,
          );
        return f;
      });
    // Declarations reject the name now; a schema registered before may still have it.
    const rowid = [...latest.schema.keys, ...features].find((c) => c.name.toLowerCase() === 'rowid');
    if (rowid)
      throw new TrainingSetInputError(
        `view ${family} (schema version ${latest.version}) has a column named '${rowid.name}', which hides DuckDB's row id the join relies on: rename it in the declaration`,
      );
    views.push({ family, keys: latest.schema.keys, ttlSeconds: latest.schema.ttlSeconds, features, version: latest.version, history });
  }
  return views;
}

/** The schema version of a partition, if the view's requested features can be read from it. */
export function readableVersion(view: FeatureView, p: GoldPartition): number {
  const where = `gold ${view.family} ${p.date}`;
  const v = p.meta.schemaVersion;
  if (typeof v !== 'number')
    throw new UnreadablePartitionError(`${where} records no schemaVersion in its manifest (not written by the gold writer); rewrite it with commitGold`);
  const written = view.history.find((h) => h.version === v);
  if (!written)
    throw new UnreadablePartitionError(
      `${where} was written with schema version ${v}, which the registry does not have (registered: ${view.history.map((h) => h.version).join(', ')})`,
    );
  const [lo, hi] = v < view.version ? [v, view.version] : [view.version, v];
  const breaking = view.history.filter((h) => h.version > lo && h.version <= hi && h.change === 'breaking').map((h) => h.version);
  if (breaking.length > 0) {
    throw new UnreadablePartitionError(
      `${where} was written with schema version ${v}, and version ${breaking.join(', ')} between it and the requested version ${view.version} is a breaking change: backfill the date to rewrite it`,
    );
  }
  const present = new Set(written.schema.features.map((f) => f.name));
  const absent = view.features.filter((f) => !present.has(f.name)).map((f) => f.name);
  if (absent.length > 0) {
    throw new UnreadablePartitionError(
      `${where} was written with schema version ${v}, which lacks requested feature(s) ${absent.join(', ')}: backfill the date to add them`,
    );
  }
  return v;
}

/** The view's committed, readable partitions with feature dates in [from, to]. */
export async function readablePartitions(lake: Lake, view: FeatureView, from: string, to: string): Promise<ReadablePartition[]> {
  const parts = await listGold(lake, view.family, { from, to });
  const versions = parts.map((p) => readableVersion(view, p));
  const files = await localFiles(
    lake,
    parts.flatMap((p) => p.files),
  );
  let next = 0;
  return parts.map((p, i) => ({ date: p.date, schemaVersion: versions[i]!, files: files.slice(next, (next += p.files.length)) }));
}

const DAY_US = 86_400_000_000;

function dateOfDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Feature dates whose rows can qualify for event times in [minUs, maxUs] (epoch microseconds): rows of
 * date D carry feature_timestamp = as_of(D) = D + 1 day, which must lie in [min - ttl, max]. Null when
 * no date can.
 */
export function qualifyingDates(view: FeatureView, minUs: number, maxUs: number): { from: string; to: string } | null {
  const first = Math.ceil((minUs - view.ttlSeconds * 1e6) / DAY_US) - 1;
  const last = Math.floor(maxUs / DAY_US) - 1;
  return last < first ? null : { from: dateOfDay(first), to: dateOfDay(last) };
}
