/**
 * E-mailed one-time codes as NEW-DEVICE SIGN-IN VERIFICATION (docs/mfa-factors.md).
 *
 * Not a second factor (docs/design.md "MFA", NIST SP 800-63B rev 4): an inbox is usually guarded by a
 * password alone and is where password resets go. So a user who opted in (`otp.enableEmail`, only
 * where the tenant sets `emailCodesAllowed`) and has NO real factor is asked, after the right
 * password from an (ip, user agent) pair never seen before, for a 6-digit code mailed through the
 * outbox. The session it opens is AAL1 without MFA time: step-up still needs a real factor, and no
 * remembered-device token is issued. Users with TOTP, a passkey or SMS get the MFA challenge
 * instead and are never offered e-mail.
 *
 * The code uses the one-time-code machinery of SMS (keyed hash, 10 minutes, 3 attempts, one live
 * code, single use) with its own purpose `sign_in_verification`, bound to a challenge whose
 * purpose is `sign_in_verification` (migration 0015); the table CHECK that forbids an e-mail code
 * for an MFA challenge stays. Refusals are audited and committed before the error leaves.
 */
import type { ActorUseCase, TenantUseCase } from '../context/use-case.js';
import { eq } from 'drizzle-orm';
import { users, withTenant, type Database, type TenantTx, type UserRow } from '@tessera/db';
import type { AccountDeps, RequestContext } from '../context/deps.js';
import { clearFailures } from '../shared/throttle.js';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { enqueueEmail } from '../outbox/enqueue-email.js';
import { enforceLimit } from '../rate-limit/rate-limiter.js';
import type { SecurityPolicy } from '../tenants/security-policy.js';
import { tenantPolicyOf } from '../tenants/update-policy.js';
import {
  checkOneTimeCode,
  deleteUserCodes,
  issueOneTimeCode,
  ONE_TIME_CODE_TTL_MS,
  type CodeCheck,
} from './oob-codes.js';
import { createMfaChallenge } from './challenge-token.js';

export const EMAIL_CODE_LIMITS = {
  /** Sign-in mails per user, like SMS sends. */
  perUser: { max: 5, windowMs: 15 * 60_000 },
} as const;

const PURPOSE = 'sign_in_verification' as const;

function audit(
  tx: TenantTx,
  userId: string,
  action: string,
  request: RequestContext,
  now: Date,
  metadata: Record<string, unknown>,
): Promise<unknown> {
  return recordAuditEvent(tx, {
    actor: { type: 'user', id: userId },
    action,
    target: { type: 'user', id: userId },
    ip: request.ip,
    userAgent: request.userAgent,
    metadata,
    occurredAt: now,
  });
}

/** `otp.enableEmail`: only where the tenant allows e-mail codes. */
export async function enableEmailCodes(
  tx: TenantTx,
  uc: TenantUseCase<{ tenantId: string; userId: string }>,
): Promise<void> {
  const { actor: who, request, now } = uc;
  const { policy } = await tenantPolicyOf(tx);
  if (!policy.emailCodesAllowed)
    throw new AuthError('forbidden', {
      detail: 'Your organisation does not allow sign-in codes by e-mail.',
    });
  const [user] = await tx
    .select({ enabledAt: users.emailCodesEnabledAt, verifiedAt: users.emailVerifiedAt })
    .from(users)
    .where(eq(users.id, who.userId))
    .for('update');
  if (user?.enabledAt) return;
  // A mistyped, never-confirmed address would lock the user out of every new device.
  if (!user?.verifiedAt)
    throw new AuthError('forbidden', {
      detail: 'Confirm your e-mail address first: the codes are sent there.',
    });
  await tx
    .update(users)
    .set({ emailCodesEnabledAt: now, updatedAt: now })
    .where(eq(users.id, who.userId));
  await audit(tx, who.userId, 'auth.email_codes.enabled', request, now, {});
}

/** `otp.disableEmail`: always possible; the user is told by mail, since it lowers protection. */
export async function disableEmailCodes(
  tx: TenantTx,
  uc: TenantUseCase<{ tenantId: string; userId: string }> & Pick<ActorUseCase, 'deps'>,
): Promise<void> {
  const { actor: who, deps, request, now } = uc;
  const [user] = await tx.select().from(users).where(eq(users.id, who.userId)).for('update');
  if (!user?.emailCodesEnabledAt) return;
  await tx
    .update(users)
    .set({ emailCodesEnabledAt: null, updatedAt: now })
    .where(eq(users.id, who.userId));
  await deleteUserCodes(tx, who.userId, 'email');
  await audit(tx, who.userId, 'auth.email_codes.disabled', request, now, {});
  const { tenantName } = await tenantPolicyOf(tx);
  await enqueueEmail(
    tx,
    deps.keyring,
    { userId: user.id, address: user.email },
    { name: 'email_codes_disabled', tenantName },
    now,
  );
}

/** Whether e-mailed sign-in codes are in force for this user right now (tenant allows, user opted in). */
export function emailCodesActive(
  policy: SecurityPolicy,
  user: Pick<UserRow, 'emailCodesEnabledAt'>,
): boolean {
  return policy.emailCodesAllowed && user.emailCodesEnabledAt !== null;
}

export interface VerificationStep {
  tenantId: string;
  tenantName: string;
  policy: SecurityPolicy;
  user: UserRow;
  email: string;
  newHash: string | null;
}

/**
 * After the right password, when the user opted in (`emailCodesActive`), has no real factor and
 * signs in from an (ip, user agent) pair never seen before (the sign-in decides this in its own
 * transaction, accounts/sign-in.ts): commit the password step, mail a code and return a challenge
 * token instead of a session. A send over the per-user limit is audited, committed and refused
 * (`rate_limited`).
 */
export async function mailSignInCode(
  db: Database,
  deps: AccountDeps,
  step: VerificationStep,
  request: RequestContext,
  now: Date,
): Promise<string> {
  try {
    await enforceLimit(
      deps.limiter,
      `email_code_send:user:${step.tenantId}:${step.user.id}`,
      EMAIL_CODE_LIMITS.perUser,
      now,
    );
  } catch (error) {
    await withTenant(db, step.tenantId, (tx) =>
      audit(tx, step.user.id, 'auth.email_code.refused', request, now, {
        purpose: PURPOSE,
        reason: 'rate_limited',
      }),
    );
    throw error;
  }
  return withTenant(db, step.tenantId, async (tx) => {
    if (step.newHash)
      await tx
        .update(users)
        .set({ passwordHash: step.newHash, passwordAlgorithm: 'argon2id', updatedAt: now })
        .where(eq(users.id, step.user.id));
    await clearFailures(tx, step.email);
    // The challenge lives as long as the code (mail can be slow); the code's own expiry decides.
    const { token, id } = await createMfaChallenge(tx, step.user.id, now, {
      purpose: PURPOSE,
      ttlMs: ONE_TIME_CODE_TTL_MS,
    });
    const challenge = { id };
    const issued = await issueOneTimeCode(
      tx,
      deps.keyring,
      { userId: step.user.id, purpose: PURPOSE, challengeId: challenge.id },
      'email',
      now,
    );
    await enqueueEmail(
      tx,
      deps.keyring,
      { userId: step.user.id, address: step.user.email },
      {
        name: 'sign_in_code',
        tenantName: step.tenantName,
        code: issued.code,
        ip: request.ip,
        userAgent: request.userAgent ?? 'unknown',
      },
      now,
    );
    await audit(tx, step.user.id, 'auth.email_code.sent', request, now, {
      purpose: PURPOSE,
      channel: 'email',
    });
    return token;
  });
}

export type EmailCodeCheck =
  { ok: true } | { ok: false; reason: (CodeCheck & { ok: false })['reason'] | 'not_allowed' };

/**
 * Checks an e-mailed code for a `sign_in_verification` challenge inside the caller's transaction
 * (which commits before any refusal leaves). A tenant that switched e-mail codes off, or a user
 * who switched them off, stops codes already sent.
 */
export async function checkEmailSignInCode(
  tx: TenantTx,
  deps: Pick<AccountDeps, 'keyring'>,
  challenge: { id: string; userId: string },
  code: string,
  now: Date,
): Promise<EmailCodeCheck> {
  const { policy } = await tenantPolicyOf(tx);
  const [user] = await tx
    .select({ emailCodesEnabledAt: users.emailCodesEnabledAt })
    .from(users)
    .where(eq(users.id, challenge.userId));
  if (!user || !emailCodesActive(policy, user)) return { ok: false, reason: 'not_allowed' };
  const result = await checkOneTimeCode(
    tx,
    deps.keyring,
    { userId: challenge.userId, purpose: PURPOSE, challengeId: challenge.id },
    code,
    now,
  );
  return result.ok ? { ok: true } : { ok: false, reason: result.reason };
}
