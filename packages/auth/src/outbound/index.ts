// The outbound URL rule and the fetch that enforces it at connect time (SSO issuers, webhooks).
export * from './guarded-fetch.js';
export * from './outbound-url.js';
