// What changed between two schemas of a family, and whether readers of the older one can read data
// written with the newer one. Breaking: the keys changed, a feature was removed (a rename is a removal
// plus an addition) or changed type. Compatible: features were added, or only metadata changed
// (descriptions, nullability, rules, owner, TTL, declaration version).
import type { FeatureType } from '../features/types.js';
import { canonicalJson, type FamilySchema, type FeatureSchema, type KeySchema } from './schema.js';

export type SchemaChange = 'none' | 'compatible' | 'breaking';

export interface MetadataChange {
  /** The feature's name, or null for a family-level field. */
  feature: string | null;
  field: string;
  from: unknown;
  to: unknown;
}

export interface SchemaDiff {
  change: SchemaChange;
  /** Set when the entity keys differ. */
  keys: { from: KeySchema[]; to: KeySchema[] } | null;
  added: FeatureSchema[];
  removed: FeatureSchema[];
  typeChanged: { feature: string; from: FeatureType; to: FeatureType }[];
  metadata: MetadataChange[];
}

const FAMILY_FIELDS = ['declarationVersion', 'entity', 'description', 'owner', 'ttlSeconds', 'rules'] as const;
const FEATURE_FIELDS = ['nullable', 'description', 'rules'] as const;

/** The changes that turn schema `a` into schema `b`. */
export function diffSchemas(a: FamilySchema, b: FamilySchema): SchemaDiff {
  const keys = canonicalJson(a.keys) === canonicalJson(b.keys) ? null : { from: a.keys, to: b.keys };
  const before = new Map(a.features.map((f) => [f.name, f]));
  const after = new Map(b.features.map((f) => [f.name, f]));
  const added = b.features.filter((f) => !before.has(f.name));
  const removed = a.features.filter((f) => !after.has(f.name));
  const typeChanged: SchemaDiff['typeChanged'] = [];
  const metadata: MetadataChange[] = [];
  for (const field of FAMILY_FIELDS) {
    if (canonicalJson(a[field]) !== canonicalJson(b[field])) metadata.push({ feature: null, field, from: a[field], to: b[field] });
  }
  for (const f of b.features) {
    const old = before.get(f.name);
    if (!old) continue;
    if (old.type !== f.type) typeChanged.push({ feature: f.name, from: old.type, to: f.type });
    for (const field of FEATURE_FIELDS) {
      if (canonicalJson(old[field]) !== canonicalJson(f[field])) metadata.push({ feature: f.name, field, from: old[field], to: f[field] });
    }
  }
  const order = (s: FamilySchema) => s.features.map((f) => f.name).filter((n) => before.has(n) && after.has(n));
  if (canonicalJson(order(a)) !== canonicalJson(order(b))) metadata.push({ feature: null, field: 'featureOrder', from: order(a), to: order(b) });
  const change: SchemaChange =
    keys || removed.length > 0 || typeChanged.length > 0 ? 'breaking' : added.length > 0 || metadata.length > 0 ? 'compatible' : 'none';
  return { change, keys, added, removed, typeChanged, metadata };
}

/** One line per change, for people. */
export function describeDiff(d: SchemaDiff): string[] {
  const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : canonicalJson(v));
  return [
    ...(d.keys ? [`keys: ${d.keys.from.map((k) => k.name).join(', ')} -> ${d.keys.to.map((k) => k.name).join(', ')} (breaking)`] : []),
    ...d.removed.map((f) => `- ${f.name} ${f.type} (removed: breaking)`),
    ...d.typeChanged.map((t) => `~ ${t.feature}: ${t.from} -> ${t.to} (type change: breaking)`),
    ...d.added.map((f) => `+ ${f.name} ${f.type}${f.nullable ? ' nullable' : ''}`),
    ...d.metadata.map((m) => `  ${m.feature ? `${m.feature}.` : ''}${m.field}: ${show(m.from)} -> ${show(m.to)}`),
  ];
}
