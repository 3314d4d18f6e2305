/**
 * What a held domain changes at sign-in, read inside the tenant's transaction (RLS): whether an
 * address must use SSO, and whether an SSO sign-in with a verified address may join the tenant.
 * A pending or suspended domain changes nothing.
 */
import { and, eq, isNotNull } from 'drizzle-orm';
import { tenantDomains, type TenantTx } from '@tessera/db';
import { emailDomainOf } from './domain-name.js';

/** Auto-join is on for the held domain of this (normalised) address. */
export async function domainAutoJoins(tx: TenantTx, email: string): Promise<boolean> {
  const domain = emailDomainOf(email);
  if (!domain) return false;
  const [row] = await tx
    .select({ id: tenantDomains.id })
    .from(tenantDomains)
    .where(
      and(
        eq(tenantDomains.domain, domain),
        isNotNull(tenantDomains.verifiedAt),
        eq(tenantDomains.autoJoin, true),
      ),
    );
  return row !== undefined;
}
