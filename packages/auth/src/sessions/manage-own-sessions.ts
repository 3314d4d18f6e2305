import { withTenant, type Database } from '@tessera/db';
import type { RequestContext } from '../context/deps.js';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { revokeSession, revokeUserSessions } from './revoke-sessions.js';

export interface SessionOwner {
  tenantId: string;
  userId: string;
  sessionId: string;
}

export async function signOut(
  db: Database,
  who: SessionOwner,
  request: RequestContext,
  now: Date,
): Promise<void> {
  await withTenant(db, who.tenantId, async (tx) => {
    if (await revokeSession(tx, who.userId, who.sessionId, 'sign_out', now)) {
      await recordAuditEvent(tx, {
        actor: { type: 'user', id: who.userId },
        action: 'auth.signed_out',
        target: { type: 'session', id: who.sessionId },
        ip: request.ip,
        userAgent: request.userAgent,
        occurredAt: now,
      });
    }
  });
}

/** Revokes one of the caller's own sessions; another user's (or tenant's) session id is NOT_FOUND. */
export async function revokeOwnSession(
  db: Database,
  who: SessionOwner,
  sessionId: string,
  request: RequestContext,
  now: Date,
): Promise<void> {
  await withTenant(db, who.tenantId, async (tx) => {
    if (!(await revokeSession(tx, who.userId, sessionId, 'revoked', now)))
      throw new AuthError('not_found');
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: who.userId },
      action: 'session.revoked',
      target: { type: 'session', id: sessionId },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
    });
  });
}

export async function revokeOtherSessions(
  db: Database,
  who: SessionOwner,
  request: RequestContext,
  now: Date,
): Promise<number> {
  return withTenant(db, who.tenantId, async (tx) => {
    const revoked = await revokeUserSessions(tx, who.userId, 'revoked_others', now, who.sessionId);
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: who.userId },
      action: 'session.revoked_others',
      target: { type: 'user', id: who.userId },
      ip: request.ip,
      userAgent: request.userAgent,
      metadata: { revoked },
      occurredAt: now,
    });
    return revoked;
  });
}
