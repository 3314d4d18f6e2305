/**
 * Changing a user's e-mail address (docs/design.md "Identity"): the signed-in user proves the password,
 * the new address confirms through a 24-hour single-use link, and the old address is told at
 * both ends (when asked, so a hijacked session is noticed before it completes, and when done).
 * The answer never says whether the new address already belongs to someone in the tenant.
 */
import { and, eq, ne } from 'drizzle-orm';
import { tenants, userTokens, users, withTenant, type Database } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { enqueueEmail } from '../outbox/enqueue-email.js';
import { enforceLimit } from '../rate-limit/rate-limiter.js';
import { confirmPassword } from '../shared/confirm-password.js';
import type { AccountDeps, RequestContext } from '../context/deps.js';
import { isPlausibleEmail, normalizeEmail } from './normalize-email.js';
import { isUniqueViolation } from './sign-up.js';
import { forgetAddressLimits } from './address-limits.js';
import { forgetThrottle } from '../shared/throttle.js';
import {
  consumeUserToken,
  invalidateUserTokens,
  issueUserToken,
  locateUserToken,
} from './user-tokens.js';
import type { ActorUseCase } from '../context/use-case.js';

export const EMAIL_CHANGE_LIMIT = { max: 5, windowMs: 3_600_000 } as const;

/** `jane.doe@example.com` -> `j***@example.com`: enough for the old owner to recognise it. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return at <= 0 ? '***' : `${email.slice(0, 1)}***${email.slice(at)}`;
}

export async function requestEmailChange(
  uc: ActorUseCase<{ tenantId: string; userId: string }>,
  input: { newEmail: string; password: string },
): Promise<void> {
  const { db, deps, actor: who, request, now } = uc;
  await enforceLimit(deps.limiter, `email_change:user:${who.userId}`, EMAIL_CHANGE_LIMIT, now);
  const newEmail = normalizeEmail(input.newEmail);
  if (!isPlausibleEmail(newEmail))
    throw new AuthError('invalid_input', {
      detail: 'Enter a valid e-mail address.',
      field: 'newEmail',
    });
  // SSO-only users have no password to confirm with: they change the address at their IdP.
  const { user } = await confirmPassword(uc, {
    password: input.password,
    purpose: 'change_email',
    field: 'password',
  });
  if (newEmail === user.email)
    throw new AuthError('invalid_input', {
      detail: 'That is already your address.',
      field: 'newEmail',
    });

  await withTenant(db, who.tenantId, async (tx) => {
    const [tenant] = await tx.select().from(tenants);
    const tenantName = tenant?.name ?? '';
    const [taken] = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.email, newEmail), ne(users.id, user.id)));
    if (!taken) {
      const token = await issueUserToken(tx, {
        kind: 'email_change',
        userId: user.id,
        createdBy: user.id,
        now,
        newEmail,
      });
      const link = `${deps.publicUrl}/confirm-email-change#token=${token}`;
      await enqueueEmail(
        tx,
        deps.keyring,
        { userId: user.id, address: newEmail },
        { name: 'confirm_email_change', tenantName, link },
        now,
      );
    }
    await enqueueEmail(
      tx,
      deps.keyring,
      { userId: user.id, address: user.email },
      { name: 'email_change_requested', tenantName, newAddress: maskEmail(newEmail) },
      now,
    );
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: user.id },
      action: 'auth.email_change.requested',
      target: { type: 'user', id: user.id },
      ip: request.ip,
      userAgent: request.userAgent,
      metadata: { deliverable: !taken },
      occurredAt: now,
    });
  });
}

/** Confirms from the new address: the address changes, counts as verified, older links die. */
export async function confirmEmailChange(
  db: Database,
  deps: AccountDeps,
  input: { token: string },
  request: RequestContext,
  now: Date,
): Promise<void> {
  const located = await locateUserToken(db, 'email_change', input.token);
  if (!located) throw new AuthError('token_invalid');
  await withTenant(db, located.tenantId, async (tx) => {
    const userId = await consumeUserToken(tx, located.tokenId, 'email_change', now);
    if (!userId) throw new AuthError('token_invalid');
    const [pending] = await tx
      .select({ newEmail: userTokens.newEmail })
      .from(userTokens)
      .where(eq(userTokens.id, located.tokenId));
    const [user] = await tx.select().from(users).where(eq(users.id, userId));
    if (!pending?.newEmail || !user || user.disabledAt) throw new AuthError('token_invalid');
    const [taken] = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.email, pending.newEmail), ne(users.id, user.id)));
    if (taken)
      throw new AuthError('conflict', {
        detail: 'This address is already in use in this organisation.',
      });
    // The check above is the clear answer; the unique index decides a race with a sign-up.
    await tx
      .update(users)
      .set({ email: pending.newEmail, emailVerifiedAt: now, updatedAt: now })
      .where(eq(users.id, user.id))
      .catch((error: unknown) => {
        throw isUniqueViolation(error)
          ? new AuthError('conflict', {
              detail: 'This address is already in use in this organisation.',
            })
          : error;
      });
    // Links mailed to the old address must not outlive it, nor its sign-in counters.
    await invalidateUserTokens(
      tx,
      user.id,
      ['password_reset', 'email_verification', 'email_change'],
      now,
    );
    await forgetThrottle(tx, user.email);
    const [tenant] = await tx.select().from(tenants);
    if (tenant) await forgetAddressLimits(deps.limiter, tenant.slug, [user.email], now);
    await enqueueEmail(
      tx,
      deps.keyring,
      { userId: user.id, address: user.email },
      {
        name: 'email_changed',
        tenantName: tenant?.name ?? '',
        newAddress: maskEmail(pending.newEmail),
      },
      now,
    );
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: user.id },
      action: 'auth.email.changed',
      target: { type: 'user', id: user.id },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
    });
  });
}
