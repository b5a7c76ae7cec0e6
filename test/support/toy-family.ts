// A minimal family declaration for tests of the registry, the gold writer and whatever else reads
// declarations: one VARCHAR key, the given features, SQL never run.
import type { FamilyDecl, FeatureDecl } from '../../src/features/types.js';

export function toyFamily(features: FeatureDecl[], over: Partial<FamilyDecl> = {}): FamilyDecl {
  return {
    name: 'toy_features',
    description: 'a toy family',
    owner: 'tests',
    version: 1,
    entity: 'user',
    keys: [{ name: 'user_id', type: 'VARCHAR' }],
    ttlSeconds: 86_400,
    partials: {},
    dependsOn: [],
    features,
    sql: () => 'SELECT 1',
    ...over,
  };
}
