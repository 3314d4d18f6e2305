// Test support other packages' tests import (`@tessera/api/testing`): the SAML test IdP.
export * from './saml-test-idp.js';
