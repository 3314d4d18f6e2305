// Verified domains (docs/domains.md): proof of control by DNS TXT record, SSO enforcement and
// routing by e-mail domain, auto-join, and the daily re-check.
export * from './apply-check.js';
export * from './dns-check.js';
export * from '../shared/domain-name.js';
export * from '../shared/domain-rules.js';
export * from './domain-view.js';
export * from './manage-domains.js';
export * from './reverify-domains.js';
export * from './route-sign-in.js';
