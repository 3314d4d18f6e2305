export * from './tenants.js';
export * from './users.js';
export * from './identity.js';
export * from './audit.js';
export * from './mfa.js';
export * from './api-keys.js';
export * from './sso.js';
export * from './privacy.js';
