// docs/features.md is the catalogue rendered from the declarations: it cannot drift from the code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../../src/features/families/index.js';
import { ON_DEMAND_FEATURES } from '../../src/features/on-demand/index.js';
import { FEATURE_SERVICES } from '../../src/features/services/index.js';
import { CUMULATIVE, type FamilyDecl } from '../../src/features/types.js';
import { renderCatalogue } from '../../src/registry/catalogue.js';

describe('the feature catalogue', () => {
  it('in docs/features.md matches the declarations (regenerate: npm run catalogue)', () => {
    expect(readFileSync('docs/features.md', 'utf8')).toBe(
      renderCatalogue(
        FAMILIES,
        FEATURE_SERVICES,
        ON_DEMAND_FEATURES.map((f) => f.decl),
      ),
    );
  });

  it('lists every feature with its window, type, range and meaning', () => {
    const fam: FamilyDecl = {
      name: 'toy',
      description: 'A toy | with a pipe.',
      owner: 'me',
      version: 2,
      entity: 'user',
      keys: [{ name: 'user_id', type: 'VARCHAR' }],
      ttlSeconds: 86_400,
      windowDays: 30,
      partials: {},
      dependsOn: [],
      features: [
        { name: 'a_7d', type: 'BIGINT', description: 'a count', min: 0, windowDays: 7 },
        { name: 'total', type: 'DOUBLE', description: 'all of it', severity: CUMULATIVE, nullable: true },
        { name: 'kind', type: 'VARCHAR', description: 'which', allowed: ['x', 'y'] },
      ],
      sql: () => 'SELECT 1',
    };
    const text = renderCatalogue([fam]);
    expect(text).toContain('| [toy](#toy) | user | `user_id` | 3 | 1 d |  |');
    expect(text).toContain('A toy \\| with a pipe.');
    expect(text).toContain('| `a_7d` | BIGINT | 7 d | 0 .. ∞ |  | a count |');
    expect(text).toContain('| `total` | DOUBLE | all history |  | yes | all of it |');
    expect(text).toContain('| `kind` | VARCHAR | 30 d | `x`, `y` |  | which |');
  });

  it('lists every feature service with its features, their types and normalization', () => {
    const text = renderCatalogue(FAMILIES, FEATURE_SERVICES);
    expect(text).toContain('## Feature services');
    expect(text).toContain('| [ranking_v1](#ranking_v1) | 1 | ml-platform | 15 |');
    expect(text).toContain('| [user_features](#user_features)`:watch_time_7d` | DOUBLE | zscore | sum of watch_seconds in the 7d window |');
    expect(text).toContain('| [user_embeddings](#user_embeddings)`:vector` | FLOAT[] |  |');
    expect(renderCatalogue(FAMILIES)).not.toContain('## Feature services');
  });
});
