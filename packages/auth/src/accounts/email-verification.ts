/**
 * E-mail verification (docs/design.md "Identity": addresses start unverified). A 24-hour single-use link,
 * hashed at rest. SSO links accounts by e-mail only when both sides hold it verified.
 */
import type { TenantTx } from '@tessera/db';
import type { ActorUseCase, TenantUseCase } from '../context/use-case.js';
import { eq } from 'drizzle-orm';
import { tenants, users, withTenant, type Database } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { enforceLimit } from '../rate-limit/rate-limiter.js';
import { enqueueEmail } from '../outbox/enqueue-email.js';
import type { RequestContext } from '../context/deps.js';
import { consumeUserToken, issueUserToken, locateUserToken } from './user-tokens.js';

export const EMAIL_VERIFICATION_LIMIT = { max: 5, windowMs: 3_600_000 } as const;

export async function requestEmailVerification(
  tx: TenantTx,
  uc: TenantUseCase<{ tenantId: string; userId: string }> & Pick<ActorUseCase, 'deps'>,
): Promise<{ alreadyVerified: boolean }> {
  const { actor: who, deps, request, now } = uc;
  await enforceLimit(
    deps.limiter,
    `verify_email:user:${who.userId}`,
    EMAIL_VERIFICATION_LIMIT,
    now,
  );
  const [user] = await tx.select().from(users).where(eq(users.id, who.userId));
  if (!user) throw new AuthError('unauthenticated');
  if (user.emailVerifiedAt) return { alreadyVerified: true };
  const [tenant] = await tx.select().from(tenants);
  const token = await issueUserToken(tx, {
    kind: 'email_verification',
    userId: user.id,
    createdBy: user.id,
    now,
  });
  const link = `${deps.publicUrl}/verify-email#token=${token}`;
  await enqueueEmail(
    tx,
    deps.keyring,
    { userId: user.id, address: user.email },
    { name: 'verify_email', tenantName: tenant?.name ?? '', link },
    now,
  );
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: user.id },
    action: 'auth.email_verification.requested',
    target: { type: 'user', id: user.id },
    ip: request.ip,
    userAgent: request.userAgent,
    occurredAt: now,
  });
  return { alreadyVerified: false };
}

export async function verifyEmail(
  db: Database,
  input: { token: string },
  request: RequestContext,
  now: Date,
): Promise<void> {
  const located = await locateUserToken(db, 'email_verification', input.token);
  if (!located) throw new AuthError('token_invalid');
  await withTenant(db, located.tenantId, async (tx) => {
    const userId = await consumeUserToken(tx, located.tokenId, 'email_verification', now);
    if (!userId) throw new AuthError('token_invalid');
    await tx
      .update(users)
      .set({ emailVerifiedAt: now, updatedAt: now })
      .where(eq(users.id, userId));
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: userId },
      action: 'auth.email.verified',
      target: { type: 'user', id: userId },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
    });
  });
}
