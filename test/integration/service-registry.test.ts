// Feature services in the registry of a real (local) lake: versions and compatibility, and a family
// schema that removes a feature a registered service uses, refused until the service is bumped to drop it.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { FeatureServiceDecl } from '../../src/features/services/types.js';
import type { FeatureDecl } from '../../src/features/types.js';
import { type Lake, openLake } from '../../src/lake/index.js';
import {
  FeatureUsedByServiceError,
  getSchema,
  getService,
  latestServices,
  registerFamily,
  registerService,
  retireService,
  ServiceBreakingChangeError,
  serviceVersions,
} from '../../src/registry/index.js';
import { runGold } from '../support/cli.js';
import { tempDir } from '../support/env.js';
import { toyFamily } from '../support/toy-family.js';

const f = (name: string): FeatureDecl => ({ name, type: 'DOUBLE', description: name });
const svc = (features: string[], over: Partial<FeatureServiceDecl> = {}): FeatureServiceDecl => ({
  name: 'toy_service',
  version: 1,
  description: 'a toy service',
  owner: 'tests',
  features,
  ...over,
});

describe('feature services in the registry', () => {
  const lakes: Lake[] = [];
  const lake = (): Lake => {
    const l = openLake(tempDir(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    lakes.push(l);
    return l;
  };
  afterAll(async () => {
    await Promise.all(lakes.map((l) => l.close()));
  });

  it('records an initial version, keeps it when unchanged, adds one for an added feature or new metadata', async () => {
    const l = lake();
    expect(await registerService(l, svc(['toy_features:a']))).toEqual({ version: 1, change: 'initial', diff: null });
    expect(await registerService(l, svc(['toy_features:a']))).toMatchObject({ version: 1, change: 'none' });
    expect(await registerService(l, svc(['toy_features:a', 'toy_features:b:zscore']))).toMatchObject({
      version: 2,
      change: 'compatible',
      diff: { added: ['toy_features:b:zscore'] },
    });
    expect(await registerService(l, svc(['toy_features:a', 'toy_features:b:zscore'], { owner: 'someone' }))).toMatchObject({
      version: 3,
      change: 'compatible',
    });
    expect(await serviceVersions(l, 'toy_service')).toEqual([1, 2, 3]);
    expect((await getService(l, 'toy_service', 1)).schema.features).toEqual(['toy_features:a']);
    expect((await latestServices(l)).map((s) => [s.service, s.version])).toEqual([['toy_service', 3]]);
  });

  it('refuses removing, renaming or renormalizing a feature unless the version is bumped', async () => {
    const l = lake();
    await registerService(l, svc(['toy_features:a', 'toy_features:b:zscore']));
    await expect(registerService(l, svc(['toy_features:a']))).rejects.toThrow(ServiceBreakingChangeError);
    await expect(registerService(l, svc(['toy_features:a']))).rejects.toThrow(
      /breaking change of feature service toy_service refused: - toy_features:b \(removed: breaking\)\. .*bump the service's version/,
    );
    await expect(registerService(l, svc(['toy_features:a2', 'toy_features:b:zscore']))).rejects.toThrow(/- toy_features:a \(removed/);
    await expect(registerService(l, svc(['toy_features:a', 'toy_features:b:minmax']))).rejects.toThrow(
      /~ toy_features:b:zscore -> toy_features:b:minmax \(normalization change: breaking\)/,
    );
    expect(await registerService(l, svc(['toy_features:a'], { version: 2 }))).toMatchObject({ version: 2, change: 'breaking' });
    await expect(registerService(l, svc(['toy_features:a']))).rejects.toThrow(/declaration's version 1 is older than registered version 2's/);
  });

  it('refuses a family schema that removes a feature a registered service uses, naming the service, until the service drops it at a bumped version', async () => {
    const l = lake();
    await registerFamily(l, toyFamily([f('a'), f('b')]));
    await registerService(l, svc(['toy_features:a', 'toy_features:b:zscore']));
    await registerService(l, svc(['toy_features:a'], { name: 'other_service' }));
    // Even with the family's version bumped (what a breaking family change needs).
    const err = await registerFamily(l, toyFamily([f('a')], { version: 2 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeatureUsedByServiceError);
    expect((err as Error).message).toMatch(
      /schema change of toy_features refused: it removes toy_features:b, used by feature service\(s\) toy_service \(registered version 1, declaration version 1: toy_features:b:zscore\)\. Drop the feature\(s\) from each service's declaration, bump its version/,
    );
    expect((err as Error).message).not.toContain('other_service');
    expect((await getSchema(l, 'toy_features')).version).toBe(1);
    // Dropping the ref without a bump is itself refused; with one, the family change goes through.
    await expect(registerService(l, svc(['toy_features:a']))).rejects.toThrow(ServiceBreakingChangeError);
    await registerService(l, svc(['toy_features:a'], { version: 2 }));
    expect(await registerFamily(l, toyFamily([f('a')], { version: 2 }))).toMatchObject({ version: 2, change: 'breaking' });
    // Services using only kept features never block, nor do added features.
    expect(await registerFamily(l, toyFamily([f('a'), f('c')], { version: 2 }))).toMatchObject({ version: 3, change: 'compatible' });
  });
});

describe('retired feature services', () => {
  it('no longer hold families back, and start afresh when declared again', async () => {
    const l = openLake(tempDir(), { s3CacheDir: tempDir(), s3CacheMaxBytes: 1e9 });
    try {
      await registerFamily(l, toyFamily([f('a'), f('b')]));
      await registerService(l, svc(['toy_features:b'], { version: 3 }));
      await expect(registerFamily(l, toyFamily([f('a')], { version: 2 }))).rejects.toThrow(FeatureUsedByServiceError);
      expect(await retireService(l, 'toy_service')).toEqual({ version: 2, change: 'retired', diff: null });
      expect(await retireService(l, 'toy_service')).toEqual({ version: 2, change: 'none', diff: null });
      expect((await getService(l, 'toy_service')).schema.features).toEqual(['toy_features:b']);
      expect(await registerFamily(l, toyFamily([f('a')], { version: 2 }))).toMatchObject({ version: 2, change: 'breaking' });
      // Declared again (any version, any features): a new start, not a change against the retired one.
      expect(await registerService(l, svc(['toy_features:a']))).toEqual({ version: 3, change: 'initial', diff: null });
      await expect(retireService(l, 'nope')).rejects.toThrow(/no feature service 'nope' registered/);
    } finally {
      await l.close();
    }
  });
});

describe('gold registry register / services (CLI)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = 0;
  });
  const gold = (root: string, ...args: string[]) => runGold('--lake', root, '--log-level', 'silent', ...args);

  it('registers the declared services with the families, and lists and shows them', async () => {
    const root = tempDir();
    const reg = await gold(root, 'registry', 'register', '--json');
    expect(reg.code, reg.err).toBe(0);
    const rows = JSON.parse(reg.out) as { family?: string; service?: string; version: number; change: string }[];
    expect(rows.slice(0, 2)).toEqual([
      { service: 'ranking_v1', version: 1, change: 'initial', diff: null },
      { service: 'candidate_retrieval_v1', version: 1, change: 'initial', diff: null },
    ]);
    expect(rows.filter((r) => r.family).length).toBeGreaterThan(5);
    const only = await gold(root, 'registry', 'register', '--services', 'ranking_v1', '--json');
    expect(JSON.parse(only.out)).toEqual([
      { service: 'ranking_v1', version: 1, change: 'none', diff: { change: 'none', added: [], removed: [], methodChanged: [], metadata: [] } },
    ]);
    const list = await gold(root, 'registry', 'services');
    expect(list.out).toMatch(/candidate_retrieval_v1\s+v1\s+6 features\s+owner ml-platform/);
    expect(list.out).toMatch(/ranking_v1\s+v1\s+15 features/);
    const show = await gold(root, 'registry', 'services', 'ranking_v1');
    expect(show.out).toMatch(/^ranking_v1 v1 \(initial/);
    expect(show.out).toContain('  user_features:watch_time_7d:zscore');
    expect((await gold(root, 'registry', 'services', 'nope')).err).toMatch(/no feature service 'nope' registered/);
    expect((await gold(root, 'registry', 'register', '--services', 'nope')).err).toMatch(/unknown feature service 'nope'/);
    expect((await gold(root, 'registry', 'retire-service', 'ranking_v1')).err).toMatch(
      /'ranking_v1' is still declared \(src\/features\/services\/\): delete its declaration first/,
    );
  });
});
