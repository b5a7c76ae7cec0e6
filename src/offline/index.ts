export type { EntitySource } from './entities.js';
export * from './errors.js';
export * from './gold.js';
export * from './normalize.js';
export { type AppliedNormalization, getHistoricalFeatures, type HistoricalFeatures, type HistoricalFeaturesRequest } from './training-set.js';
export { type FeatureRef, parseFeatureRefs } from './views.js';
