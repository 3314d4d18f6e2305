// Sessions: issuing, reading, caching and revoking them (docs/identity.md "Sessions").
export * from './create-session.js';
export * from './list-sessions.js';
export * from './manage-own-sessions.js';
export * from './revoke-sessions.js';
export * from './session-cache.js';
export * from './session-token.js';
