/**
 * Verifies a password against its stored hash: Argon2id (current) or legacy bcrypt (imported).
 * `needsRehash` tells the caller to store a fresh Argon2id hash in the same transaction as the
 * successful sign-in. Both libraries run on libuv's threadpool, off the event loop.
 */
import { verify } from 'argon2';
import { OWASP_PARAMS } from './hashing-params.js';
import type { PasswordHashingParams } from './hashing-params.js';
import { BCRYPT_MAX_COST, bcryptCostOf, verifyBcrypt } from './bcrypt-legacy.js';
import { dummyVerify } from './dummy-verify.js';
import { isOverlongPassword, normalizePassword } from './password-text.js';
import { isWeakerThan, parseArgon2Phc } from './phc.js';

export type PasswordAlgorithm = 'argon2id' | 'bcrypt';

export interface StoredPassword {
  hash: string;
  algorithm: PasswordAlgorithm;
}

export interface PasswordVerification {
  ok: boolean;
  /** Only ever true when `ok`: re-hash with the current parameters and store the result. */
  needsRehash: boolean;
}

const REFUSED: PasswordVerification = Object.freeze({ ok: false, needsRehash: false });

async function verifyArgon2(
  storedHash: string,
  password: string,
  params: PasswordHashingParams,
): Promise<PasswordVerification> {
  const info = parseArgon2Phc(storedHash);
  if (info === null) throw new TypeError('stored password hash is not an Argon2 PHC string');
  const ok = await verify(storedHash, normalizePassword(password));
  return { ok, needsRehash: ok && isWeakerThan(info, params) };
}

/**
 * Checks `password` against `stored`. A malformed stored hash, or one that does not match its
 * `algorithm`, throws a TypeError: that is corrupt data, not a wrong password.
 * Overlong input (see `isOverlongPassword`) is refused without work; it can match no hash we
 * accept, and its length says nothing about the account. A bcrypt hash above `BCRYPT_MAX_COST`
 * never verifies.
 */
export async function verifyPassword(
  stored: StoredPassword,
  password: string,
  params: PasswordHashingParams = OWASP_PARAMS,
): Promise<PasswordVerification> {
  if (isOverlongPassword(password)) return REFUSED;
  if (stored.algorithm === 'bcrypt') {
    // Stored before the import limit existed: computing it would hold a threadpool slot for
    // minutes or longer. The user resets their password; the attempt costs what a wrong one does.
    if ((bcryptCostOf(stored.hash) ?? 0) > BCRYPT_MAX_COST) return dummyVerify(params);
    const ok = await verifyBcrypt(stored.hash, password);
    return { ok, needsRehash: ok };
  }
  return verifyArgon2(stored.hash, password, params);
}
