// Families as the online store and the feature server see them.
import { FAMILIES } from './families/index.js';
import type { FamilyDecl } from './types.js';
import type { OnlineViewSpec } from '../online/view.js';
import { schemaVersions } from '../registry/index.js';
import type { Lake } from '../lake/index.js';

export function onlineViewOf(f: FamilyDecl, schemaVersion: number): OnlineViewSpec {
  return {
    name: f.name,
    version: schemaVersion,
    keys: f.keys.map((k) => k.name),
    ttlSeconds: f.ttlSeconds,
    features: f.features.map((x) => ({ name: x.name, type: x.type })),
  };
}

/** Every online family at its latest registered schema version (families never registered are left out). */
export async function onlineViews(lake: Lake): Promise<OnlineViewSpec[]> {
  const out: OnlineViewSpec[] = [];
  for (const f of FAMILIES.filter((x) => x.online !== false)) {
    const versions = await schemaVersions(lake, f.name);
    if (versions.length > 0) out.push(onlineViewOf(f, Math.max(...versions)));
  }
  return out;
}
