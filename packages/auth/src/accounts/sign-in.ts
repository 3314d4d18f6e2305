import { and, eq, isNotNull } from 'drizzle-orm';
import {
  loginThrottles,
  lookupTenantBySlug,
  tenantDomains,
  tenants,
  users,
  withTenant,
  type Database,
  type TenantTx,
  type UserRow,
} from '@tessera/db';
import { createMfaChallenge } from '../mfa/challenge-token.js';
import { emailCodesActive, mailSignInCode, type VerificationStep } from '../mfa/email-codes.js';
import { recordAuditEvent } from '../audit/index.js';
import type { Keyring } from '../crypto/keyring.js';
import { AuthError } from '../errors.js';
import { publishOutcome, signInOutcomeOf } from '../outcomes.js';
import { enforceLimit } from '../rate-limit/rate-limiter.js';
import { NO_TENANT_QUEUE_KEY } from '../passwords/password-service.js';
import { deviceNovelty, readSignInFacts, signInRisk } from '../shared/sign-in-risk.js';
import { parseSecurityPolicy, type SecurityPolicy } from '../tenants/security-policy.js';
import { SIGN_IN_ACCOUNT_LIMIT, signInAccountKey } from './address-limits.js';
import type { AccountDeps, RequestContext } from '../context/deps.js';
import { normalizeEmail } from './normalize-email.js';
import { emailDomainOf } from '../shared/domain-name.js';
import { ssoConnectionEnabled } from '../shared/domain-rules.js';
import { finishSignIn, type SignedIn } from '../shared/complete-sign-in.js';
import { lockRetryAfterSeconds, recordLockout } from '../shared/lockout.js';
import { clearFailures, recordFailure } from '../shared/throttle.js';

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
  /**
   * The address's domain is held by the tenant with require-SSO on, and an SSO connection of the
   * tenant (OIDC or SAML) is enabled.
   */
  ssoRequired: boolean;
}

/**
 * Tenant, user, lock and SSO enforcement (docs/domains.md) in one statement: with BEGIN,
 * set_config and COMMIT, one round trip.
 */
async function loadAttempt(db: Database, tenantId: string, email: string): Promise<Attempt> {
  const domain = emailDomainOf(email) ?? '';
  return withTenant(
    db,
    tenantId,
    async (tx) => {
      const [row] = await tx
        .select({
          name: tenants.name,
          securityPolicy: tenants.securityPolicy,
          user: users,
          lockedUntil: loginThrottles.lockedUntil,
          enforcedDomain: tenantDomains.id,
          ssoEnabled: ssoConnectionEnabled(tenants.id),
        })
        .from(tenants)
        .leftJoin(users, and(eq(users.tenantId, tenants.id), eq(users.email, email)))
        .leftJoin(
          loginThrottles,
          and(eq(loginThrottles.tenantId, tenants.id), eq(loginThrottles.email, email)),
        )
        .leftJoin(
          tenantDomains,
          and(
            eq(tenantDomains.tenantId, tenants.id),
            eq(tenantDomains.domain, domain),
            isNotNull(tenantDomains.verifiedAt),
            eq(tenantDomains.requireSso, true),
          ),
        );
      return {
        tenantId,
        tenantName: row?.name ?? '',
        policy: parseSecurityPolicy(row?.securityPolicy),
        user: row?.user ?? null,
        lockedUntil: row?.lockedUntil ?? null,
        ssoRequired: Boolean(row?.enforcedDomain && row.ssoEnabled === true),
      };
    },
    { readOnly: true, singleStatement: true },
  );
}

/**
 * Password sign-in. Unknown tenant, unknown e-mail, wrong password and disabled user give the
 * same error after the same Argon2id work. A refusal is recorded and committed before it leaves.
 *
 * Database work of a success on a known device: the slug lookup, one read-only transaction before
 * the hash (one round trip), and after it one transaction of three round trips that decides
 * between session, MFA challenge and e-mailed code and commits what follows (passwordStep). No
 * transaction is open while Argon2id runs. Pinned by sign-in-round-trips.db.test.ts.
 */
export type SignInResult = SignedIn | { status: 'mfa_required'; challengeToken: string };

/** Every attempt publishes its outcome once (outcomes.ts): the result's status or the refusal. */
export async function signIn(
  db: Database,
  deps: AccountDeps,
  input: SignInInput,
  request: RequestContext,
  now: Date,
): Promise<SignInResult> {
  try {
    const result = await attemptSignIn(db, deps, input, request, now);
    publishOutcome({ kind: 'sign_in', outcome: result.status });
    return result;
  } catch (error) {
    publishOutcome({ kind: 'sign_in', outcome: signInOutcomeOf(error) });
    throw error;
  }
}

async function attemptSignIn(
  db: Database,
  deps: AccountDeps,
  input: SignInInput,
  request: RequestContext,
  now: Date,
): Promise<SignInResult> {
  const email = normalizeEmail(input.email);
  await enforceLimit(deps.limiter, `sign_in:ip:${request.ip}`, SIGN_IN_LIMITS.perIp, now);
  await enforceLimit(
    deps.limiter,
    signInAccountKey(input.tenantSlug, email),
    SIGN_IN_LIMITS.perAccount,
    now,
  );
  const tenant = await lookupTenantBySlug(db.pool, input.tenantSlug);
  if (!tenant) {
    await deps.passwords.verify(null, input.password, NO_TENANT_QUEUE_KEY);
    throw new AuthError('invalid_credentials');
  }
  const attempt = await loadAttempt(db, tenant.id, email);
  // A held domain with require-SSO: no password is checked for its addresses, whether or not the
  // account exists (the answer depends on the domain only, so it says nothing about accounts).
  if (attempt.ssoRequired) {
    await recordRefusal(db, deps.keyring, attempt, email, request, now, 'sso_required');
    throw new AuthError('sso_required');
  }
  if (attempt.lockedUntil && attempt.lockedUntil > now) {
    await recordRefusal(db, deps.keyring, attempt, email, request, now, 'locked');
    throw new AuthError('account_locked', {
      retryAfterSeconds: lockRetryAfterSeconds(attempt.lockedUntil, now),
    });
  }
  const user = attempt.user;
  const stored =
    user?.passwordHash && user.passwordAlgorithm
      ? { hash: user.passwordHash, algorithm: user.passwordAlgorithm }
      : null;
  // Unknown users of a known tenant take the same queue key: equal work, equal waiting.
  const { ok, needsRehash } = await deps.passwords.verify(stored, input.password, attempt.tenantId);
  if (!ok || !user || user.disabledAt) {
    const outcome = await recordRefusal(
      db,
      deps.keyring,
      attempt,
      email,
      request,
      now,
      user?.disabledAt ? 'disabled' : 'bad_credentials',
    );
    if (outcome?.locked)
      throw new AuthError('account_locked', {
        retryAfterSeconds: lockRetryAfterSeconds(outcome.lockedUntil ?? now, now),
      });
    throw new AuthError('invalid_credentials');
  }
  const newHash = needsRehash ? await deps.passwords.hash(input.password, attempt.tenantId) : null;
  const step = {
    tenantId: attempt.tenantId,
    tenantName: attempt.tenantName,
    policy: attempt.policy,
    user,
    email,
    newHash,
  };
  const next = await withTenant(db, attempt.tenantId, (tx) =>
    passwordStep(tx, deps, step, request, now),
  );
  // No real factor, codes opted in, a new device: confirm with an e-mailed code (not MFA). The
  // per-user send limit is asked outside any transaction, so this step commits on its own.
  if (next.status === 'email_code')
    return {
      status: 'mfa_required',
      challengeToken: await mailSignInCode(db, deps, step, request, now),
    };
  return next;
}

/**
 * After the right password, in one transaction: read the facts (a second factor? this device
 * known? the risk signals) and, unless a challenge follows, remember the device in the same
 * statement; then either hand out an MFA challenge (password step committed), or leave the
 * e-mailed code to the caller (nothing written), or complete the sign-in.
 */
async function passwordStep(
  tx: TenantTx,
  deps: AccountDeps,
  step: VerificationStep,
  request: RequestContext,
  now: Date,
): Promise<SignInResult | { status: 'email_code' }> {
  const codes = emailCodesActive(step.policy, step.user);
  const facts = await readSignInFacts(
    tx,
    { userId: step.user.id, email: step.email },
    request,
    now,
    { unlessFactor: true, unlessUnknownPair: codes },
  );
  if (facts.hasFactor)
    return { status: 'mfa_required', challengeToken: await challenge(tx, step, request, now) }; // TOTP or a passkey
  if (codes && !facts.knownPair) return { status: 'email_code' };
  return finishSignIn(
    tx,
    { deps, request, now },
    { ...step, via: 'password', hasFactor: false },
    facts,
  );
}

/** Password right and a factor enrolled: commit the password step (rehash, failures cleared, audit), all at once, and return a challenge. */
async function challenge(
  tx: TenantTx,
  step: VerificationStep,
  request: RequestContext,
  now: Date,
): Promise<string> {
  const { user, email, newHash } = step;
  const cleared = clearFailures(tx, email);
  const rehashed = newHash
    ? tx
        .update(users)
        .set({ passwordHash: newHash, passwordAlgorithm: 'argon2id', updatedAt: now })
        .where(eq(users.id, user.id))
        .execute()
    : null;
  const created = createMfaChallenge(tx, user.id, now);
  const audited = recordAuditEvent(tx, {
    actor: { type: 'user', id: user.id },
    action: 'auth.sign_in.mfa_required',
    target: { type: 'user', id: user.id },
    ip: request.ip,
    userAgent: request.userAgent,
    occurredAt: now,
  });
  const [, , { token }] = await Promise.all([cleared, rehashed, created, audited]);
  return token;
}

/** Commits the failure count, the lock and their audit events, whatever the caller throws next. */
async function recordRefusal(
  db: Database,
  keyring: Keyring,
  attempt: Attempt,
  email: string,
  request: RequestContext,
  now: Date,
  reason: 'locked' | 'disabled' | 'bad_credentials' | 'sso_required',
) {
  return withTenant(db, attempt.tenantId, async (tx) => {
    // Only a checked password counts as a failure; a lock or an SSO requirement refuses before.
    const counted = reason === 'disabled' || reason === 'bad_credentials';
    const outcome = counted ? await recordFailure(tx, attempt.policy, email, now) : null;
    const userId = attempt.user?.id ?? null;
    const locked = reason === 'locked' || Boolean(outcome?.locked);
    const riskScore = await signInRisk(
      tx,
      await deviceNovelty(tx, userId, request),
      now,
      outcome?.failures ?? (reason === 'locked' ? attempt.policy.lockoutThreshold : 0),
      locked,
    );
    const base = {
      actor: { type: 'user' as const, id: userId },
      target: { type: 'user', id: userId },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
    };
    await recordAuditEvent(tx, {
      ...base,
      action: counted ? 'auth.sign_in.failed' : 'auth.sign_in.refused',
      metadata: { reason, failures: outcome?.failures ?? null },
      riskScore,
    });
    if (outcome?.locked) {
      const notify =
        attempt.user && !attempt.user.disabledAt
          ? { userId: attempt.user.id, address: attempt.user.email, tenantName: attempt.tenantName }
          : null;
      await recordLockout(tx, { keyring, now }, { base, lockedUntil: outcome.lockedUntil, notify });
    }
    return outcome;
  });
}
