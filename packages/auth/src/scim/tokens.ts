/**
 * SCIM bearer tokens (docs/scim.md): one per identity-provider connection, created by an admin,
 * shown once. Like API keys (docs/design.md rule 4), only HMAC-SHA-256 under the API-key pepper
 * ring is stored, with a short display prefix; lookup before the tenant is known goes through the
 * `use_scim_token` SECURITY DEFINER function with every pepper version's hash in one round trip.
 *
 * Guarantees: a token works on /scim/v2 only (its `scim_` form is not an API key, and an API key
 * is not a SCIM token); a malformed token is refused without a database round trip; a revoked
 * token resolves to nothing. Pinned by packages/api/src/scim/scim-auth.security.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { scimTokens, useScimToken, type Database, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import type { PepperRing } from '../api-keys/pepper-ring.js';
import { adminAuditOf, type ScimAdmin } from './actor.js';

const TOKEN_PATTERN = /^scim_[A-Za-z0-9_-]{43}$/; // 32 random bytes, base64url
const PREFIX_CHARS = 9; // "scim_" and four characters: enough to tell tokens apart in a list
export const MAX_SCIM_TOKENS = 50;

export interface ScimTokenView {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const viewColumns = {
  id: scimTokens.id,
  name: scimTokens.name,
  prefix: scimTokens.prefix,
  createdAt: scimTokens.createdAt,
  lastUsedAt: scimTokens.lastUsedAt,
  revokedAt: scimTokens.revokedAt,
};

function viewOf(row: {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}): ScimTokenView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

/** Creates a token in the transaction's tenant; `token` is shown once and never stored. */
export async function createScimToken(
  tx: TenantTx,
  admin: ScimAdmin,
  input: { name: string },
  peppers: PepperRing,
  now: Date,
): Promise<{ token: string; scimToken: ScimTokenView }> {
  const live = await tx
    .select({ id: scimTokens.id })
    .from(scimTokens)
    .where(isNull(scimTokens.revokedAt));
  if (live.length >= MAX_SCIM_TOKENS)
    throw new AuthError('conflict', { detail: `At most ${MAX_SCIM_TOKENS} live SCIM tokens.` });
  const token = `scim_${randomBytes(32).toString('base64url')}`;
  const [row] = await tx
    .insert(scimTokens)
    .values({
      tenantId: tx.tenantId,
      name: input.name,
      prefix: token.slice(0, PREFIX_CHARS),
      tokenHash: peppers.hashCurrent(token),
      pepperVersion: peppers.currentVersion,
      createdBy: admin.userId,
      createdAt: now,
    })
    .returning(viewColumns);
  if (!row) throw new Error('scim token insert returned nothing');
  await recordAuditEvent(tx, {
    ...adminAuditOf(admin),
    action: 'scim.token.created',
    target: { type: 'scim_token', id: row.id },
    after: { name: row.name, prefix: row.prefix },
    occurredAt: now,
  });
  return { token, scimToken: viewOf(row) };
}

export async function listScimTokens(tx: TenantTx): Promise<ScimTokenView[]> {
  const rows = await tx
    .select(viewColumns)
    .from(scimTokens)
    .orderBy(asc(scimTokens.createdAt), asc(scimTokens.id));
  return rows.map(viewOf);
}

/** Revokes a live token; another tenant's (invisible under RLS) or a revoked one is not found. */
export async function revokeScimToken(
  tx: TenantTx,
  admin: ScimAdmin,
  tokenId: string,
  now: Date,
): Promise<void> {
  const [row] = await tx
    .update(scimTokens)
    .set({ revokedAt: now })
    .where(and(eq(scimTokens.id, tokenId), isNull(scimTokens.revokedAt)))
    .returning({ id: scimTokens.id, prefix: scimTokens.prefix });
  if (!row) throw new AuthError('not_found');
  await recordAuditEvent(tx, {
    ...adminAuditOf(admin),
    action: 'scim.token.revoked',
    target: { type: 'scim_token', id: row.id },
    after: { prefix: row.prefix, revokedAt: now.toISOString() },
    occurredAt: now,
  });
}

/** The token's id and tenant, or null for anything malformed, unknown or revoked. */
export async function verifyScimToken(
  pool: Pick<Database['pool'], 'query'>,
  peppers: PepperRing,
  raw: string,
): Promise<{ id: string; tenantId: string } | null> {
  if (!TOKEN_PATTERN.test(raw)) return null;
  return useScimToken(
    pool,
    peppers.hashAll(raw).map((entry) => entry.hash),
  );
}
