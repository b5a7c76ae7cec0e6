// Feature services in the registry: registry-services/<service>/v<n>.json, one immutable object per
// version, created with writeIfAbsent like family schemas (store.ts). Compatibility mirrors families':
// adding features and changing the description or owner are compatible; removing or renaming a
// feature, or changing its normalization, is breaking and needs the declaration's version bumped.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FeatureServiceDecl } from '../features/services/types.js';
import { type Lake, LakeNotFoundError, paths } from '../lake/index.js';
import { canonicalJson } from './schema.js';

export interface ServiceSchema {
  service: string;
  /** The declaration's own `version`: bumped by its author to allow a breaking change. */
  declarationVersion: number;
  description: string;
  owner: string;
  /** The refs as declared: 'family:feature' or 'family:feature:method', in order. */
  features: string[];
}

export interface ServiceDiff {
  change: 'none' | 'compatible' | 'breaking';
  added: string[];
  /** 'family:feature' no longer in the service. */
  removed: string[];
  /** A feature kept with another normalization: [from ref, to ref]. */
  methodChanged: [string, string][];
  /** description, owner, featureOrder. */
  metadata: string[];
}

export interface RegisteredService {
  service: string;
  version: number;
  /** 'retired': the service was retired (retireService); its features no longer hold families back. */
  change: 'initial' | 'compatible' | 'breaking' | 'retired';
  registeredAt: string;
  diff: ServiceDiff | null;
  schema: ServiceSchema;
}

export interface ServiceRegistration {
  version: number;
  change: 'none' | 'compatible' | 'breaking' | 'initial' | 'retired';
  diff: ServiceDiff | null;
}

export class ServiceBreakingChangeError extends Error {
  override name = 'ServiceBreakingChangeError';
  readonly nonRetryable = true;
  readonly type = 'SchemaBreakingChange';
}

export class ServiceNotFoundError extends Error {
  override name = 'ServiceNotFoundError';
  readonly nonRetryable = true;
}

const VERSION_FILE = /^v(\d+)\.json$/;
const ROOT = paths.serviceRegistry('').replace(/\/+$/, '');

function key(service: string, version: number): string {
  return paths.join(paths.serviceRegistry(service), `v${version}.json`);
}

export function serviceSchemaFromDecl(decl: FeatureServiceDecl): ServiceSchema {
  return { service: decl.name, declarationVersion: decl.version, description: decl.description, owner: decl.owner, features: [...decl.features] };
}

const featureKey = (ref: string) => ref.split(':').slice(0, 2).join(':');

export function diffServices(a: ServiceSchema, b: ServiceSchema): ServiceDiff {
  const before = new Map(a.features.map((r) => [featureKey(r), r]));
  const after = new Map(b.features.map((r) => [featureKey(r), r]));
  const added = b.features.filter((r) => !before.has(featureKey(r)));
  const removed = [...before.keys()].filter((k) => !after.has(k));
  const methodChanged = [...before].flatMap(([k, r]): [string, string][] => (after.has(k) && after.get(k) !== r ? [[r, after.get(k)!]] : []));
  const metadata = (['description', 'owner'] as const).filter((f) => a[f] !== b[f]) as string[];
  const kept = (s: ServiceSchema) => s.features.map(featureKey).filter((k) => before.has(k) && after.has(k));
  if (canonicalJson(kept(a)) !== canonicalJson(kept(b))) metadata.push('featureOrder');
  const change = removed.length > 0 || methodChanged.length > 0 ? 'breaking' : added.length > 0 || metadata.length > 0 ? 'compatible' : 'none';
  return { change, added, removed, methodChanged, metadata };
}

/** One line per change, for people. */
export function describeServiceDiff(d: ServiceDiff): string[] {
  return [
    ...d.removed.map((r) => `- ${r} (removed: breaking)`),
    ...d.methodChanged.map(([from, to]) => `~ ${from} -> ${to} (normalization change: breaking)`),
    ...d.added.map((r) => `+ ${r}`),
    ...d.metadata.map((m) => `  ${m} changed`),
  ];
}

/** Registered version numbers of a service, ascending. */
export async function serviceVersions(lake: Lake, service: string): Promise<number[]> {
  const prefix = paths.serviceRegistry(service);
  return (await lake.list(prefix))
    .map((e) => VERSION_FILE.exec(e.key.slice(prefix.length + 1)))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((x, y) => x - y);
}

async function readVersion(lake: Lake, service: string, version: number): Promise<RegisteredService> {
  let raw: Buffer;
  try {
    raw = await lake.read(key(service, version));
  } catch (e) {
    if (e instanceof LakeNotFoundError) {
      const known = await serviceVersions(lake, service);
      throw new ServiceNotFoundError(
        known.length === 0
          ? `no feature service '${service}' registered in lake ${lake.uri}`
          : `feature service '${service}' has no version ${version} (registered: ${known.join(', ')})`,
      );
    }
    throw e;
  }
  try {
    return JSON.parse(raw.toString('utf8')) as RegisteredService;
  } catch {
    throw new Error(`corrupt registry entry ${key(service, version)} in lake ${lake.uri}`);
  }
}

/** One version of a service; the latest when no version is given. */
export async function getService(lake: Lake, service: string, version?: number): Promise<RegisteredService> {
  if (version !== undefined) return readVersion(lake, service, version);
  const versions = await serviceVersions(lake, service);
  if (versions.length === 0) throw new ServiceNotFoundError(`no feature service '${service}' registered in lake ${lake.uri}`);
  return readVersion(lake, service, versions[versions.length - 1]!);
}

/** The latest registered version of every service, by name. */
export async function latestServices(lake: Lake): Promise<RegisteredService[]> {
  const out: RegisteredService[] = [];
  for (const name of (await lake.listDirs(ROOT)).sort()) {
    const versions = await serviceVersions(lake, name);
    if (versions.length > 0) out.push(await readVersion(lake, name, versions[versions.length - 1]!));
  }
  return out;
}

/**
 * Records the declaration: the latest version when unchanged, a new version for a compatible change,
 * and for a breaking change a new version only when the declaration's version was bumped
 * (ServiceBreakingChangeError otherwise). The refs are checked against the family declarations when
 * the declarations load (features/services), not here: a service may be registered before the
 * family schemas it reads from (gold registry register registers services first).
 */
export async function registerService(lake: Lake, decl: FeatureServiceDecl, opts: { maxAttempts?: number } = {}): Promise<ServiceRegistration> {
  const schema = serviceSchemaFromDecl(decl);
  const maxAttempts = opts.maxAttempts ?? 50;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const versions = await serviceVersions(lake, decl.name);
    const latestVersion = versions[versions.length - 1];
    let entry: RegisteredService;
    const latest = latestVersion === undefined ? undefined : await readVersion(lake, decl.name, latestVersion);
    if (latest === undefined || latest.change === 'retired') {
      // A retired service declared again starts afresh.
      entry = { service: decl.name, version: (latest?.version ?? 0) + 1, change: 'initial', registeredAt: new Date().toISOString(), diff: null, schema };
    } else {
      const diff = diffServices(latest.schema, schema);
      if (diff.change === 'none' && canonicalJson(latest.schema) === canonicalJson(schema)) return { version: latest.version, change: 'none', diff };
      const was = latest.schema.declarationVersion;
      if (schema.declarationVersion < was)
        throw new ServiceBreakingChangeError(
          `feature service ${decl.name} refused: the declaration's version ${schema.declarationVersion} is older than registered version ${latest.version}'s (declaration version ${was}); this code is behind the registry`,
        );
      if (diff.change === 'breaking' && schema.declarationVersion === was)
        throw new ServiceBreakingChangeError(
          `breaking change of feature service ${decl.name} refused: ${describeServiceDiff(diff)
            .filter((l) => l.includes('breaking'))
            .join('; ')}. Registered version ${latest.version} has declaration version ${was}, the declaration says ${schema.declarationVersion}: ` +
            `bump the service's version (models reading it must move to the new version), or only add features.`,
        );
      entry = {
        service: decl.name,
        version: latest.version + 1,
        change: diff.change === 'breaking' ? 'breaking' : 'compatible',
        registeredAt: new Date().toISOString(),
        diff,
        schema,
      };
    }
    if (await lake.writeIfAbsent(key(decl.name, entry.version), JSON.stringify(entry, null, 1))) {
      return { version: entry.version, change: entry.change, diff: entry.diff };
    }
    await sleep(Math.floor(Math.random() * 20 * Math.min(attempt, 5)));
  }
  throw new Error(`could not register feature service ${decl.name} after ${maxAttempts} attempts: other registrations kept creating new versions`);
}

/**
 * Records that a service is no longer served (its declaration was deleted): a new version, `retired`,
 * with the last features kept for the record. Its features then no longer hold families back. Already
 * retired: that version, unchanged.
 */
export async function retireService(lake: Lake, service: string): Promise<ServiceRegistration> {
  for (let attempt = 1; attempt <= 50; attempt++) {
    const latest = await getService(lake, service);
    if (latest.change === 'retired') return { version: latest.version, change: 'none', diff: null };
    const entry: RegisteredService = {
      service,
      version: latest.version + 1,
      change: 'retired',
      registeredAt: new Date().toISOString(),
      diff: null,
      schema: latest.schema,
    };
    if (await lake.writeIfAbsent(key(service, entry.version), JSON.stringify(entry, null, 1))) return { version: entry.version, change: 'retired', diff: null };
    await sleep(Math.floor(Math.random() * 20 * Math.min(attempt, 5)));
  }
  throw new Error(`could not retire feature service ${service}: other registrations kept creating new versions`);
}

/**
 * The registered services (latest versions, retired ones aside) that use a feature of `family` among `removed`: a family
 * schema that drops them is refused until each such service is registered at a bumped version without them.
 */
export async function servicesUsing(lake: Lake, family: string, removed: readonly string[]): Promise<{ service: RegisteredService; refs: string[] }[]> {
  if (removed.length === 0) return [];
  const gone = new Set(removed.map((f) => `${family}:${f}`));
  return (await latestServices(lake)).flatMap((s) => {
    if (s.change === 'retired') return [];
    const refs = s.schema.features.filter((r) => gone.has(featureKey(r)));
    return refs.length > 0 ? [{ service: s, refs }] : [];
  });
}
