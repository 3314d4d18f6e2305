// Single sign-on (docs/sso.md): settings, identities, the end of an SSO sign-in and the
// SESSION_SECRET ring (the outbound URL rule is @tessera/auth/outbound). The protocol itself is @auth/core's, in api.
export * from './identities.js';
export * from './platform-providers.js';
export * from './rotate.js';
export * from './secret-ring.js';
export * from './settings.js';
export * from './sign-in.js';
export * from './sign-in-options.js';
export * from './saml-connections.js';
export * from './saml-metadata.js';
export * from './saml-sign-in.js';
export * from './saml-sp.js';
