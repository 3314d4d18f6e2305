import { and, desc, eq, isNull } from 'drizzle-orm';
import { sessions, type TenantTx } from '@tessera/db';
import type { SecurityPolicy } from '../tenants/security-policy.js';
import { sessionExpiry } from './create-session.js';

export interface SessionView {
  id: string;
  current: boolean;
  createdAt: string;
  lastActivityAt: string;
  expiresAt: string;
  ipAddress: string | null;
  userAgent: string | null;
  aal: 1 | 2;
}

/** The user's live (not revoked, not expired) sessions, newest first. */
export async function listSessions(
  tx: TenantTx,
  policy: SecurityPolicy,
  userId: string,
  currentSessionId: string | null,
  now: Date,
): Promise<SessionView[]> {
  const rows = await tx
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .orderBy(desc(sessions.createdAt));
  return rows
    .map((s) => ({ s, expiresAt: sessionExpiry(policy, s.createdAt, s.lastActivityAt) }))
    .filter(({ expiresAt }) => expiresAt > now)
    .map(({ s, expiresAt }) => ({
      id: s.id,
      current: s.id === currentSessionId,
      createdAt: s.createdAt.toISOString(),
      lastActivityAt: s.lastActivityAt.toISOString(),
      expiresAt: expiresAt.toISOString(),
      ipAddress: s.ipAddress,
      userAgent: s.userAgent,
      aal: s.aal,
    }));
}
