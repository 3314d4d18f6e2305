/** The challenge token for the step after the password: random, hashed, single-use, 5 minutes. */
import { mfaChallenges, type TenantTx } from '@tessera/db';
import { randomToken, sha256 } from '../crypto/tokens.js';

export const CHALLENGE_TTL_MS = 5 * 60_000;
export const CHALLENGE_MAX_ATTEMPTS = 5;
export const VERIFY_MFA_LIMIT = { max: 30, windowMs: 60_000 } as const;

/** A challenge token for the step after the password; `sign_in_verification` is the e-mailed-code step. */
export async function createMfaChallenge(
  tx: TenantTx,
  userId: string,
  now: Date,
  options: { purpose?: 'mfa' | 'sign_in_verification'; ttlMs?: number } = {},
): Promise<{ token: string; id: string }> {
  const token = randomToken();
  // Issued before the first await, so a caller can pipeline it with its next statements.
  const [row] = await tx
    .insert(mfaChallenges)
    .values({
      tenantId: tx.tenantId,
      userId,
      tokenHash: sha256(token),
      createdAt: now,
      expiresAt: new Date(now.getTime() + (options.ttlMs ?? CHALLENGE_TTL_MS)),
      purpose: options.purpose ?? 'mfa',
    })
    .returning({ id: mfaChallenges.id })
    .execute();
  if (!row) throw new Error('challenge not created');
  return { token, id: row.id };
}
