import { z } from 'zod';

const uri = z.string().trim().min(1).max(2000);

/** A relying party of the tenant's OpenID Provider; the service checks each URI (docs/oidc-provider.md). */
export const createOidcClientInput = z.strictObject({
  name: z.string().trim().min(1).max(100),
  kind: z.enum(['web', 'spa', 'native', 'machine']),
  redirectUris: z.array(uri).max(20).default([]),
  postLogoutRedirectUris: z.array(uri).max(20).default([]),
  backchannelLogoutUri: uri.optional(),
  scopes: z.array(z.string().trim().min(1).max(82)).max(50).default(['openid']),
});
export type CreateOidcClientInput = z.infer<typeof createOidcClientInput>;

export const oidcClientIdInput = z.strictObject({ id: z.string().uuid() });

/** An app the user authorised, by its public client id. */
export const authorizedAppInput = z.strictObject({
  clientId: z.string().regex(/^oc_[A-Za-z0-9_-]{22}$/),
});
