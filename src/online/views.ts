// Families as the online store and the feature server see them.
import { FAMILIES } from '../features/families/index.js';
import type { FamilyDecl } from '../features/types.js';
import type { Lake } from '../lake/index.js';
import { type FamilySchema, getSchema, schemaVersions } from '../registry/index.js';
import type { OnlineViewSpec } from './view.js';

/** `version` is the online layout version (onlineLayoutVersion): online keys carry it. */
export function onlineViewOf(f: FamilyDecl, version: number): OnlineViewSpec {
  return {
    name: f.name,
    version,
    keys: f.keys.map((k) => k.name),
    ttlSeconds: f.ttlSeconds,
    features: f.features.map((x) => ({ name: x.name, type: x.type })),
  };
}

/** What an online record holds, in order. Descriptions, rules, owner and TTL are not part of it. */
function layoutOf(s: FamilySchema): string {
  return JSON.stringify([s.keys.map((k) => k.name), s.features.map((f) => [f.name, f.type])]);
}

/**
 * The version online keys carry for a registered schema version: the first of the unbroken run of
 * versions ending at it whose records have the same layout. So a change that leaves the records alone
 * (a description, a rule, the owner) keeps the keys where they are, and servers reading them keep
 * working; a change of the layout moves them, so that no reader decodes records of another layout.
 */
export async function onlineLayoutVersion(lake: Lake, family: string, schemaVersion: number): Promise<number> {
  const layout = layoutOf((await getSchema(lake, family, schemaVersion)).schema);
  const earlier = (await schemaVersions(lake, family)).filter((v) => v < schemaVersion).sort((a, b) => b - a);
  let version = schemaVersion;
  for (const v of earlier) {
    if (layoutOf((await getSchema(lake, family, v)).schema) !== layout) break;
    version = v;
  }
  return version;
}

/** Every online family at the layout version of its latest registered schema (families never registered are left out). */
export async function onlineViews(lake: Lake): Promise<OnlineViewSpec[]> {
  const out: OnlineViewSpec[] = [];
  for (const f of FAMILIES.filter((x) => x.online !== false)) {
    const versions = await schemaVersions(lake, f.name);
    if (versions.length > 0) out.push(onlineViewOf(f, await onlineLayoutVersion(lake, f.name, Math.max(...versions))));
  }
  return out;
}
