/**
 * Step-up with a passkey (docs/design.md "MFA"): a fresh assertion from one of the user's passkeys, bound
 * to the asking session, renews the session's step-up window like `mfa.stepUp` with a code.
 */
import type { TenantTx } from '@tessera/db';
import { eq } from 'drizzle-orm';
import { generateAuthenticationOptions } from '@simplewebauthn/server';

import {
  toLibraryAuthentication,
  type AuthenticationResponseInput,
  type PasskeyRequestOptionsJSON,
} from './wire.js';
import { sessions, webauthnCredentials, withTenant } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { checkAssertion, credentialRef, recordPasskeyUse } from './assertion.js';
import { PASSKEY_CHALLENGE_TTL_MS, storeChallenge } from './challenges.js';
import type { PasskeySubject } from './registration.js';
import { refusalError } from './refusals.js';
import { relyingPartyFor } from './relying-party.js';
import type { ActorUseCase, TenantUseCase } from '../context/use-case.js';

export async function passkeyStepUpOptions(
  tx: TenantTx,
  uc: TenantUseCase<PasskeySubject> & Pick<ActorUseCase, 'deps'>,
): Promise<PasskeyRequestOptionsJSON> {
  const { actor: who, deps, now } = uc;
  const rp = relyingPartyFor(deps.publicUrl);
  const credentials = await tx
    .select()
    .from(webauthnCredentials)
    .where(eq(webauthnCredentials.userId, who.userId));
  if (credentials.length === 0)
    throw new AuthError('forbidden', { detail: 'You have no passkey yet.' });
  const options = await generateAuthenticationOptions({
    rpID: rp.id,
    timeout: PASSKEY_CHALLENGE_TTL_MS,
    userVerification: 'preferred',
    allowCredentials: credentials.map((c) => ({ id: c.credentialId, transports: c.transports })),
  });
  await storeChallenge(
    tx,
    options.challenge,
    { purpose: 'step_up', userId: who.userId, sessionId: who.sessionId },
    now,
  );
  return options;
}

export async function stepUpWithPasskey(
  uc: ActorUseCase<PasskeySubject>,
  input: AuthenticationResponseInput,
): Promise<void> {
  const { db, deps, actor: who, request, now } = uc;
  const rp = relyingPartyFor(deps.publicUrl);
  const check = await withTenant(db, who.tenantId, async (tx) => {
    const result = await checkAssertion(
      tx,
      rp,
      toLibraryAuthentication(input),
      {
        purpose: 'step_up',
        userId: who.userId,
        sessionId: who.sessionId,
        requireUserVerification: false,
      },
      now,
    );
    const base = {
      actor: { type: 'user' as const, id: who.userId },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
    };
    if (result.ok) {
      await recordPasskeyUse(tx, result, now);
      await tx
        .update(sessions)
        .set({ aal: 2, mfaVerifiedAt: now })
        .where(eq(sessions.id, who.sessionId));
      await recordAuditEvent(tx, {
        ...base,
        action: 'mfa.step_up',
        target: { type: 'session', id: who.sessionId },
        metadata: { method: 'passkey', ...credentialRef(result.credential) },
      });
    } else {
      await recordAuditEvent(tx, {
        ...base,
        action: 'passkey.refused',
        target: { type: 'session', id: who.sessionId },
        metadata: {
          mode: 'step_up',
          reason: result.reason,
          ...credentialRef(result.credential),
          ...result.detail,
        },
      });
    }
    return result;
  });
  if (!check.ok) throw refusalError(check.reason, 'step_up');
}
