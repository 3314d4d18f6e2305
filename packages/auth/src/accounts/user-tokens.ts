/** Single-use tokens (invite 7 days, reset 30 minutes): random, only the SHA-256 stored, used once. */
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { isWellFormedToken, randomToken, sha256 } from '../crypto/tokens.js';
import { lookupUserToken, userTokens, type Database, type TenantTx, type UserTokenKind } from '@tessera/db';

export const TOKEN_LIFETIME_MS: Record<UserTokenKind, number> = {
  invite: 7 * 24 * 3_600_000,
  password_reset: 30 * 60_000,
  email_verification: 24 * 3_600_000,
  email_change: 24 * 3_600_000,
};

export async function issueUserToken(tx: TenantTx, kind: UserTokenKind, userId: string, createdBy: string | null, now: Date, newEmail: string | null = null): Promise<string> {
  // One live token per user and kind: a new one invalidates the previous link.
  await tx.update(userTokens).set({ usedAt: now }).where(and(eq(userTokens.userId, userId), eq(userTokens.kind, kind), isNull(userTokens.usedAt)));
  const token = randomToken();
  await tx.insert(userTokens).values({ tenantId: tx.tenantId, kind, userId, tokenHash: sha256(token), createdBy, createdAt: now, expiresAt: new Date(now.getTime() + TOKEN_LIFETIME_MS[kind]), newEmail });
  return token;
}

/** Finds the tenant of a presented token before any tenant context exists (DESIGN rule 3). */
export async function locateUserToken(db: Database, kind: UserTokenKind, token: string): Promise<{ tenantId: string; tokenId: string } | null> {
  if (!isWellFormedToken(token)) return null;
  return lookupUserToken(db.pool, kind, sha256(token));
}

/**
 * Marks the token used, atomically: of two racing requests only one gets the row back.
 * Returns the user id, or null when unknown, used or expired.
 */
export async function consumeUserToken(tx: TenantTx, tokenId: string, kind: UserTokenKind, now: Date): Promise<string | null> {
  const [row] = await tx
    .update(userTokens)
    .set({ usedAt: now })
    .where(and(eq(userTokens.id, tokenId), eq(userTokens.kind, kind), isNull(userTokens.usedAt)))
    .returning({ userId: userTokens.userId, expiresAt: userTokens.expiresAt });
  if (!row || row.expiresAt <= now) return null;
  return row.userId;
}

/** Kills every live token of these kinds for a user (e.g. reset links mailed to a replaced address). */
export async function invalidateUserTokens(tx: TenantTx, userId: string, kinds: readonly UserTokenKind[], now: Date): Promise<void> {
  await tx.update(userTokens).set({ usedAt: now }).where(and(eq(userTokens.userId, userId), inArray(userTokens.kind, [...kinds]), isNull(userTokens.usedAt)));
}
