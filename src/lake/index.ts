export * from './contain.js';
export * from './lake.js';
export { LocalLake } from './local-lake.js';
export * from './open.js';
export * from './partition.js';
export * from './paths.js';
export { S3Lake } from './s3-lake.js';
