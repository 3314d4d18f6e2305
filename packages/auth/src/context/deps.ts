import type { Keyring } from '../crypto/keyring.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';

export type PasswordAlgorithm = 'argon2id' | 'bcrypt';

export interface PasswordContext {
  minLength: number;
  email?: string;
  tenantName?: string;
  tenantSlug?: string;
}

export interface PasswordVerdict {
  score: 0 | 1 | 2 | 3 | 4;
  acceptable: boolean;
  feedback: string[];
}

/**
 * What account flows need from passwords/ (adapter in passwords/password-service.ts). `queueKey`
 * is the tenant id the work is for (the hash queue shares its slots fairly between tenants), or
 * NO_TENANT_QUEUE_KEY before any tenant exists.
 */
export interface PasswordService {
  hash(password: string, queueKey: string): Promise<string>;
  /** `stored: null` runs the same Argon2id work against a dummy hash and answers not ok. */
  verify(
    stored: { hash: string; algorithm: PasswordAlgorithm } | null,
    password: string,
    queueKey: string,
  ): Promise<{ ok: boolean; needsRehash: boolean }>;
  /** Throws AuthError('weak_password') with a safe reason. */
  assertAcceptable(password: string, context: PasswordContext): Promise<void>;
  strength(password: string, context: PasswordContext): Promise<PasswordVerdict>;
}

export interface AccountDeps {
  passwords: PasswordService;
  limiter: RateLimiter;
  keyring: Keyring;
  /** Origin of the console, for links in mail (e.g. https://auth.example.com). */
  publicUrl: string;
}

export interface RequestContext {
  ip: string;
  userAgent: string | null;
}
