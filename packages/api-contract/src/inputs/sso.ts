import { z } from 'zod';

/** A provider key: 'tenant' (the tenant's own connection) or a platform provider id. */
export const ssoProviderKey = z.string().regex(/^[a-z][a-z0-9-]{1,39}$/);

export const updateSsoSettingsInput = z.strictObject({
  enabled: z.boolean().optional(),
  displayName: z.string().trim().min(1).max(100).nullable().optional(),
  /** OIDC issuer; https only in production, checked against private addresses after DNS. */
  issuer: z.string().trim().min(8).max(512).url().optional(),
  clientId: z.string().trim().min(1).max(255).optional(),
  /** Write-only: stored encrypted, never returned. */
  clientSecret: z.string().min(1).max(1024).optional(),
  jitProvisioning: z.boolean().optional(),
  trustProviderMfa: z.boolean().optional(),
  platformProviders: z.array(ssoProviderKey).max(20).optional(),
});
export type UpdateSsoSettingsInput = z.infer<typeof updateSsoSettingsInput>;

export const unlinkIdentityInput = z.strictObject({ identityId: z.string().uuid() });
export type UnlinkIdentityInput = z.infer<typeof unlinkIdentityInput>;

export const ssoSignInOptionsInput = z.strictObject({
  tenantSlug: z.string().trim().min(3).max(40),
});
