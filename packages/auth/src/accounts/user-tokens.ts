/** Single-use tokens (invite 7 days, reset 30 minutes): random, only the SHA-256 stored, used once. */
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { isWellFormedToken, randomToken, sha256 } from '../crypto/tokens.js';
import {
  lookupUserToken,
  users,
  userTokens,
  type Database,
  type TenantTx,
  type UserTokenKind,
} from '@tessera/db';

export const TOKEN_LIFETIME_MS: Record<UserTokenKind, number> = {
  invite: 7 * 24 * 3_600_000,
  password_reset: 30 * 60_000,
  email_verification: 24 * 3_600_000,
  email_change: 24 * 3_600_000,
};

/** What `issueUserToken` issues: the kind, for whom, by whom, when, and for an e-mail change the new address. */
export interface UserTokenSpec {
  kind: UserTokenKind;
  userId: string;
  createdBy: string | null;
  now: Date;
  newEmail?: string | null;
}

/** A fresh token for the user (the previous live one of its kind is spent); returns the token. */
export async function issueUserToken(tx: TenantTx, spec: UserTokenSpec): Promise<string> {
  const { kind, userId, createdBy, now, newEmail = null } = spec;
  // One live token per user and kind: a new one invalidates the previous link.
  await tx
    .update(userTokens)
    .set({ usedAt: now })
    .where(
      and(eq(userTokens.userId, userId), eq(userTokens.kind, kind), isNull(userTokens.usedAt)),
    );
  const token = randomToken();
  await tx.insert(userTokens).values({
    tenantId: tx.tenantId,
    kind,
    userId,
    tokenHash: sha256(token),
    createdBy,
    createdAt: now,
    expiresAt: new Date(now.getTime() + TOKEN_LIFETIME_MS[kind]),
    newEmail,
  });
  return token;
}

/**
 * `issueUserToken` for the active user with this address, if any, through the same statements
 * either way (only the rows they touch differ), so a caller that must not reveal whether the
 * account exists does equal work. Returns the token (mail it only through
 * `enqueueEmailToActiveUser`) and the user id, null when there is no such user.
 */
export async function issueUserTokenByEmail(
  tx: TenantTx,
  kind: UserTokenKind,
  email: string,
  now: Date,
): Promise<{ token: string; userId: string | null }> {
  const activeUser = tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.email, email), isNull(users.disabledAt)));
  await tx
    .update(userTokens)
    .set({ usedAt: now })
    .where(
      and(
        inArray(userTokens.userId, activeUser),
        eq(userTokens.kind, kind),
        isNull(userTokens.usedAt),
      ),
    );
  const token = randomToken();
  const expiresAt = new Date(now.getTime() + TOKEN_LIFETIME_MS[kind]);
  const { rows } = await tx.execute<{ user_id: string }>(sql`
    INSERT INTO ${userTokens} (tenant_id, kind, user_id, token_hash, created_at, expires_at)
    SELECT ${tx.tenantId}::uuid, ${kind}::text, u.id, ${sha256(token)}::bytea, ${now}::timestamptz, ${expiresAt}::timestamptz
      FROM ${users} u WHERE u.email = ${email} AND u.disabled_at IS NULL
    RETURNING user_id`);
  return { token, userId: rows[0]?.user_id ?? null };
}

/** Finds the tenant of a presented token before any tenant context exists (docs/design.md rule 3). */
export async function locateUserToken(
  db: Database,
  kind: UserTokenKind,
  token: string,
): Promise<{ tenantId: string; tokenId: string } | null> {
  if (!isWellFormedToken(token)) return null;
  return lookupUserToken(db.pool, kind, sha256(token));
}

/**
 * Marks the token used, atomically: of two racing requests only one gets the row back.
 * Returns the user id, or null when unknown, used or expired.
 */
export async function consumeUserToken(
  tx: TenantTx,
  tokenId: string,
  kind: UserTokenKind,
  now: Date,
): Promise<string | null> {
  const [row] = await tx
    .update(userTokens)
    .set({ usedAt: now })
    .where(and(eq(userTokens.id, tokenId), eq(userTokens.kind, kind), isNull(userTokens.usedAt)))
    .returning({ userId: userTokens.userId, expiresAt: userTokens.expiresAt });
  if (!row || row.expiresAt <= now) return null;
  return row.userId;
}

/** Kills every live token of these kinds for a user (e.g. reset links mailed to a replaced address). */
export async function invalidateUserTokens(
  tx: TenantTx,
  userId: string,
  kinds: readonly UserTokenKind[],
  now: Date,
): Promise<void> {
  await tx
    .update(userTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(userTokens.userId, userId),
        inArray(userTokens.kind, [...kinds]),
        isNull(userTokens.usedAt),
      ),
    );
}
