/**
 * Equal work for unknown users (sign-in): one Argon2id verify against a fixed hash
 * made once per parameter set with the current parameters, so "no such user" costs the same
 * as "wrong password". Call `warmUpDummyHash` at start-up so the first unknown-user attempt
 * does not also pay for creating the hash.
 */
import { randomBytes } from 'node:crypto';
import { argon2id, hash, verify } from 'argon2';
import { assertHashingParams, OWASP_PARAMS } from './hashing-params.js';
import type { PasswordHashingParams } from './hashing-params.js';

const dummyHashes = new Map<string, Promise<string>>();

function keyOf(params: PasswordHashingParams): string {
  return `m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}`;
}

function dummyHashFor(params: PasswordHashingParams): Promise<string> {
  assertHashingParams(params);
  const key = keyOf(params);
  let pending = dummyHashes.get(key);
  if (pending === undefined) {
    // A random secret nobody knows: nothing can ever verify against the dummy hash.
    pending = hash(randomBytes(32), { type: argon2id, ...params });
    void pending.catch(() => dummyHashes.delete(key)); // a failed attempt is retried next time
    dummyHashes.set(key, pending);
  }
  return pending;
}

/** Creates the dummy hash for `params` ahead of the first sign-in. */
export async function warmUpDummyHash(params: PasswordHashingParams = OWASP_PARAMS): Promise<void> {
  await dummyHashFor(params);
}

/** Does the work of one Argon2id verify and always answers `{ ok: false }`. */
export async function dummyVerify(
  params: PasswordHashingParams = OWASP_PARAMS,
): Promise<{ ok: false; needsRehash: false }> {
  const dummyHash = await dummyHashFor(params);
  await verify(dummyHash, 'not the password');
  return { ok: false, needsRehash: false };
}
