/**
 * The apps a user has authorised through the tenant's OpenID Provider (the Security page's "Apps"
 * section): one entry per client holding a live grant of theirs, and its revocation, which deletes
 * the grant with every code and refresh token issued under it. Signed access tokens already issued
 * live out their short lifetime (docs/oidc-provider.md "Revocation").
 */
import { and, asc, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import { oidcClients, oidcPayloads, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { userAuditOf, type OidcUserActor } from './actor.js';

export interface AuthorizedAppView {
  clientId: string;
  name: string;
  scopes: string[];
  authorizedAt: string;
}

function scopesOf(payload: Record<string, unknown>): string[] {
  const openid = payload['openid'] as { scope?: unknown } | undefined;
  const resources = (payload['resources'] ?? {}) as Record<string, unknown>;
  const all = [openid?.scope, ...Object.values(resources)]
    .filter((s): s is string => typeof s === 'string')
    .flatMap((s) => s.split(' '));
  return [...new Set(all.filter(Boolean))].sort();
}

export async function listAuthorizedApps(
  tx: TenantTx,
  userId: string,
): Promise<AuthorizedAppView[]> {
  const rows = await tx
    .select({
      clientId: oidcPayloads.clientId,
      payload: oidcPayloads.payload,
      createdAt: oidcPayloads.createdAt,
      name: oidcClients.name,
    })
    .from(oidcPayloads)
    .innerJoin(
      oidcClients,
      and(
        eq(oidcClients.tenantId, oidcPayloads.tenantId),
        eq(oidcClients.clientId, oidcPayloads.clientId),
        isNull(oidcClients.revokedAt),
      ),
    )
    .where(
      and(
        eq(oidcPayloads.kind, 'Grant'),
        eq(oidcPayloads.accountId, userId),
        or(isNull(oidcPayloads.expiresAt), gt(oidcPayloads.expiresAt, sql`now()`)),
      ),
    )
    .orderBy(asc(oidcPayloads.createdAt));
  const byClient = new Map<string, AuthorizedAppView>();
  for (const row of rows) {
    if (!row.clientId) continue;
    const known = byClient.get(row.clientId);
    const scopes = scopesOf(row.payload);
    byClient.set(row.clientId, {
      clientId: row.clientId,
      name: row.name,
      scopes: [...new Set([...(known?.scopes ?? []), ...scopes])].sort(),
      authorizedAt: known?.authorizedAt ?? row.createdAt.toISOString(),
    });
  }
  return [...byClient.values()];
}

/** Revokes every grant `actor` gave `clientId`, with the codes and refresh tokens under them. */
export async function revokeAuthorizedApp(
  tx: TenantTx,
  actor: OidcUserActor,
  clientId: string,
  now: Date,
): Promise<void> {
  const grants = await tx
    .select({ grantId: oidcPayloads.grantId })
    .from(oidcPayloads)
    .where(
      and(
        eq(oidcPayloads.kind, 'Grant'),
        eq(oidcPayloads.accountId, actor.userId),
        eq(oidcPayloads.clientId, clientId),
      ),
    );
  const ids = grants.map((g) => g.grantId).filter((g): g is string => g !== null);
  if (ids.length === 0) throw new AuthError('not_found');
  await tx.delete(oidcPayloads).where(inArray(oidcPayloads.grantId, ids));
  await recordAuditEvent(tx, {
    ...userAuditOf(actor),
    action: 'oidc.grant.revoked',
    target: { type: 'oidc_client', id: null },
    metadata: { clientId, grants: ids.length, by: 'user' },
    occurredAt: now,
  });
}
