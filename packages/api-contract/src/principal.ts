import type { ResolvedSession } from '@tessera/db';
import type { SessionPrincipal } from './context.js';

export function sessionPrincipal(session: ResolvedSession): SessionPrincipal {
  return {
    kind: 'session',
    tenantId: session.tenantId,
    userId: session.userId,
    role: session.role,
    sessionId: session.sessionId,
    aal: session.aal,
    mfaVerifiedAt: session.mfaVerifiedAt,
    mfaEnabled: session.mfaEnabled,
    enrollmentOnly: session.enrollmentOnly,
    expiresAt: session.expiresAt,
  };
}
