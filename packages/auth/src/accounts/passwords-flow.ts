import { and, eq, gt, isNull } from 'drizzle-orm';
import {
  lookupTenantBySlug,
  tenants,
  userTokens,
  users,
  withTenant,
  type Database,
  type TenantTx,
} from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { enforceLimit } from '../rate-limit/rate-limiter.js';
import { enqueueEmail, enqueueEmailToActiveUser } from '../outbox/enqueue-email.js';
import { revokeUserDevices } from '../mfa/remembered-devices.js';
import { revokeUserSessions } from '../sessions/revoke-sessions.js';
import { parseSecurityPolicy } from '../tenants/security-policy.js';
import { RESET_ACCOUNT_LIMIT, resetAccountKey } from './address-limits.js';
import { confirmPassword } from '../shared/confirm-password.js';
import type { AccountDeps, RequestContext } from '../context/deps.js';
import { normalizeEmail } from './normalize-email.js';
import { clearFailures } from '../shared/throttle.js';
import { consumeUserToken, issueUserTokenByEmail, locateUserToken } from './user-tokens.js';
import type { ActorUseCase } from '../context/use-case.js';

export const RESET_LIMITS = {
  perIp: { max: 10, windowMs: 3_600_000 },
  perAccount: RESET_ACCOUNT_LIMIT,
} as const;

async function tenantOf(
  tx: TenantTx,
): Promise<{ name: string; slug: string; policy: ReturnType<typeof parseSecurityPolicy> }> {
  const [tenant] = await tx.select().from(tenants);
  if (!tenant) throw new Error('tenant row not visible in its own context');
  return {
    name: tenant.name,
    slug: tenant.slug,
    policy: parseSecurityPolicy(tenant.securityPolicy),
  };
}

/** Changes the password after confirming the current one; revokes the user's other sessions. */
export async function changePassword(
  uc: ActorUseCase<{ tenantId: string; userId: string; sessionId: string }>,
  input: { currentPassword: string; newPassword: string },
): Promise<void> {
  const { db, deps, actor: who, request, now } = uc;
  const { user, tenant } = await confirmPassword(uc, {
    password: input.currentPassword,
    purpose: 'change_password',
    field: 'currentPassword',
  });
  await deps.passwords.assertAcceptable(input.newPassword, {
    minLength: tenant.policy.passwordMinLength,
    email: user.email,
    tenantName: tenant.name,
    tenantSlug: tenant.slug,
  });
  const hash = await deps.passwords.hash(input.newPassword, who.tenantId);
  await withTenant(db, who.tenantId, async (tx) => {
    await tx
      .update(users)
      .set({ passwordHash: hash, passwordAlgorithm: 'argon2id', updatedAt: now })
      .where(eq(users.id, who.userId));
    const revoked = await revokeUserSessions(
      tx,
      who.userId,
      'password_changed',
      now,
      who.sessionId,
    );
    await revokeUserDevices(tx, uc, who.userId, 'password_changed');
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: who.userId },
      action: 'auth.password.changed',
      target: { type: 'user', id: who.userId },
      ip: request.ip,
      userAgent: request.userAgent,
      metadata: { sessionsRevoked: revoked },
      occurredAt: now,
    });
    await enqueueEmail(
      tx,
      deps.keyring,
      { userId: who.userId, address: user.email },
      { name: 'password_changed', tenantName: tenant.name },
      now,
    );
  });
}

/**
 * Always answers the same and mails a 30-minute single-use link only to an active account. Within
 * a tenant it runs the same statements in the same order for every address (token, mail and audit
 * touch rows only for a real account), so neither the answer nor its timing reveals whether the
 * account exists. An unknown tenant slug answers without database work: slugs are not secret.
 */
export async function requestPasswordReset(
  db: Database,
  deps: AccountDeps,
  input: { tenantSlug: string; email: string },
  request: RequestContext,
  now: Date,
): Promise<void> {
  const email = normalizeEmail(input.email);
  await enforceLimit(deps.limiter, `reset:ip:${request.ip}`, RESET_LIMITS.perIp, now);
  await enforceLimit(
    deps.limiter,
    resetAccountKey(input.tenantSlug, email),
    RESET_LIMITS.perAccount,
    now,
  );
  const tenantRef = await lookupTenantBySlug(db.pool, input.tenantSlug);
  if (!tenantRef) return;
  await withTenant(db, tenantRef.id, async (tx) => {
    const { token, userId } = await issueUserTokenByEmail(tx, 'password_reset', email, now);
    const link = `${deps.publicUrl}/reset-password#token=${token}`;
    await enqueueEmailToActiveUser(
      tx,
      deps.keyring,
      email,
      { name: 'password_reset', tenantName: tenantRef.name, link },
      now,
    );
    // Audited either way: requests for addresses without an account are how enumeration looks.
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: userId },
      action: 'auth.password_reset.requested',
      target: { type: 'user', id: userId },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
    });
  });
}

/** Sets a new password from a reset link; revokes every session and clears any lockout. */
export async function resetPassword(
  db: Database,
  deps: AccountDeps,
  input: { token: string; newPassword: string },
  request: RequestContext,
  now: Date,
): Promise<void> {
  const located = await locateUserToken(db, 'password_reset', input.token);
  if (!located) throw new AuthError('token_invalid');
  const { user, tenant } = await withTenant(
    db,
    located.tenantId,
    async (tx) => {
      // Peek without consuming, so a refused new password does not burn the link.
      const [row] = await tx
        .select({ userId: userTokens.userId })
        .from(userTokens)
        .where(
          and(
            eq(userTokens.id, located.tokenId),
            isNull(userTokens.usedAt),
            gt(userTokens.expiresAt, now),
          ),
        );
      const [u] = row ? await tx.select().from(users).where(eq(users.id, row.userId)) : [];
      return { user: u, tenant: await tenantOf(tx) };
    },
    { readOnly: true },
  );
  if (!user) throw new AuthError('token_invalid');
  await deps.passwords.assertAcceptable(input.newPassword, {
    minLength: tenant.policy.passwordMinLength,
    email: user.email,
    tenantName: tenant.name,
    tenantSlug: tenant.slug,
  });
  const hash = await deps.passwords.hash(input.newPassword, located.tenantId);
  await withTenant(db, located.tenantId, async (tx) => {
    const userId = await consumeUserToken(tx, located.tokenId, 'password_reset', now);
    if (userId !== user.id) throw new AuthError('token_invalid');
    await tx
      .update(users)
      .set({ passwordHash: hash, passwordAlgorithm: 'argon2id', updatedAt: now })
      .where(eq(users.id, user.id));
    await clearFailures(tx, user.email);
    const revoked = await revokeUserSessions(tx, user.id, 'password_reset', now);
    await revokeUserDevices(
      tx,
      { actor: { userId: user.id }, request, now },
      user.id,
      'password_reset',
    );
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: user.id },
      action: 'auth.password.reset',
      target: { type: 'user', id: user.id },
      ip: request.ip,
      userAgent: request.userAgent,
      metadata: { sessionsRevoked: revoked },
      occurredAt: now,
    });
    await enqueueEmail(
      tx,
      deps.keyring,
      { userId: user.id, address: user.email },
      { name: 'password_reset_done', tenantName: tenant.name },
      now,
    );
  });
}
