/**
 * The SSO buttons a sign-in page shows for a tenant slug. Public, like the start route itself:
 * an unknown slug and a tenant without SSO both answer an empty list.
 */
import { lookupTenantBySlug, ssoSettings, withTenant, type Database } from '@tessera/db';
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
  const [row] = await withTenant(db, tenant.id, (tx) => tx.select().from(ssoSettings), {
    readOnly: true,
  });
  if (!row) return [];
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
  return [...own, ...shared];
}
