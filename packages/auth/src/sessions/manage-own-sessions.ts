import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { revokeSession, revokeUserSessions } from './revoke-sessions.js';
import type { TenantTx } from '@tessera/db';
import type { TenantUseCase } from '../context/use-case.js';

export interface SessionOwner {
  tenantId: string;
  userId: string;
  sessionId: string;
}

export async function signOut(tx: TenantTx, uc: TenantUseCase<SessionOwner>): Promise<void> {
  const { actor: who, request, now } = uc;
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
}

/** Revokes one of the caller's own sessions; another user's (or tenant's) session id is NOT_FOUND. */
export async function revokeOwnSession(
  tx: TenantTx,
  uc: TenantUseCase<SessionOwner>,
  sessionId: string,
): Promise<void> {
  const { actor: who, request, now } = uc;
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
}

export async function revokeOtherSessions(
  tx: TenantTx,
  uc: TenantUseCase<SessionOwner>,
): Promise<number> {
  const { actor: who, request, now } = uc;
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
}
