// The schema registry in a real lake (local folder and the S3 server): versions, the compatibility
// rules, concurrent registrations without lost updates, and the `gold registry` commands.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { FeatureDecl } from '../../src/features/types.js';
import { type Lake, openLake, paths } from '../../src/lake/index.js';
import { onlineLayoutVersion } from '../../src/online/views.js';
import { getSchema, listSchemas, registerFamily, SchemaBreakingChangeError, SchemaNotFoundError, schemaVersions } from '../../src/registry/index.js';
import { runGold } from '../support/cli.js';
import { s3LakeUri, tempDir } from '../support/env.js';
import { toyFamily } from '../support/toy-family.js';

const decl = toyFamily;

const f = (name: string, type: FeatureDecl['type'] = 'DOUBLE'): FeatureDecl => ({ name, type, description: name });

const kinds: [string, () => string][] = [
  ['local', () => tempDir()],
  ['s3', () => s3LakeUri()],
];

describe.each(kinds)('schema registry on %s', (_kind, root) => {
  const lakes: Lake[] = [];
  const lake = (uri = root()): Lake => {
    const l = openLake(uri, { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    lakes.push(l);
    return l;
  };
  afterAll(async () => {
    await Promise.all(lakes.map((l) => l.close()));
  });

  it('records an initial version, keeps it for the same schema, adds one for a compatible change', async () => {
    const l = lake();
    expect(await registerFamily(l, decl([f('a')]))).toEqual({ version: 1, change: 'initial', diff: null });
    expect(await registerFamily(l, decl([f('a')]))).toMatchObject({ version: 1, change: 'none' });
    const r = await registerFamily(l, decl([f('a'), f('b', 'BIGINT')]));
    expect(r).toMatchObject({ version: 2, change: 'compatible' });
    expect(r.diff!.added.map((x) => x.name)).toEqual(['b']);
    const v2 = await getSchema(l, 'toy_features');
    expect(v2).toMatchObject({ family: 'toy_features', version: 2, change: 'compatible' });
    expect(v2.schema.features.map((x) => x.name)).toEqual(['a', 'b']);
    expect((await getSchema(l, 'toy_features', 1)).schema.features.map((x) => x.name)).toEqual(['a']);
    expect(await schemaVersions(l, 'toy_features')).toEqual([1, 2]);
    expect((await l.list(paths.registry('toy_features'))).map((e) => e.key)).toEqual(['registry/toy_features/v1.json', 'registry/toy_features/v2.json']);
  });

  it('moves online keys only when the record layout changes', async () => {
    const l = lake();
    const layout = (v: number) => onlineLayoutVersion(l, 'toy_features', v);
    await registerFamily(l, decl([f('a')]));
    // A description or an owner is not in the records: v2 and v3 read and write v1's keys.
    await registerFamily(l, decl([{ ...f('a'), description: 'a, better said' }]));
    await registerFamily(l, decl([{ ...f('a'), description: 'a, better said' }], { owner: 'someone else' }));
    expect(await schemaVersions(l, 'toy_features')).toEqual([1, 2, 3]);
    expect([await layout(1), await layout(2), await layout(3)]).toEqual([1, 1, 1]);
    // A new feature is: v4 has keys of its own, and v5 (a description again) shares them.
    await registerFamily(l, decl([{ ...f('a'), description: 'a, better said' }, f('b')], { owner: 'someone else' }));
    await registerFamily(l, decl([{ ...f('a'), description: 'a' }, f('b')], { owner: 'someone else' }));
    expect([await layout(4), await layout(5)]).toEqual([4, 4]);
  });

  it('refuses a breaking change unless the declaration version was bumped', async () => {
    const l = lake();
    await registerFamily(l, decl([f('a'), f('b')]));
    const removed = registerFamily(l, decl([f('a')]));
    await expect(removed).rejects.toBeInstanceOf(SchemaBreakingChangeError);
    await expect(registerFamily(l, decl([f('a')]))).rejects.toThrow(
      /breaking schema change of toy_features refused: - b DOUBLE \(removed: breaking\).*bump the family's version/,
    );
    await expect(registerFamily(l, decl([f('a'), f('b', 'VARCHAR')]))).rejects.toThrow(/b: DOUBLE -> VARCHAR/);
    await expect(registerFamily(l, decl([f('a'), f('b')], { keys: [{ name: 'account_id', type: 'VARCHAR' }] }))).rejects.toThrow(/keys: user_id -> account_id/);
    const err = await registerFamily(l, decl([f('a')])).catch((e: unknown) => e);
    expect((err as SchemaBreakingChangeError).nonRetryable).toBe(true);
    expect(await schemaVersions(l, 'toy_features')).toEqual([1]);

    const bumped = await registerFamily(l, decl([f('a'), f('b2')], { version: 2 }));
    expect(bumped).toMatchObject({ version: 2, change: 'breaking' });
    expect(bumped.diff!.removed.map((x) => x.name)).toEqual(['b']);
    expect((await getSchema(l, 'toy_features', 2)).schema.declarationVersion).toBe(2);
    // Code behind the registry (the old declaration) is refused, even for a schema registered before.
    await expect(registerFamily(l, decl([f('a'), f('b')]))).rejects.toThrow(/declaration's version 1 is older than registered version 2's/);
  });

  it('lists every version and explains missing ones', async () => {
    const l = lake();
    await registerFamily(l, decl([f('a')]));
    await registerFamily(l, decl([f('a'), f('b')]));
    await registerFamily(l, decl([f('x')], { name: 'other_features' }));
    expect((await listSchemas(l)).map((r) => `${r.family}@${r.version}`)).toEqual(['other_features@1', 'toy_features@1', 'toy_features@2']);
    expect((await listSchemas(l, 'toy_features')).map((r) => r.version)).toEqual([1, 2]);
    await expect(getSchema(l, 'toy_features', 7)).rejects.toThrow("family 'toy_features' has no schema version 7 (registered: 1, 2)");
    await expect(getSchema(l, 'nope')).rejects.toBeInstanceOf(SchemaNotFoundError);
    await expect(getSchema(l, 'nope')).rejects.toThrow(/no schema registered for family 'nope'/);
  });

  it('8 concurrent registrations of the same new schema create exactly one version', async () => {
    const uri = root();
    const first = lake(uri);
    await registerFamily(first, decl([f('a')]));
    // Separate lake clients, as separate workers would have.
    const clients = Array.from({ length: 8 }, () => lake(uri));
    const results = await Promise.all(clients.map((c) => registerFamily(c, decl([f('a'), f('b')]))));
    expect(results.map((r) => r.version)).toEqual(Array(8).fill(2));
    expect(results.filter((r) => r.change === 'compatible')).toHaveLength(1);
    expect(results.filter((r) => r.change === 'none')).toHaveLength(7);
    expect(await schemaVersions(first, 'toy_features')).toEqual([1, 2]);
  });

  it('concurrent registrations of different compatible changes lose none of them', async () => {
    const uri = root();
    await registerFamily(lake(uri), decl([f('a')]));
    // Each adds one more feature to the previous: all are compatible with whichever won before.
    const schemas = [1, 2, 3, 4].map((n) => decl([f('a'), ...Array.from({ length: n }, (_, i) => f(`x${i}`))]));
    const clients = schemas.map(() => lake(uri));
    const results = await Promise.all(schemas.map((s, i) => registerFamily(clients[i]!, s).catch((e: Error) => e)));
    const l = lake(uri);
    const versions = await listSchemas(l, 'toy_features');
    // Every registration either created its own version or found a later one that contains it.
    for (const [i, r] of results.entries()) {
      if (r instanceof Error) {
        expect(r).toBeInstanceOf(SchemaBreakingChangeError); // a longer schema won first: this one would remove features
        continue;
      }
      const recorded = versions.find((v) => v.version === r.version)!;
      expect(recorded.schema.features.map((x) => x.name)).toEqual(schemas[i]!.features.map((x) => x.name));
    }
    expect(new Set(versions.map((v) => v.version)).size).toBe(versions.length);
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
  });
});

describe('gold registry (CLI)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = 0;
  });

  const gold = (root: string, ...args: string[]) => runGold('--lake', root, '--log-level', 'silent', ...args);

  it('registers the declared families, then lists, shows and diffs them', async () => {
    const root = tempDir();
    const reg = await gold(root, 'registry', 'register', '--families', 'user_features,item_features', '--json');
    expect(reg.code).toBe(0);
    expect(JSON.parse(reg.out)).toEqual([
      { family: 'user_features', version: 1, change: 'initial', diff: null },
      { family: 'item_features', version: 1, change: 'initial', diff: null },
    ]);
    const l = openLake(root, { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    await registerFamily(l, { ...(await import('../../src/features/families/index.js')).family('user_features'), owner: 'new-owner' });

    const list = await gold(root, 'registry', 'list', '--json');
    expect(JSON.parse(list.out).map((r: { family: string; version: number; versions: number }) => [r.family, r.version, r.versions])).toEqual([
      ['item_features', 1, 1],
      ['user_features', 2, 2],
    ]);
    const userFeatureCount = (await import('../../src/features/families/index.js')).family('user_features').features.length;
    expect(userFeatureCount).toBe(20); // 18 before issue 25 added events_per_session_7d and _30d
    expect((await gold(root, 'registry', 'list')).out).toMatch(new RegExp(`user_features\\s+v2\\s+${userFeatureCount} features\\s+owner new-owner`));

    const show = await gold(root, 'registry', 'show', 'user_features', '--version', '1');
    expect(show.out).toMatch(/^user_features v1 \(initial/);
    expect(show.out).toMatch(/watch_time_7d\s+DOUBLE/);
    expect(JSON.parse((await gold(root, 'registry', 'show', 'user_features', '--json')).out)).toMatchObject({ version: 2, schema: { owner: 'new-owner' } });

    const diff = await gold(root, 'registry', 'diff', 'user_features', '1', '2');
    expect(diff.out).toBe('user_features v1 -> v2: compatible\n  owner: "ml-platform" -> "new-owner"\n');
    expect(JSON.parse((await gold(root, 'registry', 'diff', 'user_features', '1', '2', '--json')).out)).toMatchObject({
      change: 'compatible',
      added: [],
      removed: [],
    });
    await l.close();
  });

  it('fails with a one-line reason', async () => {
    const root = tempDir();
    const r = await gold(root, 'registry', 'show', 'nope');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^gold: no schema registered for family 'nope'/);
    expect((await gold(root, 'registry', 'diff', 'nope', '1', 'x')).err).toMatch(/invalid version 'x'/);
    expect((await gold(root, 'registry', 'register', '--families', 'nope')).err).toMatch(/unknown feature family 'nope'/);
  });
});
