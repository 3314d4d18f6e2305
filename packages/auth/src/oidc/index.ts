export type { OidcOrigin, OidcUserActor } from './actor.js';
export { userAuditOf } from './actor.js';
export {
  createOidcClient,
  findOidcClientMetadata,
  findOidcClientName,
  listOidcClients,
  MAX_OIDC_CLIENTS,
  OIDC_SCOPES,
  revokeOidcClient,
} from './clients.js';
export type { CreateOidcClientParams, OidcClientView } from './clients.js';
export { listAuthorizedApps, revokeAuthorizedApp } from './authorized-apps.js';
export type { AuthorizedAppView } from './authorized-apps.js';
export {
  OIDC_KEY_PUBLISH_MARGIN_SECONDS,
  OIDC_SIGNED_TOKEN_MAX_SECONDS,
  OIDC_TTL_SECONDS,
} from './lifetimes.js';
export {
  consumeOidcPayload,
  destroyOidcPayload,
  findOidcPayload,
  findOidcPayloadBy,
  revokeOidcGrant,
  upsertOidcPayload,
} from './payload-store.js';
export type { OidcPayload } from './payload-store.js';
export {
  generateSigningKey,
  hasActiveSigningKey,
  insertSigningKey,
  listSigningKeys,
  loadProviderKeys,
  rotateSigningKey,
} from './signing-keys.js';
export type { GeneratedSigningKey, ProviderJwk, SigningKeyView } from './signing-keys.js';
export { findOidcAccount, sessionSignedInAt } from './accounts.js';
export type { OidcAccount } from './accounts.js';
