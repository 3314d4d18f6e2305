// Permissions, built-in role sets and tenant-defined roles (docs/roles.md).
export * from './grant-rule.js';
export * from './manage-roles.js';
export * from './permissions.js';
