/**
 * What a held domain changes at sign-in, read inside the tenant's transaction (RLS): whether an
 * address must use SSO, and whether an SSO sign-in with a verified address may join the tenant.
 * A pending or suspended domain changes nothing.
 */
import { and, eq, isNotNull, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { samlConnections, ssoSettings, tenantDomains, type TenantTx } from '@tessera/db';
import { emailDomainOf } from './domain-name.js';

/**
 * SQL boolean: the tenant has an SSO connection to send its users to, i.e. its own OIDC
 * connection or at least one SAML connection is enabled. Require-SSO is in force, and routing
 * answers, only while this holds (without a connection, enforcement would lock everybody out).
 * For a select list, so callers need no extra round trip.
 */
export function ssoConnectionEnabled(tenantId: AnyColumn | string): SQL<boolean> {
  return sql<boolean>`(EXISTS (SELECT 1 FROM ${ssoSettings} WHERE ${ssoSettings.tenantId} = ${tenantId} AND ${ssoSettings.enabled})
      OR EXISTS (SELECT 1 FROM ${samlConnections} WHERE ${samlConnections.tenantId} = ${tenantId} AND ${samlConnections.enabled}))`;
}

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
