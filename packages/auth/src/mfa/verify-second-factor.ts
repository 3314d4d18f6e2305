/**
 * Verifies a TOTP or backup code for a user inside the caller's transaction.
 *
 * Replay: the matched RFC 6238 step must be greater than the last accepted step, set with one
 * conditional UPDATE, so two racing requests cannot both spend a code and an older step is refused
 * after a newer one. Backup codes are consumed with `UPDATE ... WHERE used_at IS NULL`, so only
 * one of two racing requests wins. Wrong codes count per user (lock at USER_LOCK_THRESHOLD, far below
 * NIST's 100); the caller commits that count before throwing (docs/design.md "Failure bookkeeping").
 */
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { mfaBackupCodes, mfaTotp, type TenantTx } from '@tessera/db';
import type { Keyring } from '../crypto/keyring.js';
import { backupCodeMatches, normalizeBackupCode } from './backup-codes.js';
import { matchTotpStep } from './totp.js';

export const USER_LOCK_THRESHOLD = 10;
export const USER_LOCK_MS = 15 * 60_000;
export const TOTP_PURPOSE = 'mfa_totp.secret';

export type FactorCheck =
  | { ok: true; method: 'totp' | 'backup_code' | 'sms' }
  | { ok: false; reason: 'invalid' | 'replayed' | 'locked' | 'not_enrolled' };

export function totpContext(
  tenantId: string,
  userId: string,
): { purpose: string; tenantId: string; rowId: string } {
  return { purpose: TOTP_PURPOSE, tenantId, rowId: userId };
}

async function checkTotp(
  tx: TenantTx,
  keyring: Keyring,
  userId: string,
  ciphertext: string,
  code: string,
  now: Date,
): Promise<FactorCheck> {
  // A ciphertext that fails to decrypt (tampered, wrong row) throws: fail closed.
  const secret = keyring.decryptString(ciphertext, totpContext(tx.tenantId, userId));
  const step = matchTotpStep(secret, code, now);
  if (step === null) return { ok: false, reason: 'invalid' };
  const advanced = await tx
    .update(mfaTotp)
    .set({ lastUsedStep: step, failedAttempts: 0, updatedAt: now })
    .where(
      and(
        eq(mfaTotp.userId, userId),
        or(isNull(mfaTotp.lastUsedStep), lt(mfaTotp.lastUsedStep, step)),
      ),
    )
    .returning({ step: mfaTotp.lastUsedStep });
  return advanced.length ? { ok: true, method: 'totp' } : { ok: false, reason: 'replayed' };
}

async function checkBackupCode(
  tx: TenantTx,
  userId: string,
  code: string,
  now: Date,
): Promise<FactorCheck> {
  const unused = await tx
    .select()
    .from(mfaBackupCodes)
    .where(and(eq(mfaBackupCodes.userId, userId), isNull(mfaBackupCodes.usedAt)));
  for (const row of unused) {
    if (!(await backupCodeMatches(row.codeHash, code))) continue;
    const spent = await tx
      .update(mfaBackupCodes)
      .set({ usedAt: now })
      .where(and(eq(mfaBackupCodes.id, row.id), isNull(mfaBackupCodes.usedAt)))
      .returning({ id: mfaBackupCodes.id });
    if (!spent.length) return { ok: false, reason: 'replayed' };
    await tx
      .update(mfaTotp)
      .set({ failedAttempts: 0, updatedAt: now })
      .where(eq(mfaTotp.userId, userId));
    return { ok: true, method: 'backup_code' };
  }
  return { ok: false, reason: 'invalid' };
}

/** Checks a code against the user's active factor. Does not count failures (see recordFactorFailure). */
export async function checkSecondFactor(
  tx: TenantTx,
  keyring: Keyring,
  userId: string,
  code: string,
  now: Date,
): Promise<FactorCheck> {
  const [factor] = await tx.select().from(mfaTotp).where(eq(mfaTotp.userId, userId)).for('update');
  if (!factor?.enabledAt || !factor.secretCiphertext) return { ok: false, reason: 'not_enrolled' };
  if (factor.lockedUntil && factor.lockedUntil > now) return { ok: false, reason: 'locked' };
  if (normalizeBackupCode(code)) return checkBackupCode(tx, userId, code, now);
  return checkTotp(tx, keyring, userId, factor.secretCiphertext, code, now);
}

/** Counts a wrong code for the user; locks the factor at the threshold. Returns whether it is now locked. */
export async function recordFactorFailure(
  tx: TenantTx,
  userId: string,
  now: Date,
): Promise<boolean> {
  const [row] = await tx
    .update(mfaTotp)
    .set({ failedAttempts: sql`${mfaTotp.failedAttempts} + 1`, updatedAt: now })
    .where(eq(mfaTotp.userId, userId))
    .returning({ failures: mfaTotp.failedAttempts });
  if (!row || row.failures < USER_LOCK_THRESHOLD) return false;
  await tx
    .update(mfaTotp)
    .set({ failedAttempts: 0, lockedUntil: new Date(now.getTime() + USER_LOCK_MS) })
    .where(eq(mfaTotp.userId, userId));
  return true;
}
