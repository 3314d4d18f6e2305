/**
 * Out-of-band one-time codes (SMS, e-mail): 6 digits, 10 minutes, 3 attempts, single use.
 *
 * Storage: `code_hash` is HMAC-SHA-256(k, "<row id>:<code>") under a random 32-byte key k made for
 * that row and stored encrypted under the keyring (bound to tenant and row). A database dump alone
 * therefore says nothing about a code; with the keyring an attacker could try all 10^6 codes in
 * milliseconds, as for any 6-digit secret. What actually protects a code is online: 3 attempts,
 * then it is dead, 10 minutes of life, one live code per purpose (a new one supersedes the old),
 * and per-user and per-number send limits (oob-codes-sms.ts). The attempt counter is updated in
 * the caller's transaction, which commits before any refusal leaves (docs/design.md "Failure bookkeeping").
 */
import { randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import {
  oneTimeCodes,
  type OneTimeCodeChannel,
  type OneTimeCodePurpose,
  type OneTimeCodeRow,
  type TenantTx,
} from '@tessera/db';
import type { Keyring } from '../crypto/keyring.js';
import { hmacSha256 } from '../crypto/tokens.js';

export const ONE_TIME_CODE_TTL_MS = 10 * 60_000;
export const ONE_TIME_CODE_MAX_ATTEMPTS = 3;
const KEY_PURPOSE = 'one_time_codes.key';
const CODE_PATTERN = /^[0-9]{6}$/;

export interface CodeScope {
  userId: string;
  purpose: OneTimeCodePurpose;
  /** Sign-in codes belong to one MFA challenge. */
  challengeId?: string | null;
}

export type CodeCheck =
  | { ok: true; codeId: string }
  | { ok: false; reason: 'none' | 'expired' | 'exhausted' | 'invalid' };

/** Six decimal digits from the CSPRNG (leading zeros kept). */
function newOneTimeCode(): string {
  return randomInt(0, 1_000_000).toString().padStart(6, '0');
}

/** Spaces and hyphens removed; null when it cannot be a one-time code. */
export function normalizeOneTimeCode(input: string): string | null {
  const compact = input.replace(/[\s-]/g, '');
  return CODE_PATTERN.test(compact) ? compact : null;
}

function codeMac(key: Buffer, rowId: string, code: string): Buffer {
  return hmacSha256(key, `${rowId}:${code}`);
}

function scopeWhere(scope: CodeScope) {
  return and(
    eq(oneTimeCodes.userId, scope.userId),
    eq(oneTimeCodes.purpose, scope.purpose),
    scope.challengeId
      ? eq(oneTimeCodes.challengeId, scope.challengeId)
      : isNull(oneTimeCodes.challengeId),
  );
}

/** Issues a code for the scope; earlier live codes of the same scope stop working. */
export async function issueOneTimeCode(
  tx: TenantTx,
  keyring: Keyring,
  scope: CodeScope,
  channel: OneTimeCodeChannel,
  now: Date,
): Promise<{ id: string; code: string; expiresAt: Date }> {
  await tx
    .update(oneTimeCodes)
    .set({ supersededAt: now })
    .where(
      and(scopeWhere(scope), isNull(oneTimeCodes.consumedAt), isNull(oneTimeCodes.supersededAt)),
    );
  const id = randomUUID();
  const code = newOneTimeCode();
  const key = randomBytes(32);
  const expiresAt = new Date(now.getTime() + ONE_TIME_CODE_TTL_MS);
  await tx.insert(oneTimeCodes).values({
    id,
    tenantId: tx.tenantId,
    userId: scope.userId,
    purpose: scope.purpose,
    channel,
    challengeId: scope.challengeId ?? null,
    codeHash: codeMac(key, id, code),
    keyCiphertext: keyring.encrypt(key, { purpose: KEY_PURPOSE, tenantId: tx.tenantId, rowId: id }),
    createdAt: now,
    expiresAt,
  });
  return { id, code, expiresAt };
}

/** The newest live (not consumed, not superseded) code of the scope, locked for update. */
export async function findLiveCode(tx: TenantTx, scope: CodeScope): Promise<OneTimeCodeRow | null> {
  const [row] = await tx
    .select()
    .from(oneTimeCodes)
    .where(
      and(scopeWhere(scope), isNull(oneTimeCodes.consumedAt), isNull(oneTimeCodes.supersededAt)),
    )
    .orderBy(desc(oneTimeCodes.createdAt))
    .limit(1)
    .for('update');
  return row ?? null;
}

/**
 * Checks `input` against the scope's live code and counts the attempt. A right code is consumed
 * with a conditional UPDATE, so two racing requests cannot both spend it; a consumed code never
 * matches again (replay). The caller commits before it throws.
 */
export async function checkOneTimeCode(
  tx: TenantTx,
  keyring: Keyring,
  scope: CodeScope,
  input: string,
  now: Date,
): Promise<CodeCheck> {
  const row = await findLiveCode(tx, scope);
  if (!row) return { ok: false, reason: 'none' };
  if (row.expiresAt <= now) return { ok: false, reason: 'expired' };
  if (row.attempts >= ONE_TIME_CODE_MAX_ATTEMPTS) return { ok: false, reason: 'exhausted' };
  await tx
    .update(oneTimeCodes)
    .set({ attempts: sql`${oneTimeCodes.attempts} + 1` })
    .where(eq(oneTimeCodes.id, row.id));
  const code = normalizeOneTimeCode(input);
  const key = keyring.decrypt(row.keyCiphertext, {
    purpose: KEY_PURPOSE,
    tenantId: tx.tenantId,
    rowId: row.id,
  });
  if (!code || !timingSafeEqual(codeMac(key, row.id, code), row.codeHash)) {
    return {
      ok: false,
      reason: row.attempts + 1 >= ONE_TIME_CODE_MAX_ATTEMPTS ? 'exhausted' : 'invalid',
    };
  }
  const spent = await tx
    .update(oneTimeCodes)
    .set({ consumedAt: now })
    .where(and(eq(oneTimeCodes.id, row.id), isNull(oneTimeCodes.consumedAt)))
    .returning({ id: oneTimeCodes.id });
  return spent.length ? { ok: true, codeId: row.id } : { ok: false, reason: 'none' };
}

/** Removes a user's codes of one channel (factor disabled, MFA reset). */
export async function deleteUserCodes(
  tx: TenantTx,
  userId: string,
  channel: OneTimeCodeChannel,
): Promise<void> {
  await tx
    .delete(oneTimeCodes)
    .where(and(eq(oneTimeCodes.userId, userId), eq(oneTimeCodes.channel, channel)));
}
