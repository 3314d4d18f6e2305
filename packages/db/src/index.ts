export * from './client.js';
export * from './tenant-context.js';
export * from './lookups.js';
export * from './migrate.js';
export * from './role-check.js';
export * as schema from './schema/index.js';
export * from './schema/index.js';
export * from './api-key-lookups.js';
