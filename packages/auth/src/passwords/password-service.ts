/**
 * One object bundling hashing, verification, the dummy verify and the policy with the
 * deployment's settings, for the account flows (`accounts/deps.ts` PasswordService). All
 * Argon2id and bcrypt work passes through one bounded queue, so a sign-in flood waits briefly
 * and is then refused with `rate_limited` instead of exhausting memory.
 */
import { dummyVerify } from './dummy-verify.js';
import type { BreachCheck } from './breached-password.js';
import { hashPassword } from './hash-password.js';
import { createHashQueue } from './hash-queue.js';
import type { HashQueue } from './hash-queue.js';
import { OWASP_PARAMS } from './hashing-params.js';
import type { PasswordHashingParams } from './hashing-params.js';
import { assertPasswordAcceptable, checkPassword } from './password-policy.js';
import type { PasswordCheckOptions, PasswordCheckResult } from './password-policy.js';
import type { StrengthEstimator } from './strength-estimator.js';
import { verifyPassword } from './verify-password.js';
import type { PasswordVerification, StoredPassword } from './verify-password.js';

export interface PasswordServiceOptions {
  /** Argon2id parameters for new hashes and the rehash decision (default OWASP). */
  params?: PasswordHashingParams | undefined;
  /** Default: 4 at once (libuv's default threadpool size), 64 waiting. */
  queue?: HashQueue | undefined;
  /** Set when the tenant-independent breached-password check is switched on. */
  breachCheck?: BreachCheck | undefined;
  estimator?: StrengthEstimator | undefined;
}

export type PasswordPolicyInput = Omit<PasswordCheckOptions, 'breachCheck' | 'estimator'>;

export interface PasswordServiceAdapter {
  hash(password: string): Promise<string>;
  /** `stored: null` (unknown user) does the same Argon2id work and answers `{ ok: false }`. */
  verify(stored: StoredPassword | null, password: string): Promise<PasswordVerification>;
  /** Throws AuthError('weak_password') with a safe `detail`. */
  assertAcceptable(password: string, context: PasswordPolicyInput): Promise<void>;
  strength(password: string, context: PasswordPolicyInput): Promise<PasswordCheckResult>;
}

export function createPasswordService(
  options: PasswordServiceOptions = {},
): PasswordServiceAdapter {
  const params = options.params ?? OWASP_PARAMS;
  const queue = options.queue ?? createHashQueue({ concurrency: 4, maxQueued: 64 });
  const policy = (context: PasswordPolicyInput): PasswordCheckOptions => ({
    ...context,
    breachCheck: options.breachCheck,
    estimator: options.estimator,
  });
  return {
    hash: (password) => queue.run(() => hashPassword(password, params)),
    verify: (stored, password) =>
      queue.run(() =>
        stored === null ? dummyVerify(params) : verifyPassword(stored, password, params),
      ),
    assertAcceptable: async (password, context) => {
      await assertPasswordAcceptable(password, policy(context));
    },
    strength: (password, context) => checkPassword(password, policy(context)),
  };
}
