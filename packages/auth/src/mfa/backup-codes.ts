/**
 * Backup codes (look-up secrets, NIST SP 800-63B §5.1.2): 12 characters from a 32-letter
 * alphabet without 0/O/1/I (60 bits each), shown once, stored as salted Argon2id hashes with a small
 * cost (under 112 bits, so a salted password hash is required), accepted regardless of case,
 * spaces and hyphens.
 */
import { randomInt } from 'node:crypto';
import argon2 from 'argon2';

const ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
export const BACKUP_CODE_COUNT = 10;
const LENGTH = 12;
export const BACKUP_CODE_HASH_PARAMS = {
  type: argon2.argon2id,
  memoryCost: 4096,
  timeCost: 2,
  parallelism: 1,
} as const;

export function newBackupCode(): string {
  let raw = '';
  for (let i = 0; i < LENGTH; i += 1) raw += ALPHABET[randomInt(ALPHABET.length)];
  return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}`;
}

/** Uppercase, without separators; null when it cannot be a backup code. */
export function normalizeBackupCode(input: string): string | null {
  const cleaned = input.toUpperCase().replace(/[\s-]/g, '');
  if (cleaned.length !== LENGTH) return null;
  for (const ch of cleaned) if (!ALPHABET.includes(ch)) return null;
  return cleaned;
}

export async function hashBackupCode(code: string): Promise<string> {
  const normalized = normalizeBackupCode(code);
  if (!normalized) throw new TypeError('not a backup code');
  return argon2.hash(normalized, BACKUP_CODE_HASH_PARAMS);
}

export async function backupCodeMatches(hash: string, input: string): Promise<boolean> {
  const normalized = normalizeBackupCode(input);
  if (!normalized) return false;
  return argon2.verify(hash, normalized);
}
