/**
 * Signing in with a passkey, two ways:
 * - second factor: after the password step, with its MFA challenge token (or the SSO challenge
 *   cookie); each assertion counts against that challenge's attempt limit (challenge.ts).
 * - passwordless: only when the tenant's policy has `passkeyPasswordless` and the authenticator
 *   performed user verification (something the user has plus a PIN or biometric: AAL2, NIST
 *   SP 800-63B §5.1.8 multi-factor cryptographic authenticator).
 * Every refusal is audited (`passkey.refused`) and committed before the error leaves.
 */
import { eq, sql } from 'drizzle-orm';
import { generateAuthenticationOptions } from '@simplewebauthn/server';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import {
  lookupMfaChallenge,
  lookupTenantBySlug,
  mfaChallenges,
  tenants,
  users,
  webauthnCredentials,
  withTenant,
  type Database,
  type TenantTx,
  type UserRow,
} from '@tessera/db';
import { completeSignIn, type SignedIn } from '../shared/complete-sign-in.js';
import type { AccountDeps, RequestContext } from '../context/deps.js';
import { recordAuditEvent } from '../audit/index.js';
import { isWellFormedToken, sha256 } from '../crypto/tokens.js';
import { AuthError } from '../errors.js';
import { CHALLENGE_MAX_ATTEMPTS, VERIFY_MFA_LIMIT } from '../mfa/challenge-token.js';
import { enforceLimit } from '../rate-limit/rate-limiter.js';
import { parseSecurityPolicy } from '../tenants/security-policy.js';
import {
  checkAssertion,
  credentialRef,
  recordPasskeyUse,
  type AssertionCheck,
  type PasskeyRefusal,
} from './assertion.js';
import { PASSKEY_CHALLENGE_TTL_MS, storeChallenge } from './challenges.js';
import { refusalError } from './refusals.js';
import { relyingPartyFor } from './relying-party.js';
import { userHandleOf } from './registration.js';
import {
  toLibraryAuthentication,
  type AuthenticationResponseInput,
  type PasskeyRequestOptionsJSON,
} from './wire.js';

export const PASSKEY_OPTIONS_LIMIT = { max: 30, windowMs: 60_000 } as const;
const PASSWORDLESS_OFF =
  'Passkey sign-in without a password is not turned on for this organisation.';

export type PasskeySignInTarget = { challengeToken: string } | { tenantSlug: string };

async function locateMfaChallenge(
  db: Database,
  token: string,
): Promise<{ tenantId: string; challengeId: string }> {
  const located = isWellFormedToken(token)
    ? await lookupMfaChallenge(db.pool, sha256(token))
    : null;
  if (!located) throw new AuthError('token_invalid');
  return located;
}

export async function passkeySignInOptions(
  db: Database,
  deps: AccountDeps,
  target: PasskeySignInTarget,
  request: RequestContext,
  now: Date,
): Promise<PasskeyRequestOptionsJSON> {
  await enforceLimit(deps.limiter, `passkey_options:ip:${request.ip}`, PASSKEY_OPTIONS_LIMIT, now);
  const rp = relyingPartyFor(deps.publicUrl);
  if ('challengeToken' in target) {
    const located = await locateMfaChallenge(db, target.challengeToken);
    return withTenant(db, located.tenantId, async (tx) => {
      const [challenge] = await tx
        .select()
        .from(mfaChallenges)
        .where(eq(mfaChallenges.id, located.challengeId));
      // Only a password step's MFA challenge: an e-mailed-code verification step is not one.
      if (
        !challenge ||
        challenge.purpose !== 'mfa' ||
        challenge.usedAt ||
        challenge.expiresAt <= now ||
        challenge.attempts >= CHALLENGE_MAX_ATTEMPTS
      )
        throw new AuthError('token_invalid');
      const credentials = await tx
        .select()
        .from(webauthnCredentials)
        .where(eq(webauthnCredentials.userId, challenge.userId));
      if (credentials.length === 0)
        throw new AuthError('forbidden', {
          detail: 'No passkey is registered for this account. Use a code instead.',
        });
      const options = await generateAuthenticationOptions({
        rpID: rp.id,
        timeout: PASSKEY_CHALLENGE_TTL_MS,
        userVerification: 'preferred',
        allowCredentials: credentials.map((c) => ({
          id: c.credentialId,
          transports: c.transports,
        })),
      });
      await storeChallenge(
        tx,
        options.challenge,
        { purpose: 'second_factor', userId: challenge.userId, mfaChallengeId: challenge.id },
        now,
      );
      return options;
    });
  }
  // Unknown organisation and switched-off policy answer alike. No allowCredentials: the
  // authenticator offers its discoverable credentials, so no e-mail is asked for or revealed.
  const tenant = await lookupTenantBySlug(db.pool, target.tenantSlug);
  if (!tenant) throw new AuthError('forbidden', { detail: PASSWORDLESS_OFF });
  return withTenant(db, tenant.id, async (tx) => {
    if (!(await passwordlessAllowed(tx)))
      throw new AuthError('forbidden', { detail: PASSWORDLESS_OFF });
    const options = await generateAuthenticationOptions({
      rpID: rp.id,
      timeout: PASSKEY_CHALLENGE_TTL_MS,
      userVerification: 'required',
    });
    await storeChallenge(tx, options.challenge, { purpose: 'passwordless' }, now);
    return options;
  });
}

async function passwordlessAllowed(tx: TenantTx): Promise<boolean> {
  const [tenant] = await tx.select({ securityPolicy: tenants.securityPolicy }).from(tenants);
  return parseSecurityPolicy(tenant?.securityPolicy).passkeyPasswordless;
}

type Attempt = { expired: true } | { check: AssertionCheck; userId: string | null };

async function audit(
  tx: TenantTx,
  request: RequestContext,
  now: Date,
  userId: string | null,
  check: AssertionCheck,
  metadata: Record<string, unknown>,
): Promise<void> {
  const base = {
    actor: { type: 'user' as const, id: userId },
    ip: request.ip,
    userAgent: request.userAgent,
    occurredAt: now,
  };
  if (check.ok) {
    await recordAuditEvent(tx, {
      ...base,
      action: 'passkey.sign_in',
      target: { type: 'passkey', id: check.credential.id },
      metadata: {
        ...metadata,
        ...credentialRef(check.credential),
        userVerified: check.userVerified,
        backedUp: check.backedUp,
      },
    });
  } else {
    await recordAuditEvent(tx, {
      ...base,
      action: 'passkey.refused',
      target: { type: check.credential ? 'passkey' : 'user', id: check.credential?.id ?? userId },
      metadata: {
        ...metadata,
        reason: check.reason,
        ...credentialRef(check.credential),
        ...check.detail,
      },
    });
  }
}

/** Second factor: one assertion against the password step's challenge, counted and committed. */
async function secondFactorAttempt(
  db: Database,
  deps: AccountDeps,
  located: { tenantId: string; challengeId: string },
  response: AuthenticationResponseJSON,
  request: RequestContext,
  now: Date,
): Promise<Attempt> {
  const rp = relyingPartyFor(deps.publicUrl);
  return withTenant(db, located.tenantId, async (tx) => {
    const [challenge] = await tx
      .select()
      .from(mfaChallenges)
      .where(eq(mfaChallenges.id, located.challengeId))
      .for('update');
    if (!challenge || challenge.purpose !== 'mfa' || challenge.usedAt || challenge.expiresAt <= now)
      return { expired: true as const };
    await tx
      .update(mfaChallenges)
      .set({ attempts: sql`${mfaChallenges.attempts} + 1` })
      .where(eq(mfaChallenges.id, challenge.id));
    const check: AssertionCheck =
      challenge.attempts >= CHALLENGE_MAX_ATTEMPTS
        ? { ok: false, reason: 'too_many_attempts', credential: null }
        : await checkAssertion(
            tx,
            rp,
            response,
            {
              purpose: 'second_factor',
              userId: challenge.userId,
              mfaChallengeId: challenge.id,
              requireUserVerification: false,
            },
            now,
          );
    if (check.ok) {
      await recordPasskeyUse(tx, check, now);
      await tx.update(mfaChallenges).set({ usedAt: now }).where(eq(mfaChallenges.id, challenge.id));
      await recordAuditEvent(tx, {
        actor: { type: 'user', id: challenge.userId },
        action: 'auth.mfa.verified',
        target: { type: 'user', id: challenge.userId },
        ip: request.ip,
        userAgent: request.userAgent,
        occurredAt: now,
        metadata: { method: 'passkey' },
      });
    }
    await audit(tx, request, now, challenge.userId, check, {
      mode: 'second_factor',
      attempt: challenge.attempts + 1,
    });
    return { check, userId: challenge.userId };
  });
}

/** Passwordless: the credential names the user; the policy and user verification decide. */
async function passwordlessAttempt(
  db: Database,
  deps: AccountDeps,
  tenantId: string,
  response: AuthenticationResponseJSON,
  request: RequestContext,
  now: Date,
): Promise<Attempt> {
  const rp = relyingPartyFor(deps.publicUrl);
  return withTenant(db, tenantId, async (tx) => {
    let check = await checkAssertion(
      tx,
      rp,
      response,
      { purpose: 'passwordless', requireUserVerification: true },
      now,
    );
    const userId = check.credential?.userId ?? null;
    if (check.ok) check = await passwordlessRules(tx, check, response);
    if (check.ok) await recordPasskeyUse(tx, check, now);
    await audit(tx, request, now, userId, check, { mode: 'passwordless' });
    return { check, userId };
  });
}

async function passwordlessRules(
  tx: TenantTx,
  check: AssertionCheck & { ok: true },
  response: AuthenticationResponseJSON,
): Promise<AssertionCheck> {
  const refuse = (reason: PasskeyRefusal): AssertionCheck => ({
    ok: false,
    reason,
    credential: check.credential,
  });
  // The policy is read again here: it may have been switched off since the options were made.
  if (!(await passwordlessAllowed(tx))) return refuse('passwordless_disabled');
  const handle = response.response.userHandle;
  if (
    handle !== undefined &&
    !Buffer.from(handle, 'base64url').equals(Buffer.from(userHandleOf(check.credential.userId)))
  )
    return refuse('user_handle_mismatch');
  const [user] = await tx
    .select({ disabledAt: users.disabledAt })
    .from(users)
    .where(eq(users.id, check.credential.userId));
  if (!user || user.disabledAt) return refuse('user_disabled');
  return check;
}

export interface PasskeySignInInput {
  /** Passwordless: the organisation the passkey belongs to. */
  tenantSlug?: string | undefined;
  /** Second factor: the password step's challenge (or the SSO challenge cookie). */
  challengeToken?: string | undefined;
  response: AuthenticationResponseInput;
}

export async function signInWithPasskey(
  db: Database,
  deps: AccountDeps,
  input: PasskeySignInInput,
  request: RequestContext,
  now: Date,
): Promise<SignedIn> {
  await enforceLimit(deps.limiter, `verify_mfa:ip:${request.ip}`, VERIFY_MFA_LIMIT, now);
  const mode = input.tenantSlug !== undefined ? 'passwordless' : 'second_factor';
  let tenantId: string;
  let attempt: Attempt;
  if (input.tenantSlug !== undefined) {
    const tenant = await lookupTenantBySlug(db.pool, input.tenantSlug);
    if (!tenant)
      throw new AuthError('invalid_credentials', { detail: 'The passkey could not be verified.' });
    tenantId = tenant.id;
    attempt = await passwordlessAttempt(
      db,
      deps,
      tenantId,
      toLibraryAuthentication(input.response),
      request,
      now,
    );
  } else {
    const located = await locateMfaChallenge(db, input.challengeToken ?? '');
    tenantId = located.tenantId;
    attempt = await secondFactorAttempt(
      db,
      deps,
      located,
      toLibraryAuthentication(input.response),
      request,
      now,
    );
  }
  if ('expired' in attempt) throw new AuthError('token_invalid');
  if (!attempt.check.ok || !attempt.userId)
    throw refusalError(attempt.check.ok ? 'unknown_credential' : attempt.check.reason, mode);
  const userId = attempt.userId;
  const context = await withTenant(
    db,
    tenantId,
    async (tx) => {
      const [tenant] = await tx.select().from(tenants);
      const [user] = await tx.select().from(users).where(eq(users.id, userId));
      return { tenant, user };
    },
    { readOnly: true },
  );
  if (!context.tenant || !context.user || context.user.disabledAt)
    throw new AuthError('invalid_credentials');
  const user: UserRow = context.user;
  const policy = parseSecurityPolicy(context.tenant.securityPolicy);
  return completeSignIn(
    db,
    deps,
    {
      tenantId,
      tenantName: context.tenant.name,
      policy,
      user,
      newHash: null,
      email: user.email,
      via: mode === 'passwordless' ? 'passkey' : 'mfa',
      aal: 2,
    },
    request,
    now,
  );
}
