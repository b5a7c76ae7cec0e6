export * from './diff.js';
export * from './schema.js';
export * from './store.js';
