export * from './diff.js';
export * from './schema.js';
export * from './services.js';
export * from './store.js';
