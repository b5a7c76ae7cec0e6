// Schemas derived from declarations, and the compatibility rules of the registry (pure).
import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../../src/features/families/index.js';
import type { FeatureDecl } from '../../src/features/types.js';
import { canonicalJson, describeDiff, diffSchemas, InvalidDeclarationError, sameSchema, schemaFromDecl } from '../../src/registry/index.js';
import { toyFamily } from '../support/toy-family.js';

const decl = toyFamily;

const a: FeatureDecl = { name: 'a', type: 'DOUBLE', description: 'first', min: 0 };
const b: FeatureDecl = { name: 'b', type: 'BIGINT', description: 'second', nullable: true, maxNullShare: 0.5 };
const c: FeatureDecl = { name: 'c', type: 'VARCHAR', description: 'third', allowed: ['x', 'y'] };

describe('schemaFromDecl', () => {
  it('records keys, features with type, nullability, rules and description, owner, ttl and the declaration version', () => {
    const s = schemaFromDecl(decl([a, b], { rules: [{ name: 'r', description: 'a positive', sql: 'a >= 0', severity: 'warn' }] }));
    expect(s).toEqual({
      family: 'toy_features',
      declarationVersion: 1,
      entity: 'user',
      description: 'a toy family',
      owner: 'tests',
      ttlSeconds: 86_400,
      keys: [{ name: 'user_id', type: 'VARCHAR' }],
      features: [
        { name: 'a', type: 'DOUBLE', nullable: false, description: 'first', rules: { min: 0 } },
        { name: 'b', type: 'BIGINT', nullable: true, description: 'second', rules: { maxNullShare: 0.5 } },
      ],
      rules: [{ name: 'r', description: 'a positive', sql: 'a >= 0', severity: 'warn' }],
    });
  });

  it('equals itself after a JSON round trip (what the registry stores)', () => {
    for (const f of FAMILIES) {
      const s = schemaFromDecl(f);
      expect(sameSchema(JSON.parse(JSON.stringify(s)), s)).toBe(true);
    }
  });

  it.each([
    ['no keys', decl([a], { keys: [] }), /at least one key/],
    ['no features', decl([]), /at least one feature/],
    ['a duplicate feature', decl([a, { ...b, name: 'a' }]), /'a' is declared twice/],
    ['a feature named like a key', decl([{ ...a, name: 'User_Id' }]), /'User_Id' is declared twice/],
    ['a reserved column', decl([{ ...a, name: 'feature_timestamp' }]), /reserved/],
    [
      "a feature named like DuckDB's row id",
      decl([{ ...a, name: 'RowId' }]),
      /column 'RowId' is declared twice or is reserved \(feature_timestamp, created_timestamp, rowid\)/,
    ],
    ["a key named like DuckDB's row id", decl([a], { keys: [{ name: 'rowid', type: 'VARCHAR' }] }), /column 'rowid' is declared twice or is reserved/],
    ['an internal name', decl([{ ...a, name: '__x' }]), /not starting with '__'/],
    ['a name that is not an identifier', decl([{ ...a, name: 'a-b' }]), /letters, digits/],
    ['a zero ttl', decl([a], { ttlSeconds: 0 }), /ttlSeconds must be > 0/],
    ['a fractional version', decl([a], { version: 1.5 }), /version must be a whole number/],
  ])('rejects a declaration with %s', (_what, d, message) => {
    expect(() => schemaFromDecl(d)).toThrow(InvalidDeclarationError);
    expect(() => schemaFromDecl(d)).toThrow(message);
  });
});

describe('diffSchemas', () => {
  const base = schemaFromDecl(decl([a, b]));

  it('finds no change between equal schemas', () => {
    const d = diffSchemas(base, schemaFromDecl(decl([a, b])));
    expect(d).toEqual({ change: 'none', keys: null, added: [], removed: [], typeChanged: [], metadata: [] });
    expect(describeDiff(d)).toEqual([]);
  });

  it('calls added features compatible', () => {
    const d = diffSchemas(base, schemaFromDecl(decl([a, b, c])));
    expect(d.change).toBe('compatible');
    expect(d.added.map((f) => f.name)).toEqual(['c']);
    expect(describeDiff(d)).toEqual(['+ c VARCHAR']);
  });

  it('calls metadata changes compatible and names them', () => {
    const d = diffSchemas(base, schemaFromDecl(decl([{ ...a, description: 'changed', max: 10 }, b], { owner: 'someone', ttlSeconds: 7200 })));
    expect(d.change).toBe('compatible');
    expect(d.metadata).toEqual([
      { feature: null, field: 'owner', from: 'tests', to: 'someone' },
      { feature: null, field: 'ttlSeconds', from: 86_400, to: 7200 },
      { feature: 'a', field: 'description', from: 'first', to: 'changed' },
      { feature: 'a', field: 'rules', from: { min: 0 }, to: { min: 0, max: 10 } },
    ]);
  });

  it('calls a reordering compatible (readers select by name)', () => {
    const d = diffSchemas(base, schemaFromDecl(decl([b, a])));
    expect(d.change).toBe('compatible');
    expect(d.metadata).toEqual([{ feature: null, field: 'featureOrder', from: ['a', 'b'], to: ['b', 'a'] }]);
  });

  it('calls a removal breaking', () => {
    const d = diffSchemas(base, schemaFromDecl(decl([a])));
    expect(d.change).toBe('breaking');
    expect(d.removed.map((f) => f.name)).toEqual(['b']);
    expect(describeDiff(d)).toEqual(['- b BIGINT (removed: breaking)']);
  });

  it('calls a rename breaking (a removal plus an addition)', () => {
    const d = diffSchemas(base, schemaFromDecl(decl([a, { ...b, name: 'b2' }])));
    expect(d.change).toBe('breaking');
    expect([d.removed.map((f) => f.name), d.added.map((f) => f.name)]).toEqual([['b'], ['b2']]);
  });

  it('calls a type change breaking', () => {
    const d = diffSchemas(base, schemaFromDecl(decl([a, { ...b, type: 'DOUBLE' }])));
    expect(d.change).toBe('breaking');
    expect(d.typeChanged).toEqual([{ feature: 'b', from: 'BIGINT', to: 'DOUBLE' }]);
  });

  it('calls a key change breaking', () => {
    const d = diffSchemas(base, schemaFromDecl(decl([a, b], { keys: [{ name: 'account_id', type: 'VARCHAR' }] })));
    expect(d.change).toBe('breaking');
    expect(describeDiff(d)[0]).toBe('keys: user_id -> account_id (breaking)');
  });

  it('canonical JSON ignores key order and undefined fields', () => {
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: 'x' }] })).toBe(canonicalJson({ a: [{ c: 'x' }], b: 1 }));
  });
});
