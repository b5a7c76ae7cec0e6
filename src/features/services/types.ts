// The declaration of a feature service: a named, versioned list of feature references that a model
// reads, online (`POST /get-online-features {"feature_service": name}`) and offline (`gold training-set
// --feature-service name`), so that both read the same features with the same normalization.
import { isNormalizable, isNormalizeMethod, NORMALIZE_METHODS, type NormalizeMethod } from '../../offline/normalize.js';
import { ON_DEMAND, type OnDemandFeature } from '../on-demand/decl.js';
import type { FamilyDecl } from '../types.js';

export interface FeatureServiceDecl {
  name: string;
  /**
   * Bump when a feature is removed or renamed, or a feature's normalization changes (the registry
   * refuses it otherwise); adding a feature needs no bump.
   */
  version: number;
  description: string;
  owner: string;
  /**
   * 'family:feature', or 'family:feature:method' (zscore, minmax, robust) to serve and train on it
   * normalized, or 'on_demand:name' for an on-demand feature (src/features/on-demand/).
   */
  features: readonly string[];
}

export interface ServiceRef {
  family: string;
  feature: string;
  normalize?: NormalizeMethod;
}

export class InvalidFeatureServiceError extends Error {
  override name = 'InvalidFeatureServiceError';
  readonly nonRetryable = true;
}

const REF = /^([A-Za-z_][A-Za-z0-9_]*):([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z0-9_]+))?$/;

/** 'family:feature' of a ref, without its method. */
export function refKey(ref: string): string {
  return ref.split(':').slice(0, 2).join(':');
}

/**
 * Checks a declaration against the family declarations: a lower-case name, a whole version >= 1, at
 * least one ref, every ref naming a declared family and feature once, a method only on a numeric feature.
 */
export function checkService(decl: FeatureServiceDecl, families: readonly FamilyDecl[], onDemand: readonly OnDemandFeature[] = []): ServiceRef[] {
  const where = `feature service '${decl.name}'`;
  if (!/^[a-z][a-z0-9_]*$/.test(decl.name)) throw new InvalidFeatureServiceError(`${where}: the name must be lower-case letters, digits and '_'`);
  if (!Number.isInteger(decl.version) || decl.version < 1)
    throw new InvalidFeatureServiceError(`${where}: version must be a whole number >= 1, got ${decl.version}`);
  if (decl.features.length === 0) throw new InvalidFeatureServiceError(`${where}: at least one feature is required`);
  const seen = new Set<string>();
  return decl.features.map((ref) => {
    const m = REF.exec(ref);
    if (!m) throw new InvalidFeatureServiceError(`${where}: invalid feature reference '${ref}': expected family:feature or family:feature:method`);
    const [, familyName, featureName, method] = m as unknown as [string, string, string, string | undefined];
    const key = `${familyName}:${featureName}`;
    if (seen.has(key)) throw new InvalidFeatureServiceError(`${where}: feature '${key}' is listed twice`);
    seen.add(key);
    if (familyName === ON_DEMAND) {
      if (!onDemand.some((f) => f.decl.name === featureName))
        throw new InvalidFeatureServiceError(
          `${where}: '${ref}' names no declared on-demand feature (on-demand features: ${onDemand.map((f) => f.decl.name).join(', ') || 'none'})`,
        );
      if (method !== undefined) throw new InvalidFeatureServiceError(`${where}: '${ref}': on-demand features are not normalized`);
      return { family: familyName, feature: featureName };
    }
    const fam = families.find((f) => f.name === familyName);
    if (!fam) throw new InvalidFeatureServiceError(`${where}: '${ref}' names no declared family (families: ${families.map((f) => f.name).join(', ')})`);
    const feature = fam.features.find((f) => f.name === featureName);
    if (!feature)
      throw new InvalidFeatureServiceError(
        `${where}: '${ref}': family ${familyName} declares no feature '${featureName}' (features: ${fam.features.map((f) => f.name).join(', ')}); ` +
          `if it was removed from the family, drop it from the service and bump the service's version`,
      );
    if (method === undefined) return { family: familyName, feature: featureName };
    if (!isNormalizeMethod(method))
      throw new InvalidFeatureServiceError(`${where}: '${ref}': unknown normalization '${method}' (expected ${NORMALIZE_METHODS.join(', ')})`);
    if (!isNormalizable(feature.type))
      throw new InvalidFeatureServiceError(`${where}: '${ref}': ${key} is ${feature.type}, and only numeric features (BIGINT, DOUBLE) can be normalized`);
    return { family: familyName, feature: featureName, normalize: method };
  });
}

/** Checks every declaration, and that no two share a name. */
export function checkServices(
  services: readonly FeatureServiceDecl[],
  families: readonly FamilyDecl[],
  onDemand: readonly OnDemandFeature[] = [],
): readonly FeatureServiceDecl[] {
  const names = new Set<string>();
  for (const s of services) {
    checkService(s, families, onDemand);
    if (names.has(s.name)) throw new InvalidFeatureServiceError(`feature service '${s.name}' is declared twice`);
    names.add(s.name);
  }
  return services;
}
