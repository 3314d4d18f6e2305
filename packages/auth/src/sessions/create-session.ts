import { randomUUID } from 'node:crypto';
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
export async function createSession(
  tx: TenantTx,
  policy: SecurityPolicy,
  input: NewSession,
  now: Date,
): Promise<CreatedSession> {
  const { session, written } = issueSession(tx, policy, input, now);
  await written;
  return session;
}

/**
 * `createSession` for callers that pipeline: the insert and the eviction are issued at once (the
 * session id is drawn here, not by the database), so the caller knows the session before either
 * answers and can issue its next statements (the audit event) in the same flight. The eviction
 * runs after the insert on the server and counts the new session. `written` settles when both
 * have answered; the session exists only if the transaction commits.
 */
export function issueSession(
  tx: TenantTx,
  policy: SecurityPolicy,
  input: NewSession,
  now: Date,
): { session: CreatedSession; written: Promise<void> } {
  const { token, hash } = newSessionToken();
  const id = randomUUID();
  const createdAt = input.createdAt ?? now;
  const inserted = tx
    .insert(sessions)
    .values({
      id,
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
    .execute();
  const evicted = evictBeyond(tx, input.userId, policy.maxSessionsPerUser, now);
  const written = Promise.all([inserted, evicted]).then(() => undefined);
  return {
    session: { token, sessionId: id, expiresAt: sessionExpiry(policy, createdAt, now) },
    written,
  };
}

function evictBeyond(tx: TenantTx, userId: string, max: number, now: Date): Promise<unknown> {
  const live = tx
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .orderBy(desc(sessions.createdAt), desc(sessions.id))
    .offset(max);
  return tx
    .update(sessions)
    .set({ revokedAt: now, revokedReason: 'evicted' })
    .where(sql`${sessions.id} IN (${live})`)
    .execute();
}
