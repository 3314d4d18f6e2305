import { eq } from 'drizzle-orm';
import { lookupTenantBySlug, tenants, users, withTenant, type Database, type UserRow } from '@tessera/db';
import { createMfaChallenge } from '../mfa/challenge.js';
import { emailSignInVerification } from '../mfa/email-codes.js';
import { hasSecondFactor } from '../passkeys/factors.js';
import { recordAuditEvent } from '../audit/index.js';
import type { Keyring } from '../crypto/keyring.js';
import { AuthError } from '../errors.js';
import { enforceLimit } from '../rate-limit/rate-limiter.js';
import { NO_TENANT_QUEUE_KEY } from '../passwords/password-service.js';
import { deviceNovelty, signInRisk } from './sign-in-risk.js';
import { parseSecurityPolicy, type SecurityPolicy } from '../tenants/security-policy.js';
import { SIGN_IN_ACCOUNT_LIMIT, signInAccountKey } from './address-limits.js';
import type { AccountDeps, RequestContext } from './deps.js';
import { normalizeEmail } from './normalize-email.js';
import { completeSignIn, type SignedIn } from './complete-sign-in.js';
import { lockRetryAfterSeconds, recordLockout } from './lockout.js';
import { clearFailures, readThrottle, recordFailure } from './throttle.js';

export interface SignInInput {
  tenantSlug: string;
  email: string;
  password: string;
}

export const SIGN_IN_LIMITS = {
  perIp: { max: 30, windowMs: 60_000 },
  perAccount: SIGN_IN_ACCOUNT_LIMIT,
} as const;

interface Attempt {
  tenantId: string;
  tenantName: string;
  policy: SecurityPolicy;
  user: UserRow | null;
  lockedUntil: Date | null;
}

async function loadAttempt(db: Database, tenantId: string, email: string): Promise<Attempt> {
  return withTenant(db, tenantId, async (tx) => {
    const [tenant] = await tx.select().from(tenants);
    const [user] = await tx.select().from(users).where(eq(users.email, email));
    const { lockedUntil } = await readThrottle(tx, email);
    return { tenantId, tenantName: tenant?.name ?? '', policy: parseSecurityPolicy(tenant?.securityPolicy), user: user ?? null, lockedUntil };
  }, { readOnly: true });
}

/**
 * Password sign-in. Unknown tenant, unknown e-mail, wrong password and disabled user give the
 * same error after the same Argon2id work. A refusal is recorded and committed before it leaves.
 */
export type SignInResult = SignedIn | { status: 'mfa_required'; challengeToken: string };

export async function signIn(db: Database, deps: AccountDeps, input: SignInInput, request: RequestContext, now: Date): Promise<SignInResult> {
  const email = normalizeEmail(input.email);
  await enforceLimit(deps.limiter, `sign_in:ip:${request.ip}`, SIGN_IN_LIMITS.perIp, now);
  await enforceLimit(deps.limiter, signInAccountKey(input.tenantSlug, email), SIGN_IN_LIMITS.perAccount, now);
  const tenant = await lookupTenantBySlug(db.pool, input.tenantSlug);
  if (!tenant) {
    await deps.passwords.verify(null, input.password, NO_TENANT_QUEUE_KEY);
    throw new AuthError('invalid_credentials');
  }
  const attempt = await loadAttempt(db, tenant.id, email);
  if (attempt.lockedUntil && attempt.lockedUntil > now) {
    await recordRefusal(db, deps.keyring, attempt, email, request, now, 'locked');
    throw new AuthError('account_locked', { retryAfterSeconds: lockRetryAfterSeconds(attempt.lockedUntil, now) });
  }
  const user = attempt.user;
  const stored = user?.passwordHash && user.passwordAlgorithm ? { hash: user.passwordHash, algorithm: user.passwordAlgorithm } : null;
  // Unknown users of a known tenant take the same queue key: equal work, equal waiting.
  const { ok, needsRehash } = await deps.passwords.verify(stored, input.password, attempt.tenantId);
  if (!ok || !user || user.disabledAt) {
    const outcome = await recordRefusal(db, deps.keyring, attempt, email, request, now, user?.disabledAt ? 'disabled' : 'bad_credentials');
    if (outcome?.locked) throw new AuthError('account_locked', { retryAfterSeconds: lockRetryAfterSeconds(outcome.lockedUntil ?? now, now) });
    throw new AuthError('invalid_credentials');
  }
  const newHash = needsRehash ? await deps.passwords.hash(input.password, attempt.tenantId) : null;
  const challenge = await challengeIfEnrolled(db, attempt.tenantId, user, email, newHash, request, now);
  if (challenge) return { status: 'mfa_required', challengeToken: challenge };
  // No real factor: an opted-in user on a new device confirms with an e-mailed code (not MFA).
  const verification = await emailSignInVerification(db, deps, { tenantId: attempt.tenantId, tenantName: attempt.tenantName, policy: attempt.policy, user, email, newHash }, request, now);
  if (verification) return { status: 'mfa_required', challengeToken: verification };
  return completeSignIn(db, deps, { tenantId: attempt.tenantId, tenantName: attempt.tenantName, policy: attempt.policy, user, newHash, email, via: 'password', hasFactor: false }, request, now, clearFailures);
}

/** Commits the failure count, the lock and their audit events, whatever the caller throws next. */
async function recordRefusal(db: Database, keyring: Keyring, attempt: Attempt, email: string, request: RequestContext, now: Date, reason: 'locked' | 'disabled' | 'bad_credentials') {
  return withTenant(db, attempt.tenantId, async (tx) => {
    const outcome = reason === 'locked' ? null : await recordFailure(tx, attempt.policy, email, now);
    const userId = attempt.user?.id ?? null;
    const locked = reason === 'locked' || Boolean(outcome?.locked);
    const riskScore = await signInRisk(tx, await deviceNovelty(tx, userId, request), now, outcome?.failures ?? attempt.policy.lockoutThreshold, locked);
    const base = { actor: { type: 'user' as const, id: userId }, target: { type: 'user', id: userId }, ip: request.ip, userAgent: request.userAgent, occurredAt: now };
    await recordAuditEvent(tx, { ...base, action: reason === 'locked' ? 'auth.sign_in.refused' : 'auth.sign_in.failed', metadata: { reason, failures: outcome?.failures ?? null }, riskScore });
    if (outcome?.locked) {
      const notify = attempt.user && !attempt.user.disabledAt ? { userId: attempt.user.id, address: attempt.user.email, tenantName: attempt.tenantName } : null;
      await recordLockout(tx, keyring, base, outcome.lockedUntil, notify, now);
    }
    return outcome;
  });
}

/**
 * Password right and a factor enrolled: commit the password step (rehash, failures cleared,
 * audit) and hand out a challenge instead of a session. Returns null when the user has no factor.
 */
async function challengeIfEnrolled(db: Database, tenantId: string, user: UserRow, email: string, newHash: string | null, request: RequestContext, now: Date): Promise<string | null> {
  return withTenant(db, tenantId, async (tx) => {
    if (!(await hasSecondFactor(tx, user.id))) return null; // TOTP or a passkey
    if (newHash) await tx.update(users).set({ passwordHash: newHash, passwordAlgorithm: 'argon2id', updatedAt: now }).where(eq(users.id, user.id));
    await clearFailures(tx, email);
    const { token } = await createMfaChallenge(tx, user.id, now);
    await recordAuditEvent(tx, { actor: { type: 'user', id: user.id }, action: 'auth.sign_in.mfa_required', target: { type: 'user', id: user.id }, ip: request.ip, userAgent: request.userAgent, occurredAt: now });
    return token;
  });
}
