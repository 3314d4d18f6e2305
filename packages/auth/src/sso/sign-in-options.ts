/**
 * The SSO buttons a sign-in page shows for a tenant slug. Public, like the start route itself:
 * an unknown slug and a tenant without SSO both answer an empty list. SAML connections follow
 * the OIDC ones, each under its own provider key.
 */
import { and, eq } from 'drizzle-orm';
import {
  lookupTenantBySlug,
  samlConnections,
  ssoSettings,
  withTenant,
  type Database,
} from '@tessera/db';
import { samlProviderKey, samlUrls } from './saml-connections.js';
import { TENANT_PROVIDER, type PlatformProviderInfo } from './platform-providers.js';
import { ssoUrls } from './settings.js';

export interface SignInOption {
  provider: string;
  name: string;
  startUrl: string;
}

export async function listSignInOptions(
  db: Database,
  platform: readonly PlatformProviderInfo[],
  publicUrl: string,
  tenantSlug: string,
): Promise<SignInOption[]> {
  const tenant = await lookupTenantBySlug(db.pool, tenantSlug);
  if (!tenant) return [];
  const [[row], saml] = await withTenant(
    db,
    tenant.id,
    async (tx) => [
      await tx.select().from(ssoSettings),
      await tx
        .select({ id: samlConnections.id, name: samlConnections.name })
        .from(samlConnections)
        .where(and(eq(samlConnections.enabled, true)))
        .orderBy(samlConnections.createdAt),
    ],
    { readOnly: true },
  );
  const samlOptions = saml.map((c) => ({
    provider: samlProviderKey(c.id),
    name: c.name,
    startUrl: samlUrls(publicUrl, tenant.slug, c.id).startUrl,
  }));
  if (!row) return samlOptions;
  const { startUrl } = ssoUrls(publicUrl, tenant.slug);
  const own = row.enabled
    ? [{ provider: TENANT_PROVIDER, name: row.displayName ?? 'Single sign-on', startUrl }]
    : [];
  const shared = platform
    .filter((p) => row.platformProviders.includes(p.id))
    .map((p) => ({
      provider: p.id,
      name: p.name,
      startUrl: `${startUrl}?provider=${encodeURIComponent(p.id)}`,
    }));
  return [...own, ...shared, ...samlOptions];
}
