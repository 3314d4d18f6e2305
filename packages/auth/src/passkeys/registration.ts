/**
 * Passkey registration (WebAuthn §7.1): options bound to the asking session, then verification of
 * the attestation ('none' is enough: we trust the user's own authenticator, not its vendor).
 * Every refusal is audited and committed before the error leaves (docs/design.md "Failure bookkeeping").
 * The first factor a user registers turns the session into a fresh AAL2 one, as TOTP enrolment does.
 */
import { eq, sql } from 'drizzle-orm';
import { generateRegistrationOptions, verifyRegistrationResponse } from '@simplewebauthn/server';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import {
  toLibraryRegistration,
  type PasskeyCreationOptionsJSON,
  type RegistrationResponseInput,
} from './wire.js';
import { users, webauthnCredentials, withTenant, type TenantTx } from '@tessera/db';
import type { AccountDeps, RequestContext } from '../context/deps.js';
import { recordAuditEvent } from '../audit/index.js';
import { notifyUser } from '../outbox/notify-api-key-created.js';
import { AuthError } from '../errors.js';
import type { CreatedSession } from '../sessions/create-session.js';
import { replaceSession } from '../sessions/replace-session.js';
import { tenantPolicyOf } from '../tenants/update-policy.js';
import type { PasskeyRefusal } from './assertion.js';
import {
  challengeMatches,
  consumeChallenge,
  PASSKEY_CHALLENGE_TTL_MS,
  signedChallengeOf,
  storeChallenge,
} from './challenges.js';
import { hasSecondFactor } from '../shared/factors.js';
import { toPasskeyView, type PasskeyView } from './passkey-view.js';
import { relyingPartyFor } from './relying-party.js';
import type { ActorUseCase, TenantUseCase } from '../context/use-case.js';

export const MAX_PASSKEYS_PER_USER = 20;
/** ES256, EdDSA, RS256 (COSE): what platform authenticators and security keys use. */
export const PASSKEY_ALGORITHMS = [-7, -8, -257];

export interface PasskeySubject {
  tenantId: string;
  userId: string;
  sessionId: string;
}

/** The WebAuthn user handle: the user's id as 16 bytes (no personal data, stable across renames). */
export function userHandleOf(userId: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(Buffer.from(userId.replace(/-/g, ''), 'hex'));
}

export async function passkeyRegistrationOptions(
  tx: TenantTx,
  uc: TenantUseCase<PasskeySubject> & Pick<ActorUseCase, 'deps'>,
): Promise<PasskeyCreationOptionsJSON> {
  const { actor: who, deps, now } = uc;
  const rp = relyingPartyFor(deps.publicUrl);
  const [user] = await tx.select().from(users).where(eq(users.id, who.userId));
  if (!user) throw new AuthError('unauthenticated');
  const existing = await tx
    .select()
    .from(webauthnCredentials)
    .where(eq(webauthnCredentials.userId, who.userId));
  if (existing.length >= MAX_PASSKEYS_PER_USER)
    throw new AuthError('conflict', {
      detail: `You can register up to ${MAX_PASSKEYS_PER_USER} passkeys. Remove one first.`,
    });
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.email,
    userID: userHandleOf(user.id),
    userDisplayName: user.displayName ?? user.email,
    timeout: PASSKEY_CHALLENGE_TTL_MS,
    attestationType: 'none',
    supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
    excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: c.transports })),
    // Discoverable where possible, so the passkey can also sign in without a password.
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
  await storeChallenge(
    tx,
    options.challenge,
    { purpose: 'registration', userId: who.userId, sessionId: who.sessionId },
    now,
  );
  return options;
}

type Registered =
  | { passkey: PasskeyView; session: CreatedSession | null }
  | { refused: PasskeyRefusal | 'duplicate' | 'limit_reached' };

async function verifyAttestation(
  tx: TenantTx,
  deps: AccountDeps,
  who: PasskeySubject,
  response: RegistrationResponseJSON,
  now: Date,
) {
  const rp = relyingPartyFor(deps.publicUrl);
  const signed = signedChallengeOf(response);
  const challenge = signed ? await consumeChallenge(tx, signed, 'registration') : null;
  if (!challenge || challenge.userId !== who.userId || challenge.sessionId !== who.sessionId)
    return { refused: 'challenge_invalid' as const };
  if (challenge.expiresAt <= now) return { refused: 'challenge_expired' as const };
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: (c) => challengeMatches(challenge, c),
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: false,
      supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
    });
    return result.verified
      ? { info: result.registrationInfo }
      : { refused: 'verification_failed' as const };
  } catch {
    return { refused: 'verification_failed' as const };
  }
}

export async function verifyPasskeyRegistration(
  uc: ActorUseCase<PasskeySubject>,
  input: { response: RegistrationResponseInput; name: string },
): Promise<{ passkey: PasskeyView; session: CreatedSession | null }> {
  const { db, deps, actor: who, request, now } = uc;
  const outcome = await withTenant(db, who.tenantId, async (tx): Promise<Registered> => {
    const base = {
      actor: { type: 'user' as const, id: who.userId },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
    };
    const refuse = async (
      reason: PasskeyRefusal | 'duplicate' | 'limit_reached',
    ): Promise<Registered> => {
      await recordAuditEvent(tx, {
        ...base,
        action: 'passkey.refused',
        target: { type: 'user', id: who.userId },
        metadata: { reason, ceremony: 'registration' },
      });
      return { refused: reason };
    };
    const verified = await verifyAttestation(
      tx,
      deps,
      who,
      toLibraryRegistration(input.response),
      now,
    );
    if ('refused' in verified) return refuse(verified.refused);
    const [count] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(webauthnCredentials)
      .where(eq(webauthnCredentials.userId, who.userId));
    if ((count?.n ?? 0) >= MAX_PASSKEYS_PER_USER) return refuse('limit_reached');
    const hadFactor = await hasSecondFactor(tx, who.userId);
    const { info } = verified;
    const [row] = await tx
      .insert(webauthnCredentials)
      .values({
        tenantId: tx.tenantId,
        userId: who.userId,
        credentialId: info.credential.id,
        publicKey: Buffer.from(info.credential.publicKey),
        counter: info.credential.counter,
        transports: info.credential.transports ?? [],
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
        name: input.name,
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning();
    if (!row) return refuse('duplicate');
    await notifyUser(
      tx,
      deps.keyring,
      who.userId,
      { name: 'passkey_added', passkeyName: row.name },
      now,
    );
    await recordAuditEvent(tx, {
      ...base,
      action: 'passkey.registered',
      target: { type: 'passkey', id: row.id },
      metadata: {
        name: row.name,
        deviceType: row.deviceType,
        backedUp: row.backedUp,
        userVerified: info.userVerified,
        firstFactor: !hadFactor,
      },
    });
    return {
      passkey: toPasskeyView(row),
      session: hadFactor ? null : await upgradeSession(tx, who, request, now),
    };
  });
  if ('refused' in outcome) throw refusalOf(outcome.refused);
  return outcome;
}

/** The first second factor is a privilege change (no longer enrollment-only): a new token, nothing more. */
async function upgradeSession(
  tx: TenantTx,
  who: PasskeySubject,
  request: RequestContext,
  now: Date,
): Promise<CreatedSession> {
  return replaceSession(tx, (await tenantPolicyOf(tx)).policy, who, request, now);
}

function refusalOf(reason: PasskeyRefusal | 'duplicate' | 'limit_reached'): AuthError {
  if (reason === 'duplicate')
    return new AuthError('conflict', { detail: 'This passkey is already registered.' });
  if (reason === 'limit_reached')
    return new AuthError('conflict', {
      detail: `You can register up to ${MAX_PASSKEYS_PER_USER} passkeys. Remove one first.`,
    });
  if (reason === 'challenge_invalid' || reason === 'challenge_expired')
    return new AuthError('token_invalid', { detail: 'The passkey request expired. Try again.' });
  return new AuthError('invalid_input', {
    detail: 'The passkey could not be verified. Try again.',
  });
}
