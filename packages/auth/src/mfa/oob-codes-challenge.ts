/**
 * The second step of sign-in with an SMS code. When the user asked for a text on this challenge
 * (otp.sendCode), a 6-digit entry is first checked against that code; if it does not match, it is
 * still tried as an authenticator code (the user may have typed that instead), so one wrong entry
 * costs one attempt of the SMS code, one of the challenge and one of the user's factor counter.
 *
 * SMS counts only while the tenant allows it and the number is verified: a tenant that switches
 * SMS off stops codes already sent. E-mail codes never reach this path (the table's CHECK forbids
 * an e-mail code for a sign-in challenge; docs/design.md "MFA").
 */
import { and, eq, isNotNull } from 'drizzle-orm';
import { mfaPhoneNumbers, mfaTotp, tenants, type TenantTx } from '@tessera/db';
import type { Keyring } from '../crypto/keyring.js';
import { parseSecurityPolicy } from '../tenants/security-policy.js';
import { checkOneTimeCode, findLiveCode, normalizeOneTimeCode } from './oob-codes.js';
import { checkSecondFactor, type FactorCheck } from './verify-second-factor.js';

/** True when SMS may serve as this user's second factor right now. */
async function smsFactorUsable(tx: TenantTx, userId: string): Promise<boolean> {
  const [tenant] = await tx.select({ policy: tenants.securityPolicy }).from(tenants);
  if (!parseSecurityPolicy(tenant?.policy).smsCodesAllowed) return false;
  const [phone] = await tx
    .select({ userId: mfaPhoneNumbers.userId })
    .from(mfaPhoneNumbers)
    .where(and(eq(mfaPhoneNumbers.userId, userId), isNotNull(mfaPhoneNumbers.verifiedAt)));
  return phone !== undefined;
}

/** Checks a code given for a sign-in challenge: its SMS code when one was sent, else TOTP or a backup code. */
export async function checkChallengeFactor(
  tx: TenantTx,
  keyring: Keyring,
  challenge: { id: string; userId: string },
  code: string,
  now: Date,
): Promise<FactorCheck> {
  const scope = {
    userId: challenge.userId,
    purpose: 'mfa_sign_in' as const,
    challengeId: challenge.id,
  };
  if (
    !normalizeOneTimeCode(code) ||
    !(await findLiveCode(tx, scope)) ||
    !(await smsFactorUsable(tx, challenge.userId))
  ) {
    return checkSecondFactor(tx, keyring, challenge.userId, code, now);
  }
  const [factor] = await tx
    .select()
    .from(mfaTotp)
    .where(eq(mfaTotp.userId, challenge.userId))
    .for('update');
  if (!factor?.enabledAt) return { ok: false, reason: 'not_enrolled' };
  if (factor.lockedUntil && factor.lockedUntil > now) return { ok: false, reason: 'locked' };
  const sms = await checkOneTimeCode(tx, keyring, scope, code, now);
  if (sms.ok) {
    await tx
      .update(mfaTotp)
      .set({ failedAttempts: 0, updatedAt: now })
      .where(eq(mfaTotp.userId, challenge.userId));
    return { ok: true, method: 'sms' };
  }
  return checkSecondFactor(tx, keyring, challenge.userId, code, now);
}
