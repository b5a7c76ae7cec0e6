export * from './errors.js';
export * from './gold.js';
export { getHistoricalFeatures, type HistoricalFeatures, type HistoricalFeaturesRequest } from './training-set.js';
export type { EntitySource } from './entities.js';
export { parseFeatureRefs, type FeatureRef } from './views.js';
