import { and, eq, isNull } from 'drizzle-orm';
import { sessions, type TenantTx } from '@tessera/db';
import type { RequestContext } from '../context/deps.js';
import { AuthError } from '../errors.js';
import type { SecurityPolicy } from '../tenants/security-policy.js';
import { createSession, type CreatedSession } from './create-session.js';
import { revokeSession } from './revoke-sessions.js';

/**
 * A new token for the same sign-in, after a privilege change that is not an authentication: a
 * user's first second factor bound in this session ends its enrollment-only state. Binding a
 * factor proves nothing about who holds the session (a hijacker can bind their own), so the new
 * session keeps the old one's AAL, MFA time and absolute lifetime; it never gains step-up
 * freshness or a longer life. The old token stops working at once.
 */
export async function replaceSession(
  tx: TenantTx,
  policy: SecurityPolicy,
  who: { userId: string; sessionId: string },
  request: RequestContext,
  now: Date,
): Promise<CreatedSession> {
  const [old] = await tx
    .select({
      aal: sessions.aal,
      mfaVerifiedAt: sessions.mfaVerifiedAt,
      createdAt: sessions.createdAt,
    })
    .from(sessions)
    .where(
      and(
        eq(sessions.id, who.sessionId),
        eq(sessions.userId, who.userId),
        isNull(sessions.revokedAt),
      ),
    )
    .for('update');
  if (!old || !(await revokeSession(tx, who.userId, who.sessionId, 'revoked', now)))
    throw new AuthError('unauthenticated');
  return createSession(
    tx,
    policy,
    {
      userId: who.userId,
      aal: old.aal,
      mfaVerifiedAt: old.mfaVerifiedAt,
      createdAt: old.createdAt,
      ip: request.ip,
      userAgent: request.userAgent,
    },
    now,
  );
}
