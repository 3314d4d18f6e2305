export type { ApiKeyActor, RequestOrigin } from './actor.js';
export type { ApiKeyView } from './api-key-view.js';
export { canonicalCidrs, compileCidrs, ipAllowed, MAX_ALLOWED_CIDRS } from './cidr.js';
export { assertScopesWithin, createApiKey } from './create-api-key.js';
export type {
  ApiKeyDeps,
  CreateApiKeyParams,
  MintedApiKey,
  MintOptions,
  MintUseCase,
} from './create-api-key.js';
export {
  API_KEY_LENGTH,
  checksumOf,
  displayPrefixOf,
  DISPLAY_PREFIX_CHARS,
  generateApiKey,
  parseApiKey,
} from './key-format.js';
export type { ParsedApiKey } from './key-format.js';
export { listApiKeys, MAX_LISTED_API_KEYS } from './list-api-keys.js';
export { MAX_PEPPER_VERSIONS, parsePepperRing } from './pepper-ring.js';
export type { PepperedHash, PepperRing } from './pepper-ring.js';
export { flushApiKeyRefusalTallies } from './refusal-audit.js';
export type { ApiKeyRefusalReason } from './refusal-audit.js';
export { revokeApiKey, revokeOwnApiKey } from './revoke-api-key.js';
export { MAX_GRACE_SECONDS, rotateApiKey } from './rotate-api-key.js';
export { API_KEY_SCOPES, isApiKeyScope } from './scopes.js';
export type { ApiKeyScope } from './scopes.js';
export { createApiKeyVerifier } from './verify-api-key.js';
export type {
  ApiKeyVerifier,
  ApiKeyVerifierOptions,
  VerifiedApiKey,
  VerifyContext,
} from './verify-api-key.js';
export type { KeyCacheOptions } from './verified-key-cache.js';
export type { LookupThrottleRule } from './lookup-throttle.js';
