import { sql } from 'drizzle-orm';
import type { TenantDomainRow, TenantTx } from '@tessera/db';
import { verificationRecord } from '../shared/domain-name.js';
import { ssoConnectionEnabled } from '../shared/domain-rules.js';

export type DomainStatus = 'pending' | 'verified' | 'suspended';

/** What the console and API see of a tenant's domain. */
export interface DomainView {
  id: string;
  domain: string;
  status: DomainStatus;
  /** Password sign-in refused for the domain's addresses (once verified, with SSO enabled). */
  requireSso: boolean;
  /** SSO sign-ins with a verified address at the domain join the tenant as members. */
  autoJoin: boolean;
  /** requireSso is in force now: verified, and an SSO connection (OIDC or SAML) is enabled. */
  ssoEnforced: boolean;
  /** The TXT record to publish. */
  record: { type: 'TXT'; name: string; value: string };
  createdAt: string;
  verifiedAt: string | null;
  suspendedAt: string | null;
  lastCheckedAt: string | null;
}

export function statusOf(row: Pick<TenantDomainRow, 'verifiedAt' | 'suspendedAt'>): DomainStatus {
  if (row.verifiedAt) return 'verified';
  return row.suspendedAt ? 'suspended' : 'pending';
}

export function toDomainView(row: TenantDomainRow, ssoEnabled: boolean): DomainView {
  const status = statusOf(row);
  return {
    id: row.id,
    domain: row.domain,
    status,
    requireSso: row.requireSso,
    autoJoin: row.autoJoin,
    ssoEnforced: status === 'verified' && row.requireSso && ssoEnabled,
    record: verificationRecord(row.domain, row.verificationToken),
    createdAt: row.createdAt.toISOString(),
    verifiedAt: row.verifiedAt?.toISOString() ?? null,
    suspendedAt: row.suspendedAt?.toISOString() ?? null,
    lastCheckedAt: row.lastCheckedAt?.toISOString() ?? null,
  };
}

/**
 * Whether the tenant has an SSO connection enforcement can send users to: its own OIDC connection
 * or an enabled SAML connection (domain-rules.ts).
 */
export async function tenantSsoEnabled(tx: TenantTx): Promise<boolean> {
  const [row] = await tx
    .select({ enabled: ssoConnectionEnabled(tx.tenantId) })
    .from(sql`(SELECT 1) AS one`);
  return row?.enabled === true;
}

/** The audit form of a domain: no token (it is public anyway, but says nothing useful). */
export function auditDomain(row: TenantDomainRow): Record<string, string | boolean | null> {
  return {
    domain: row.domain,
    status: statusOf(row),
    requireSso: row.requireSso,
    autoJoin: row.autoJoin,
  };
}
