// The schema registry in the lake: registry/<family>/v<n>.json, one immutable object per version.
// A new version is created with writeIfAbsent, so two concurrent registrations cannot both create v<n>
// nor lose an update: the one that loses re-reads the latest version and decides again.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FamilyDecl } from '../features/types.js';
import { type Lake, LakeNotFoundError, paths } from '../lake/index.js';
import { describeDiff, diffSchemas, type SchemaDiff } from './diff.js';
import { type FamilySchema, sameSchema, schemaFromDecl } from './schema.js';
import { servicesUsing } from './services.js';

export interface RegisteredSchema {
  family: string;
  version: number;
  change: 'initial' | 'compatible' | 'breaking';
  registeredAt: string;
  /** From the previous version; null for the first. */
  diff: SchemaDiff | null;
  schema: FamilySchema;
}

export interface Registration {
  version: number;
  change: 'none' | 'compatible' | 'breaking' | 'initial';
  /** Against the latest version before this registration; null when there was none. */
  diff: SchemaDiff | null;
}

export class SchemaBreakingChangeError extends Error {
  override name = 'SchemaBreakingChangeError';
  readonly nonRetryable = true;
  readonly type = 'SchemaBreakingChange';
  constructor(
    readonly family: string,
    readonly latest: RegisteredSchema,
    readonly diff: SchemaDiff,
    declarationVersion: number,
  ) {
    const older = declarationVersion < latest.schema.declarationVersion;
    super(
      older
        ? `schema change of ${family} refused: the declaration's version ${declarationVersion} is older than registered version ${latest.version}'s ` +
            `(declaration version ${latest.schema.declarationVersion}); this code is behind the registry`
        : `breaking schema change of ${family} refused: ${describeDiff(diff)
            .filter((l) => l.includes('breaking'))
            .map((l) => l.trim())
            .join('; ')}. ` +
            `Registered version ${latest.version} has declaration version ${latest.schema.declarationVersion}, the declaration says ${declarationVersion}: ` +
            `bump the family's version to make the change (and backfill its gold), or keep the features compatible (only add features).`,
    );
  }
}

/** A family schema would remove features that registered feature services (their latest versions) still use. */
export class FeatureUsedByServiceError extends Error {
  override name = 'FeatureUsedByServiceError';
  readonly nonRetryable = true;
  readonly type = 'SchemaBreakingChange';
  constructor(
    readonly family: string,
    readonly users: { service: string; version: number; declarationVersion: number; refs: string[] }[],
  ) {
    super(
      `schema change of ${family} refused: it removes ${[...new Set(users.flatMap((u) => u.refs.map((r) => r.split(':').slice(0, 2).join(':'))))].join(', ')}, used by feature service(s) ` +
        `${users.map((u) => `${u.service} (registered version ${u.version}, declaration version ${u.declarationVersion}: ${u.refs.join(', ')})`).join('; ')}. ` +
        `Drop the feature(s) from each service's declaration, bump its version, and register the services first (gold registry register does).`,
    );
  }
}

export class SchemaNotFoundError extends Error {
  override name = 'SchemaNotFoundError';
  readonly nonRetryable = true;
}

export class RegistryConflictError extends Error {
  override name = 'RegistryConflictError';
}

const VERSION_FILE = /^v(\d+)\.json$/;
/** The folder holding every family's registry folder. */
const REGISTRY_ROOT = paths.registry('').replace(/\/+$/, '');

function versionKey(family: string, version: number): string {
  return paths.join(paths.registry(family), `v${version}.json`);
}

/** Registered version numbers of a family, ascending. */
export async function schemaVersions(lake: Lake, family: string): Promise<number[]> {
  const prefix = paths.registry(family);
  return (await lake.list(prefix))
    .map((e) => VERSION_FILE.exec(e.key.slice(prefix.length + 1)))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

async function readVersion(lake: Lake, family: string, version: number): Promise<RegisteredSchema> {
  const key = versionKey(family, version);
  let raw: Buffer;
  try {
    raw = await lake.read(key);
  } catch (e) {
    if (e instanceof LakeNotFoundError) {
      const known = await schemaVersions(lake, family);
      throw new SchemaNotFoundError(
        known.length === 0
          ? `no schema registered for family '${family}' in lake ${lake.uri}`
          : `family '${family}' has no schema version ${version} (registered: ${known.join(', ')})`,
      );
    }
    throw e;
  }
  try {
    return JSON.parse(raw.toString('utf8')) as RegisteredSchema;
  } catch {
    throw new Error(`corrupt registry entry ${key} in lake ${lake.uri}`);
  }
}

/** One version of a family's schema; the latest when no version is given. */
export async function getSchema(lake: Lake, family: string, version?: number): Promise<RegisteredSchema> {
  if (version !== undefined) return readVersion(lake, family, version);
  const versions = await schemaVersions(lake, family);
  if (versions.length === 0) throw new SchemaNotFoundError(`no schema registered for family '${family}' in lake ${lake.uri}`);
  return readVersion(lake, family, versions[versions.length - 1]!);
}

/** Families with at least one registered schema, sorted. */
export async function registeredFamilies(lake: Lake): Promise<string[]> {
  const dirs = await lake.listDirs(REGISTRY_ROOT);
  const withVersions = await Promise.all(dirs.map(async (d) => ((await schemaVersions(lake, d)).length > 0 ? d : null)));
  return withVersions.filter((d): d is string => d !== null);
}

/** Every version of one family (or of every family), by family then version. */
export async function listSchemas(lake: Lake, family?: string): Promise<RegisteredSchema[]> {
  const families = family === undefined ? await registeredFamilies(lake) : [family];
  const out: RegisteredSchema[] = [];
  for (const f of families) out.push(...(await Promise.all((await schemaVersions(lake, f)).map((v) => readVersion(lake, f, v)))));
  return out;
}

export interface RegisterOptions {
  /** Attempts when other registrations keep winning the race for the next version. */
  maxAttempts?: number;
}

/**
 * Records the declaration's schema: the latest version when unchanged, a new version for a compatible
 * change, and for a breaking change a new version only when the declaration's version was bumped
 * (SchemaBreakingChangeError otherwise) and no registered feature service uses a removed feature
 * (FeatureUsedByServiceError otherwise).
 */
export async function registerFamily(lake: Lake, decl: FamilyDecl, opts: RegisterOptions = {}): Promise<Registration> {
  const schema = schemaFromDecl(decl);
  const maxAttempts = opts.maxAttempts ?? 50;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const versions = await schemaVersions(lake, decl.name);
    const latestVersion = versions[versions.length - 1];
    let entry: RegisteredSchema;
    if (latestVersion === undefined) {
      entry = { family: decl.name, version: 1, change: 'initial', registeredAt: new Date().toISOString(), diff: null, schema };
    } else {
      const latest = await readVersion(lake, decl.name, latestVersion);
      if (sameSchema(latest.schema, schema)) return { version: latest.version, change: 'none', diff: diffSchemas(latest.schema, schema) };
      const diff = diffSchemas(latest.schema, schema);
      const bumped = schema.declarationVersion > latest.schema.declarationVersion;
      if ((diff.change === 'breaking' && !bumped) || schema.declarationVersion < latest.schema.declarationVersion) {
        throw new SchemaBreakingChangeError(decl.name, latest, diff, schema.declarationVersion);
      }
      const users = await servicesUsing(
        lake,
        decl.name,
        diff.removed.map((f) => f.name),
      );
      if (users.length > 0)
        throw new FeatureUsedByServiceError(
          decl.name,
          users.map((u) => ({ service: u.service.service, version: u.service.version, declarationVersion: u.service.schema.declarationVersion, refs: u.refs })),
        );
      entry = {
        family: decl.name,
        version: latest.version + 1,
        change: diff.change === 'breaking' ? 'breaking' : 'compatible',
        registeredAt: new Date().toISOString(),
        diff,
        schema,
      };
    }
    if (await lake.writeIfAbsent(versionKey(decl.name, entry.version), JSON.stringify(entry, null, 1))) {
      return { version: entry.version, change: entry.change, diff: entry.diff };
    }
    // Another registration created that version first: decide again against it.
    await sleep(Math.floor(Math.random() * 20 * Math.min(attempt, 5)));
  }
  throw new RegistryConflictError(`could not register ${decl.name} after ${maxAttempts} attempts: other registrations kept creating new versions`);
}
