// Zod output schemas of the procedures API keys may call: tRPC checks each answer against its
// schema, and the REST face's OpenAPI document is generated from them.
export * from './users.js';
export * from './audit.js';
export * from './api-keys.js';
export * from './privacy.js';
