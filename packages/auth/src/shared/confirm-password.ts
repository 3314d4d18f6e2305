/**
 * Confirming an action with the password inside a signed-in session (changing the password or
 * the e-mail address, turning MFA off). A session is no licence to guess: each wrong entry counts
 * against the account's sign-in counter and lockout (throttle.ts), is committed and audited before
 * the refusal leaves (docs/design.md "Failure bookkeeping"), repeated failures are mailed to the account's
 * address, and entries are rate-limited per account. Every "confirm with your password" check
 * goes through `confirmPassword`; a second copy would be a second, weaker oracle.
 * Pinned by password-confirmation.security.test.ts.
 */
import { eq } from 'drizzle-orm';
import { tenants, users, withTenant, type Database, type UserRow } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import type { Keyring } from '../crypto/keyring.js';
import { AuthError } from '../errors.js';
import { enqueueEmail } from '../outbox/enqueue-email.js';
import { enforceLimit } from '../rate-limit/rate-limiter.js';
import { parseSecurityPolicy, type SecurityPolicy } from '../tenants/security-policy.js';
import type { RequestContext } from '../context/deps.js';
import { lockRetryAfterSeconds, recordLockout } from './lockout.js';
import { readThrottle, recordFailure, type FailureOutcome } from './throttle.js';
import type { ActorUseCase } from '../context/use-case.js';

export type PasswordConfirmationPurpose = 'change_password' | 'change_email' | 'disable_mfa';

/** Per account; the lockout (tenant policy, 3-50 failures) usually stops guessing first. */
export const PASSWORD_CONFIRMATION_LIMIT = { max: 10, windowMs: 15 * 60_000 } as const;

/** Every this many failures in a row (short of a lock, which mails on its own), the user is told. */
export const CONFIRMATION_NOTICE_EVERY = 3;

export interface ConfirmedAccount {
  user: UserRow;
  tenant: { name: string; slug: string; policy: SecurityPolicy };
}

interface Loaded extends ConfirmedAccount {
  tenantId: string;
  lockedUntil: Date | null;
}

export interface PasswordConfirmation {
  password: string;
  purpose: PasswordConfirmationPurpose;
  /** The input field named in the refusal, for forms (`currentPassword`, `password`). */
  field: string;
}

/**
 * Checks the signed-in user's password and returns the user and tenant it read. Throws
 * `account_locked` while the account is locked (right password or not), `invalid_credentials`
 * (with `field`) for a wrong password, `rate_limited` past the per-account limit.
 */
export async function confirmPassword(
  uc: ActorUseCase<{ tenantId: string; userId: string }>,
  entry: PasswordConfirmation,
): Promise<ConfirmedAccount> {
  const { db, deps, actor: who, request, now } = uc;
  await enforceLimit(
    deps.limiter,
    `password_confirmation:user:${who.tenantId}:${who.userId}`,
    PASSWORD_CONFIRMATION_LIMIT,
    now,
  );
  const loaded = await load(db, who);
  if (loaded.lockedUntil && loaded.lockedUntil > now) {
    await recordRefusal(db, deps.keyring, loaded, entry.purpose, request, now, 'locked');
    throw new AuthError('account_locked', {
      retryAfterSeconds: lockRetryAfterSeconds(loaded.lockedUntil, now),
    });
  }
  const { user } = loaded;
  // One verify whether or not a password exists (SSO-only users have none to confirm with).
  const stored =
    user.passwordHash && user.passwordAlgorithm
      ? { hash: user.passwordHash, algorithm: user.passwordAlgorithm }
      : null;
  const { ok } = await deps.passwords.verify(stored, entry.password, who.tenantId);
  if (!ok) {
    const outcome = await recordRefusal(
      db,
      deps.keyring,
      loaded,
      entry.purpose,
      request,
      now,
      'bad_password',
    );
    if (outcome?.locked && outcome.lockedUntil)
      throw new AuthError('account_locked', {
        retryAfterSeconds: lockRetryAfterSeconds(outcome.lockedUntil, now),
      });
    throw new AuthError('invalid_credentials', {
      detail: 'The password is incorrect.',
      field: entry.field,
    });
  }
  return { user: loaded.user, tenant: loaded.tenant };
}

async function load(db: Database, who: { tenantId: string; userId: string }): Promise<Loaded> {
  const loaded = await withTenant(
    db,
    who.tenantId,
    async (tx) => {
      const [user] = await tx.select().from(users).where(eq(users.id, who.userId));
      const [tenant] = await tx.select().from(tenants);
      if (!user || !tenant) return null;
      const { lockedUntil } = await readThrottle(tx, user.email);
      return {
        user,
        tenant: {
          name: tenant.name,
          slug: tenant.slug,
          policy: parseSecurityPolicy(tenant.securityPolicy),
        },
        lockedUntil,
      };
    },
    { readOnly: true },
  );
  if (!loaded) throw new AuthError('unauthenticated');
  return { ...loaded, tenantId: who.tenantId };
}

/** Commits the failure count, the lock, their audit events and mail, whatever the caller throws next. */
async function recordRefusal(
  db: Database,
  keyring: Keyring,
  loaded: Loaded,
  purpose: PasswordConfirmationPurpose,
  request: RequestContext,
  now: Date,
  reason: 'locked' | 'bad_password',
): Promise<FailureOutcome | null> {
  const { user, tenant } = loaded;
  return withTenant(db, loaded.tenantId, async (tx) => {
    const outcome =
      reason === 'locked' ? null : await recordFailure(tx, tenant.policy, user.email, now);
    const base = {
      actor: { type: 'user' as const, id: user.id },
      target: { type: 'user', id: user.id },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
    };
    const action =
      reason === 'locked'
        ? 'auth.password_confirmation.refused'
        : 'auth.password_confirmation.failed';
    await recordAuditEvent(tx, {
      ...base,
      action,
      metadata: { purpose, reason, failures: outcome?.failures ?? null },
    });
    const to = { userId: user.id, address: user.email };
    if (outcome?.locked) {
      await recordLockout(
        tx,
        { keyring, now },
        { base, lockedUntil: outcome.lockedUntil, notify: { ...to, tenantName: tenant.name } },
      );
    } else if (outcome && outcome.failures % CONFIRMATION_NOTICE_EVERY === 0) {
      await enqueueEmail(
        tx,
        keyring,
        to,
        {
          name: 'password_confirmation_failed',
          tenantName: tenant.name,
          failures: outcome.failures,
        },
        now,
      );
    }
    return outcome;
  });
}
