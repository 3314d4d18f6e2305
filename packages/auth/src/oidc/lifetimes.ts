/**
 * Token lifetimes of the OpenID Provider (docs/oidc-provider.md). They live here, beside the
 * signing keys, because a retired key stays published exactly as long as a token it signed may
 * still be presented: the longest-lived signed token plus the clock tolerance.
 */
export const OIDC_TTL_SECONDS = {
  accessToken: 600,
  clientCredentials: 600,
  idToken: 3600,
  authorizationCode: 60,
  deviceCode: 600,
  interaction: 600,
  session: 14 * 86_400,
  grant: 30 * 86_400,
  refreshToken: 30 * 86_400,
} as const;

/** Clock tolerance the provider allows, and margin for caches of the JWKS on relying parties. */
export const OIDC_KEY_PUBLISH_MARGIN_SECONDS = 15 * 60;

/** Longest life of a token signed with a key: ID tokens (access tokens are shorter). */
export const OIDC_SIGNED_TOKEN_MAX_SECONDS = Math.max(
  OIDC_TTL_SECONDS.idToken,
  OIDC_TTL_SECONDS.accessToken,
  OIDC_TTL_SECONDS.clientCredentials,
);
