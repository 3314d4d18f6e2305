/** Two-step sign-in: verifying the answer to a challenge (challenge-token.ts issues it). */
import { isWellFormedToken, sha256 } from '../crypto/tokens.js';
import { and, eq, sql } from 'drizzle-orm';
import {
  lookupMfaChallenge,
  mfaChallenges,
  tenants,
  users,
  withTenant,
  type Database,
  type TenantTx,
} from '@tessera/db';
import { completeSignIn, type SignedIn } from '../shared/complete-sign-in.js';
import type { AccountDeps, RequestContext } from '../context/deps.js';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { mfaCodeRefused } from '../outcomes.js';
import { enforceLimit } from '../rate-limit/rate-limiter.js';
import { parseSecurityPolicy } from '../tenants/security-policy.js';
import { CHALLENGE_MAX_ATTEMPTS, VERIFY_MFA_LIMIT } from './challenge-token.js';
import { checkEmailSignInCode, type EmailCodeCheck } from './email-codes.js';
import { checkChallengeFactor } from './oob-codes-challenge.js';
import { recordFactorFailure, type FactorCheck } from './verify-second-factor.js';

type Outcome =
  | { check: FactorCheck; userId: string; purpose: 'mfa' }
  | { check: EmailCodeCheck; userId: string; purpose: 'sign_in_verification' }
  | { expired: true };

/** The e-mailed new-device code (email-codes.ts): its own audit events, never `auth.mfa.*`. */
async function emailAttempt(
  tx: TenantTx,
  deps: AccountDeps,
  challenge: { id: string; userId: string; attempts: number },
  code: string,
  request: RequestContext,
  now: Date,
): Promise<Outcome> {
  const check: EmailCodeCheck =
    challenge.attempts >= CHALLENGE_MAX_ATTEMPTS
      ? { ok: false, reason: 'exhausted' }
      : await checkEmailSignInCode(tx, deps, challenge, code, now);
  const base = {
    actor: { type: 'user' as const, id: challenge.userId },
    target: { type: 'user', id: challenge.userId },
    ip: request.ip,
    userAgent: request.userAgent,
    occurredAt: now,
  };
  if (check.ok) {
    await tx.update(mfaChallenges).set({ usedAt: now }).where(eq(mfaChallenges.id, challenge.id));
    await recordAuditEvent(tx, {
      ...base,
      action: 'auth.email_code.verified',
      metadata: { purpose: 'sign_in_verification' },
    });
  } else {
    await recordAuditEvent(tx, {
      ...base,
      action: 'auth.email_code.refused',
      metadata: {
        purpose: 'sign_in_verification',
        reason: check.reason,
        attempt: challenge.attempts + 1,
      },
    });
  }
  return { check, userId: challenge.userId, purpose: 'sign_in_verification' };
}

/** Checks the code; every attempt (and its failure count) commits before any error leaves. */
async function attempt(
  db: Database,
  deps: AccountDeps,
  tenantId: string,
  challengeId: string,
  code: string,
  request: RequestContext,
  now: Date,
): Promise<Outcome> {
  return withTenant(db, tenantId, async (tx) => {
    const [challenge] = await tx
      .select()
      .from(mfaChallenges)
      .where(eq(mfaChallenges.id, challengeId))
      .for('update');
    if (!challenge || challenge.usedAt || challenge.expiresAt <= now)
      return { expired: true as const };
    await tx
      .update(mfaChallenges)
      .set({ attempts: sql`${mfaChallenges.attempts} + 1` })
      .where(eq(mfaChallenges.id, challengeId));
    if (challenge.purpose === 'sign_in_verification')
      return emailAttempt(tx, deps, challenge, code, request, now);
    // The sixth code on a challenge is refused even when right.
    const check: FactorCheck =
      challenge.attempts >= CHALLENGE_MAX_ATTEMPTS
        ? { ok: false, reason: 'locked' }
        : await checkChallengeFactor(tx, deps.keyring, challenge, code, now);
    const base = {
      actor: { type: 'user' as const, id: challenge.userId },
      target: { type: 'user', id: challenge.userId },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
    };
    if (check.ok) {
      await tx
        .update(mfaChallenges)
        .set({ usedAt: now })
        .where(and(eq(mfaChallenges.id, challengeId)));
      await recordAuditEvent(tx, {
        ...base,
        action: 'auth.mfa.verified',
        metadata: { method: check.method },
      });
    } else {
      const userLocked =
        check.reason === 'invalid' ? await recordFactorFailure(tx, challenge.userId, now) : false;
      await recordAuditEvent(tx, {
        ...base,
        action: 'auth.mfa.failed',
        metadata: { reason: check.reason, attempt: challenge.attempts + 1, userLocked },
      });
    }
    return { check, userId: challenge.userId, purpose: 'mfa' as const };
  });
}

export function throwForFailedCheck(check: FactorCheck & { ok: false }): never {
  if (check.reason === 'replayed') throw mfaCodeRefused('mfa_code_replayed');
  if (check.reason === 'locked')
    throw new AuthError('rate_limited', { detail: 'Too many wrong codes. Try again later.' });
  throw mfaCodeRefused('mfa_code_invalid');
}

export async function verifyMfaChallenge(
  db: Database,
  deps: AccountDeps,
  input: { challengeToken: string; code: string; rememberDevice?: boolean | undefined },
  request: RequestContext,
  now: Date,
): Promise<SignedIn> {
  await enforceLimit(deps.limiter, `verify_mfa:ip:${request.ip}`, VERIFY_MFA_LIMIT, now);
  const located = isWellFormedToken(input.challengeToken)
    ? await lookupMfaChallenge(db.pool, sha256(input.challengeToken))
    : null;
  if (!located) throw new AuthError('token_invalid');
  const outcome = await attempt(
    db,
    deps,
    located.tenantId,
    located.challengeId,
    input.code,
    request,
    now,
  );
  if ('expired' in outcome) throw new AuthError('token_invalid');
  if (outcome.purpose === 'sign_in_verification') {
    if (!outcome.check.ok) {
      if (outcome.check.reason === 'not_allowed') throw new AuthError('token_invalid');
      throw mfaCodeRefused('mfa_code_invalid');
    }
  } else if (!outcome.check.ok) throwForFailedCheck(outcome.check);
  const context = await withTenant(
    db,
    located.tenantId,
    async (tx) => {
      const [tenant] = await tx.select().from(tenants);
      const [user] = await tx.select().from(users).where(eq(users.id, outcome.userId));
      return { tenant, user };
    },
    { readOnly: true },
  );
  if (!context.tenant || !context.user || context.user.disabledAt)
    throw new AuthError('invalid_credentials');
  const policy = parseSecurityPolicy(context.tenant.securityPolicy);
  if (outcome.purpose === 'sign_in_verification') {
    // Not MFA: AAL1, no MFA time, no remembered-device token whatever the request asked.
    return completeSignIn(
      db,
      deps,
      {
        tenantId: located.tenantId,
        tenantName: context.tenant.name,
        policy,
        user: context.user,
        newHash: null,
        email: context.user.email,
        via: 'email_code',
        aal: 1,
        hasFactor: false,
      },
      request,
      now,
    );
  }
  return completeSignIn(
    db,
    deps,
    {
      tenantId: located.tenantId,
      tenantName: context.tenant.name,
      policy,
      user: context.user,
      newHash: null,
      email: context.user.email,
      via: 'mfa',
      aal: 2,
      rememberDevice: input.rememberDevice === true,
      hasFactor: true,
    },
    request,
    now,
  );
}
