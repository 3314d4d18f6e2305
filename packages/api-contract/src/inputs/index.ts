// Zod input schemas per namespace; the console imports them for forms (docs/contributing.md convention 8).
export * from './auth.js';
export * from './users.js';
export * from './mfa.js';
export * from './otp.js';
export * from './passkeys.js';
export * from './api-keys.js';
export * from './audit.js';
export * from './sso.js';
export * from './privacy.js';
export * from './domains.js';
export * from './scim.js';
export * from './saml.js';
export * from './oidc.js';
export * from './roles.js';
