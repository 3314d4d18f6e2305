import { eq } from 'drizzle-orm';
import { users, withTenant, type Database, type TenantTx, type UserRow } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { enqueueEmail } from '../outbox/enqueue-email.js';
import { issueSession, type CreatedSession } from '../sessions/create-session.js';
import type { SecurityPolicy } from '../tenants/security-policy.js';
import type { AccountDeps, RequestContext } from '../context/deps.js';
import type { UseCase } from '../context/use-case.js';
import {
  rememberDevice as issueDeviceToken,
  type RememberedDeviceToken,
} from './remember-device.js';
import { readSignInFacts, successRiskScore, type SignInFacts } from './sign-in-risk.js';
import { clearThrottle } from './throttle.js';
import { toUserView, type UserView } from './user-view.js';

export interface SignedIn {
  status: 'signed_in';
  user: UserView;
  session: CreatedSession;
  /** Set when the user asked to remember this device after a second factor (and the tenant allows it). */
  device?: RememberedDeviceToken;
}

export interface CompleteSignIn {
  tenantId: string;
  tenantName: string;
  policy: SecurityPolicy;
  user: UserRow;
  /** A fresh Argon2id hash replacing a legacy or weaker one, in the same transaction. */
  newHash: string | null;
  email: string;
  via:
    | 'password'
    | 'invite'
    | 'password_reset'
    | 'mfa'
    | 'sso'
    | 'remembered_device'
    | 'passkey'
    | 'email_code';
  aal?: 1 | 2;
  /** After a second factor only: issue a remembered-device token (policy `rememberDeviceDays`). */
  rememberDevice?: boolean;
  /** Whether the user holds a second factor, when the caller already knows. */
  hasFactor?: boolean;
  /**
   * `clear` (default): the failed password attempts counted against `email` are forgotten. `keep`
   * for a sign-in that proves nothing about the password (SSO).
   */
  passwordFailures?: 'clear' | 'keep';
}

/** Tenant policy (docs/design.md "MFA"): must this user have a second factor? */
export function mfaRequiredFor(policy: SecurityPolicy, role: UserRow['role']): boolean {
  return (
    policy.mfaRequired === 'all' ||
    (policy.mfaRequired === 'admins' && (role === 'owner' || role === 'admin'))
  );
}

/**
 * The successful end of every sign-in path: one transaction for session, rehash, bookkeeping and
 * audit. Three round trips: BEGIN, set_config and the facts (sign-in-risk.ts, which also remembers
 * the device); then every write and the audit event at once; then COMMIT.
 */
export async function completeSignIn(
  db: Database,
  deps: AccountDeps,
  input: CompleteSignIn,
  request: RequestContext,
  now: Date,
): Promise<SignedIn> {
  return withTenant(db, input.tenantId, async (tx) => {
    const facts = await readSignInFacts(
      tx,
      { userId: input.user.id, email: input.email },
      request,
      now,
      'always',
    );
    return finishSignIn(tx, { deps, request, now }, input, facts);
  });
}

/**
 * `completeSignIn` inside the caller's transaction, once `readSignInFacts` has read the facts and
 * remembered the device (`facts.newDevice` set). The writes are issued without waiting between
 * them, in the order of the locks elsewhere (throttle row, user row, sessions, outbox, audit chain
 * head last), so they travel in one flight. Returns when all have answered.
 */
export async function finishSignIn(
  tx: TenantTx,
  { deps, request, now }: Omit<UseCase, 'db'>,
  input: CompleteSignIn,
  facts: SignInFacts,
): Promise<SignedIn> {
  if (facts.newDevice === null)
    throw new Error('finishSignIn needs the facts of a statement that remembered the device');
  const riskScore = successRiskScore(facts);
  const newDevice = facts.newDevice;
  const seenBefore = facts.novelty.anyDevice;
  const hasFactor = input.hasFactor ?? facts.hasFactor; // TOTP or a passkey
  const enrollmentOnly = !hasFactor && mfaRequiredFor(input.policy, input.user.role);
  const clear = input.passwordFailures !== 'keep';
  // The failures counted against this address are the user's own when it is the user's address
  // (always, for every caller today): then one update of the user row does both.
  const sameAddress = input.email === input.user.email;
  const pending: Promise<unknown>[] = [];
  if (clear) pending.push(clearThrottle(tx, input.email));
  const upgrade = input.newHash
    ? { passwordHash: input.newHash, passwordAlgorithm: 'argon2id' as const }
    : {};
  const cleared = clear && sameAddress ? { failedLoginAttempts: 0, lockedUntil: null } : {};
  pending.push(
    tx
      .update(users)
      .set({ ...upgrade, ...cleared, lastLoginAt: now, lastLoginIp: request.ip, updatedAt: now })
      .where(eq(users.id, input.user.id))
      .execute(),
  );
  if (clear && !sameAddress)
    pending.push(
      tx
        .update(users)
        .set({ failedLoginAttempts: 0, lockedUntil: null })
        .where(eq(users.email, input.email))
        .execute(),
    );
  const { session, written } = issueSession(
    tx,
    input.policy,
    {
      userId: input.user.id,
      aal: input.aal ?? 1,
      mfaVerifiedAt: input.aal === 2 ? now : null,
      enrollmentOnly,
      ip: request.ip,
      userAgent: request.userAgent,
    },
    now,
  );
  pending.push(written);
  if (newDevice && seenBefore) {
    const template = {
      name: 'new_sign_in' as const,
      tenantName: input.tenantName,
      ip: request.ip,
      userAgent: request.userAgent ?? 'unknown',
      at: now.toISOString(),
    };
    pending.push(
      enqueueEmail(
        tx,
        deps.keyring,
        { userId: input.user.id, address: input.user.email },
        template,
        now,
      ),
    );
  }
  const base = {
    actor: { type: 'user' as const, id: input.user.id },
    ip: request.ip,
    userAgent: request.userAgent,
    occurredAt: now,
  };
  pending.push(
    recordAuditEvent(tx, {
      ...base,
      action: 'auth.sign_in.succeeded',
      target: { type: 'session', id: session.sessionId },
      metadata: { via: input.via, newDevice, enrollmentOnly },
      riskScore,
    }),
  );
  if (input.newHash) {
    pending.push(
      recordAuditEvent(tx, {
        ...base,
        action: 'auth.password.rehashed',
        target: { type: 'user', id: input.user.id },
        metadata: { from: input.user.passwordAlgorithm },
      }),
    );
  }
  await Promise.all(pending);
  const device =
    input.rememberDevice && input.aal === 2
      ? await issueDeviceToken(tx, input.policy, input.user.id, request, now)
      : null;
  return {
    status: 'signed_in' as const,
    ...(device ? { device } : {}),
    user: toUserView(input.user, hasFactor),
    session,
  };
}
