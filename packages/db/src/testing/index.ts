export * from './cluster-info.js';
export * from './use-test-database.js';
export * from './pg-error.js';
export * from './debian-tools.js';
