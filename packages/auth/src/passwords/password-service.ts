/**
 * One object bundling hashing, verification, the dummy verify and the policy with the
 * deployment's settings, for the account flows (`context/deps.ts` PasswordService). All
 * Argon2id and bcrypt work passes through one fair, bounded queue keyed by tenant (hash-queue.ts):
 * a sign-in flood in one tenant waits for that tenant's share of the slots, and work that would
 * wait longer than the bound is refused with `server_busy` instead of exhausting memory.
 */
import { availableParallelism } from 'node:os';
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
  /** Default: `defaultHashQueue()`. */
  queue?: HashQueue | undefined;
  /** Set when the tenant-independent breached-password check is switched on. */
  breachCheck?: BreachCheck | undefined;
  estimator?: StrengthEstimator | undefined;
}

/** The one queue key for work before any tenant exists (sign-up, a sign-in to an unknown slug). */
export const NO_TENANT_QUEUE_KEY = 'no-tenant';

export type PasswordPolicyInput = Omit<PasswordCheckOptions, 'breachCheck' | 'estimator'>;

/**
 * Hashes at once: one per core, at most libuv's default threadpool size (4). Argon2id is CPU- and
 * memory-bound, so more hashes than cores add no throughput, only 19 MiB and a thread each that
 * compete with the event loop, PostgreSQL and each other's caches; and threadpool threads left
 * free keep serving file reads and DNS lookups while sign-ins queue.
 */
export function defaultHashConcurrency(): number {
  return Math.min(4, Math.max(1, availableParallelism()));
}

/**
 * `defaultHashConcurrency()` at once, at most half of them for one tenant, and no waiting longer
 * than 5 s: at OWASP parameters (25-50 ms a verify, longer while the threads yield to the event
 * loop) 50 concurrent sign-ins wait about a second, so only a flood is refused.
 */
export function defaultHashQueue(): HashQueue {
  return createHashQueue({ concurrency: defaultHashConcurrency(), maxWaitMs: 5_000 });
}

/**
 * `queueKey` is the tenant id whose user the work is for, so tenants share the queue fairly; work
 * before any tenant exists passes `NO_TENANT_QUEUE_KEY`.
 */
export interface PasswordServiceAdapter {
  hash(password: string, queueKey: string): Promise<string>;
  /** `stored: null` (unknown user) does the same Argon2id work and answers `{ ok: false }`. */
  verify(
    stored: StoredPassword | null,
    password: string,
    queueKey: string,
  ): Promise<PasswordVerification>;
  /** Throws AuthError('weak_password') with a safe `detail`. */
  assertAcceptable(password: string, context: PasswordPolicyInput): Promise<void>;
  strength(password: string, context: PasswordPolicyInput): Promise<PasswordCheckResult>;
}

export function createPasswordService(
  options: PasswordServiceOptions = {},
): PasswordServiceAdapter {
  const params = options.params ?? OWASP_PARAMS;
  const queue = options.queue ?? defaultHashQueue();
  const policy = (context: PasswordPolicyInput): PasswordCheckOptions => ({
    ...context,
    breachCheck: options.breachCheck,
    estimator: options.estimator,
  });
  return {
    hash: (password, queueKey) => queue.run(queueKey, () => hashPassword(password, params)),
    verify: (stored, password, queueKey) =>
      queue.run(queueKey, () =>
        stored === null ? dummyVerify(params) : verifyPassword(stored, password, params),
      ),
    assertAcceptable: async (password, context) => {
      await assertPasswordAcceptable(password, policy(context));
    },
    strength: (password, context) => checkPassword(password, policy(context)),
  };
}
