/**
 * Checks one WebAuthn assertion against a stored credential (WebAuthn §7.2) inside the caller's
 * transaction: challenge spent first (single use), credential row locked, signature, origin and
 * rpID verified by @simplewebauthn/server, then the counter and backup flags judged here.
 *
 * Counter (§6.1.1, §7.2 step 21): when either the stored or the reported count is non-zero, the
 * reported one must be greater; otherwise two authenticators may share the key (a clone) and the
 * assertion is refused with its own reason, audited by the caller. Synced passkeys report 0 always.
 * Backup eligibility (BE) is fixed when the credential is made (§6.3.3), so a change is refused;
 * backup state (BS) may change and is stored on every use.
 */
import { and, eq } from 'drizzle-orm';
import { verifyAuthenticationResponse } from '@simplewebauthn/server';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import {
  webauthnCredentials,
  type TenantTx,
  type WebauthnChallengePurpose,
  type WebauthnChallengeRow,
  type WebauthnCredentialRow,
} from '@tessera/db';
import { challengeMatches, consumeChallenge, signedChallengeOf } from './challenges.js';
import type { RelyingParty } from './relying-party.js';

export type PasskeyRefusal =
  | 'challenge_invalid'
  | 'challenge_expired'
  | 'unknown_credential'
  | 'verification_failed'
  | 'counter_regression'
  | 'backup_eligibility_changed'
  | 'user_verification_missing'
  | 'user_handle_mismatch'
  | 'user_disabled'
  | 'passwordless_disabled'
  | 'too_many_attempts';

export interface AssertionExpectation {
  purpose: WebauthnChallengePurpose;
  /** The user the challenge must be bound to; undefined for passwordless (the credential names the user). */
  userId?: string;
  sessionId?: string;
  mfaChallengeId?: string;
  requireUserVerification: boolean;
}

export type AssertionCheck =
  | {
      ok: true;
      credential: WebauthnCredentialRow;
      challenge: WebauthnChallengeRow;
      userVerified: boolean;
      newCounter: number;
      backedUp: boolean;
    }
  | {
      ok: false;
      reason: PasskeyRefusal;
      credential: WebauthnCredentialRow | null;
      detail?: Record<string, unknown>;
    };

function bindingMatches(row: WebauthnChallengeRow, expected: AssertionExpectation): boolean {
  if (expected.userId !== undefined && row.userId !== expected.userId) return false;
  if (expected.sessionId !== undefined && row.sessionId !== expected.sessionId) return false;
  return expected.mfaChallengeId === undefined || row.mfaChallengeId === expected.mfaChallengeId;
}

export async function checkAssertion(
  tx: TenantTx,
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
  expected: AssertionExpectation,
  now: Date,
): Promise<AssertionCheck> {
  const signed = signedChallengeOf(response);
  const challenge = signed ? await consumeChallenge(tx, signed, expected.purpose) : null;
  if (!signed || !challenge || !bindingMatches(challenge, expected))
    return { ok: false, reason: 'challenge_invalid', credential: null };
  if (challenge.expiresAt <= now)
    return { ok: false, reason: 'challenge_expired', credential: null };
  const byId = eq(webauthnCredentials.credentialId, response.id);
  const [credential] = await tx
    .select()
    .from(webauthnCredentials)
    .where(
      expected.userId === undefined
        ? byId
        : and(byId, eq(webauthnCredentials.userId, expected.userId)),
    )
    .for('update');
  if (!credential) return { ok: false, reason: 'unknown_credential', credential: null };
  let verified;
  try {
    verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: (c) => challengeMatches(challenge, c),
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      // Counter 0 here: the library would throw on a regression; we judge it below with a reason of its own.
      credential: {
        id: credential.credentialId,
        publicKey: Uint8Array.from(credential.publicKey),
        counter: 0,
        transports: credential.transports,
      },
      requireUserVerification: false,
    });
  } catch {
    return { ok: false, reason: 'verification_failed', credential };
  }
  if (!verified.verified) return { ok: false, reason: 'verification_failed', credential };
  const info = verified.authenticationInfo;
  if ((info.newCounter > 0 || credential.counter > 0) && info.newCounter <= credential.counter) {
    return {
      ok: false,
      reason: 'counter_regression',
      credential,
      detail: { storedCounter: credential.counter, reportedCounter: info.newCounter },
    };
  }
  if (info.credentialDeviceType !== credential.deviceType)
    return { ok: false, reason: 'backup_eligibility_changed', credential };
  if (expected.requireUserVerification && !info.userVerified)
    return { ok: false, reason: 'user_verification_missing', credential };
  return {
    ok: true,
    credential,
    challenge,
    userVerified: info.userVerified,
    newCounter: info.newCounter,
    backedUp: info.credentialBackedUp,
  };
}

/** Stores the new counter, the backup state and the time of use after a successful assertion. */
export async function recordPasskeyUse(
  tx: TenantTx,
  check: AssertionCheck & { ok: true },
  now: Date,
): Promise<void> {
  await tx
    .update(webauthnCredentials)
    .set({ counter: check.newCounter, backedUp: check.backedUp, lastUsedAt: now })
    .where(eq(webauthnCredentials.id, check.credential.id));
}

/** Audit metadata naming the credential without its key material. */
export function credentialRef(credential: WebauthnCredentialRow | null): Record<string, unknown> {
  return credential ? { passkeyId: credential.id, passkeyName: credential.name } : {};
}
