// Where `gold serve` and `gold features online` get their feature views: one replaceable function.
// The default reads the registry of the configured lake (each online family at its latest registered
// schema version, the version materialization writes under), and takes the feature services from their
// declarations (those whose views are all served); tests install their own with setViewProvider.
import type { Settings } from '../config/settings.js';
import { FEATURE_SERVICES } from '../features/services/index.js';
import type { FeatureServiceDecl } from '../features/services/types.js';
import { openLake } from '../lake/index.js';
import type { OnlineViewSpec } from '../online/view.js';
import { onlineViews } from '../online/views.js';
import type { ServingCatalog } from './online-features.js';

export type ViewProvider = (settings: Settings) => Promise<ServingCatalog>;

async function registeredViews(settings: Settings): Promise<ServingCatalog> {
  const lake = openLake(settings.lake, settings);
  try {
    const views = await onlineViews(lake);
    return { views, featureServices: servedFeatureServices(FEATURE_SERVICES, views) };
  } finally {
    await lake.close();
  }
}

/**
 * The services whose refs all name served views (a service reading a family not registered yet, or
 * offline only, is left out: requests for it answer 404 like any unknown service).
 */
export function servedFeatureServices(services: readonly FeatureServiceDecl[], views: readonly OnlineViewSpec[]): Record<string, string[]> {
  const served = new Set(views.map((v) => v.name));
  return Object.fromEntries(services.filter((s) => s.features.every((r) => served.has(r.split(':')[0]!))).map((s) => [s.name, [...s.features]]));
}

let provider: ViewProvider = registeredViews;

export function setViewProvider(p: ViewProvider): void {
  provider = p;
}

export function servingCatalog(settings: Settings): Promise<ServingCatalog> {
  return provider(settings);
}
