// Where `gold serve` and `gold features online` get their feature views: one replaceable function.
// The default reads the registry of the configured lake (each online family at its latest registered
// schema version, the version materialization writes under), and takes the feature services from their
// declarations (those whose views are all served); tests install their own with setViewProvider.
import type { Settings } from '../config/settings.js';
import { ON_DEMAND } from '../features/on-demand/decl.js';
import { ON_DEMAND_FEATURES } from '../features/on-demand/index.js';
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
    return { views, featureServices: servedFeatureServices(FEATURE_SERVICES, views), onDemand: ON_DEMAND_FEATURES };
  } finally {
    await lake.close();
  }
}

/**
 * The services whose refs all name served views (a service reading a family not registered yet, or
 * offline only, is left out: requests for it answer 404 like any unknown service). An on-demand ref
 * ('on_demand:<name>') is served when every family it reads is.
 */
export function servedFeatureServices(services: readonly FeatureServiceDecl[], views: readonly OnlineViewSpec[]): Record<string, string[]> {
  const served = new Set(views.map((v) => v.name));
  const isServed = (ref: string): boolean => {
    const [family, name] = ref.split(':') as [string, string];
    if (family !== ON_DEMAND) return served.has(family);
    const f = ON_DEMAND_FEATURES.find((x) => x.decl.name === name);
    return f?.inputs.every((i) => served.has(i.family)) === true;
  };
  return Object.fromEntries(services.filter((s) => s.features.every(isServed)).map((s) => [s.name, [...s.features]]));
}

let provider: ViewProvider = registeredViews;

export function setViewProvider(p: ViewProvider): void {
  provider = p;
}

export function servingCatalog(settings: Settings): Promise<ServingCatalog> {
  return provider(settings);
}
