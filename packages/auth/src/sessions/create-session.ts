import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { sessions, type TenantTx } from '@tessera/db';
import type { SecurityPolicy } from '../tenants/security-policy.js';
import { newSessionToken } from './session-token.js';

export interface NewSession {
  userId: string;
  aal: 1 | 2;
  mfaVerifiedAt?: Date | null;
  enrollmentOnly?: boolean;
  /** When the sign-in began (the absolute lifetime counts from here); default now. */
  createdAt?: Date;
  ip: string | null;
  userAgent: string | null;
}

export interface CreatedSession {
  token: string;
  sessionId: string;
  expiresAt: Date;
}

export function sessionExpiry(policy: SecurityPolicy, createdAt: Date, lastActivityAt: Date): Date {
  const idle = lastActivityAt.getTime() + policy.sessionIdleMinutes * 60_000;
  const absolute = createdAt.getTime() + policy.sessionMaxHours * 3_600_000;
  return new Date(Math.min(idle, absolute));
}

/**
 * Creates a session with a fresh token (a new token at every sign-in and privilege change) and
 * evicts the user's oldest live sessions beyond the policy's maximum.
 */
export async function createSession(tx: TenantTx, policy: SecurityPolicy, input: NewSession, now: Date): Promise<CreatedSession> {
  const { token, hash } = newSessionToken();
  const createdAt = input.createdAt ?? now;
  const [row] = await tx
    .insert(sessions)
    .values({
      tenantId: tx.tenantId,
      userId: input.userId,
      tokenHash: hash,
      aal: input.aal,
      mfaVerifiedAt: input.mfaVerifiedAt ?? null,
      enrollmentOnly: input.enrollmentOnly ?? false,
      ipAddress: input.ip,
      userAgent: input.userAgent?.slice(0, 512) ?? null,
      createdAt,
      lastActivityAt: now,
    })
    .returning({ id: sessions.id });
  if (!row) throw new Error('session insert returned nothing');
  await evictBeyond(tx, input.userId, policy.maxSessionsPerUser, now);
  return { token, sessionId: row.id, expiresAt: sessionExpiry(policy, createdAt, now) };
}

async function evictBeyond(tx: TenantTx, userId: string, max: number, now: Date): Promise<void> {
  const live = tx
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .orderBy(desc(sessions.createdAt), desc(sessions.id))
    .offset(max);
  await tx
    .update(sessions)
    .set({ revokedAt: now, revokedReason: 'evicted' })
    .where(sql`${sessions.id} IN (${live})`);
}
