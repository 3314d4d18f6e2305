/**
 * Argon2id password hashing (docs/design.md rule 4): PHC strings from the native `argon2` package,
 * whose work runs on libuv's threadpool, off the event loop. Input is NFC-normalised first
 * and never truncated; overlong input is refused before any work.
 */
import { argon2id, hash } from 'argon2';
import { AuthError } from '../errors.js';
import { assertHashingParams, OWASP_PARAMS } from './hashing-params.js';
import type { PasswordHashingParams } from './hashing-params.js';
import {
  isOverlongPassword,
  MAX_PASSWORD_CODE_POINTS,
  normalizePassword,
} from './password-text.js';

/** Hashes `password` (after NFC) with Argon2id; returns the PHC string to store. */
export async function hashPassword(
  password: string,
  params: PasswordHashingParams = OWASP_PARAMS,
): Promise<string> {
  assertHashingParams(params);
  if (isOverlongPassword(password)) {
    throw new AuthError('invalid_input', {
      detail: `Use at most ${MAX_PASSWORD_CODE_POINTS} characters.`,
      field: 'password',
    });
  }
  return hash(normalizePassword(password), {
    type: argon2id,
    memoryCost: params.memoryCost,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  });
}
