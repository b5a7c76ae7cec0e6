// Where `gold serve` and `gold features online` get their feature views: one replaceable function.
// The default reads the registry of the configured lake (each online family at its latest registered
// schema version, the version materialization writes under); tests install their own with
// setViewProvider.
import type { Settings } from '../config/settings.js';
import { openLake } from '../lake/index.js';
import { onlineViews } from '../online/views.js';
import type { ServingCatalog } from './online-features.js';

export type ViewProvider = (settings: Settings) => Promise<ServingCatalog>;

async function registeredViews(settings: Settings): Promise<ServingCatalog> {
  const lake = openLake(settings.lake, settings);
  try {
    return { views: await onlineViews(lake) };
  } finally {
    await lake.close();
  }
}

let provider: ViewProvider = registeredViews;

export function setViewProvider(p: ViewProvider): void {
  provider = p;
}

export function servingCatalog(settings: Settings): Promise<ServingCatalog> {
  return provider(settings);
}
