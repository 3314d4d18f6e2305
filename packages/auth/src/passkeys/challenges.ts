/**
 * WebAuthn ceremony challenges: 32 random bytes from the library, stored only as SHA-256, bound
 * to a purpose (and a user, session or password-step challenge), valid for 5 minutes, and spent
 * by the first attempt that names them: `DELETE ... RETURNING` lets exactly one request win.
 */
import { timingSafeEqual } from 'node:crypto';
import { and, eq, lt } from 'drizzle-orm';
import {
  webauthnChallenges,
  type TenantTx,
  type WebauthnChallengePurpose,
  type WebauthnChallengeRow,
} from '@tessera/db';
import { sha256 } from '../crypto/tokens.js';

export const PASSKEY_CHALLENGE_TTL_MS = 5 * 60_000;

export interface ChallengeBinding {
  purpose: WebauthnChallengePurpose;
  userId?: string | null;
  sessionId?: string | null;
  mfaChallengeId?: string | null;
}

export async function storeChallenge(
  tx: TenantTx,
  challenge: string,
  binding: ChallengeBinding,
  now: Date,
): Promise<void> {
  // Housekeeping: expired challenges of this tenant go first (indexed by tenant_id, expires_at).
  await tx.delete(webauthnChallenges).where(lt(webauthnChallenges.expiresAt, now));
  await tx.insert(webauthnChallenges).values({
    tenantId: tx.tenantId,
    challengeHash: sha256(challenge),
    purpose: binding.purpose,
    userId: binding.userId ?? null,
    sessionId: binding.sessionId ?? null,
    mfaChallengeId: binding.mfaChallengeId ?? null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + PASSKEY_CHALLENGE_TTL_MS),
  });
}

/** Removes and returns the challenge (expired or not: the caller refuses an expired one). */
export async function consumeChallenge(
  tx: TenantTx,
  challenge: string,
  purpose: WebauthnChallengePurpose,
): Promise<WebauthnChallengeRow | null> {
  const [row] = await tx
    .delete(webauthnChallenges)
    .where(
      and(
        eq(webauthnChallenges.challengeHash, sha256(challenge)),
        eq(webauthnChallenges.purpose, purpose),
      ),
    )
    .returning();
  return row ?? null;
}

/** For the library's `expectedChallenge` callback: does this challenge hash to the stored one? */
export function challengeMatches(row: WebauthnChallengeRow, challenge: string): boolean {
  const hash = sha256(challenge);
  return hash.length === row.challengeHash.length && timingSafeEqual(hash, row.challengeHash);
}

const CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{16,200}$/;

/** The challenge the browser signed, from clientDataJSON; null when malformed. */
export function signedChallengeOf(response: {
  response: { clientDataJSON: string };
}): string | null {
  try {
    const parsed: unknown = JSON.parse(
      Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8'),
    );
    const challenge =
      typeof parsed === 'object' && parsed !== null
        ? (parsed as { challenge?: unknown }).challenge
        : undefined;
    return typeof challenge === 'string' && CHALLENGE_PATTERN.test(challenge) ? challenge : null;
  } catch {
    return null;
  }
}
