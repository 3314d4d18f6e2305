// A tenant's security policy: its defaults, parsing, reading and changing it.
export * from './security-policy.js';
export * from './update-policy.js';
