import { and, eq, isNull, ne, type SQL } from 'drizzle-orm';
import { sessions, type TenantTx } from '@tessera/db';

export type RevokeReason =
  | 'sign_out'
  | 'revoked'
  | 'password_changed'
  | 'password_reset'
  | 'user_disabled'
  | 'role_changed'
  | 'mfa_reset'
  | 'evicted'
  | 'revoked_others';

async function revokeWhere(
  tx: TenantTx,
  where: SQL | undefined,
  reason: RevokeReason,
  now: Date,
): Promise<number> {
  const rows = await tx
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(isNull(sessions.revokedAt), where))
    .returning({ id: sessions.id });
  return rows.length;
}

/** Revokes one session of `userId`; returns false when it is not theirs (or already revoked). */
export async function revokeSession(
  tx: TenantTx,
  userId: string,
  sessionId: string,
  reason: RevokeReason,
  now: Date,
): Promise<boolean> {
  return (
    (await revokeWhere(
      tx,
      and(eq(sessions.id, sessionId), eq(sessions.userId, userId)),
      reason,
      now,
    )) > 0
  );
}

/** Revokes every live session of the user except `keepSessionId` (when given). */
export async function revokeUserSessions(
  tx: TenantTx,
  userId: string,
  reason: RevokeReason,
  now: Date,
  keepSessionId?: string,
): Promise<number> {
  const where = keepSessionId
    ? and(eq(sessions.userId, userId), ne(sessions.id, keepSessionId))
    : eq(sessions.userId, userId);
  return revokeWhere(tx, where, reason, now);
}
