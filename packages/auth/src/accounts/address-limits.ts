/**
 * The rate limits keyed by an e-mail address (sign-in and reset requests per account, docs/design.md
 * "Requests"). One home for their keys: the flows count under them, and erasure forgets them
 * (privacy/erase-user-data.ts), since a key naming an address is personal data for as long as the
 * limiter holds it (memory, or Redis under a SHA-256 of the key; at most one window).
 */
import type { RateLimiter, RateLimitRule } from '../rate-limit/rate-limiter.js';

export const SIGN_IN_ACCOUNT_LIMIT: RateLimitRule = { max: 10, windowMs: 60_000 };
export const RESET_ACCOUNT_LIMIT: RateLimitRule = { max: 3, windowMs: 3_600_000 };

/** `email` normalised (normalizeEmail), as every key below. */
export const signInAccountKey = (tenantSlug: string, email: string): string =>
  `sign_in:account:${tenantSlug}:${email}`;
export const resetAccountKey = (tenantSlug: string, email: string): string =>
  `reset:account:${tenantSlug}:${email}`;

/** Every limit counted under the address. */
export function addressLimits(
  tenantSlug: string,
  email: string,
): readonly { key: string; rule: RateLimitRule }[] {
  return [
    { key: signInAccountKey(tenantSlug, email), rule: SIGN_IN_ACCOUNT_LIMIT },
    { key: resetAccountKey(tenantSlug, email), rule: RESET_ACCOUNT_LIMIT },
  ];
}

/** Forgets what the limiter counted under each address (erasure, and an address given up). */
export async function forgetAddressLimits(
  limiter: RateLimiter,
  tenantSlug: string,
  emails: readonly string[],
  now: Date,
): Promise<void> {
  for (const email of emails) {
    for (const { key, rule } of addressLimits(tenantSlug, email))
      await limiter.forget(key, rule, now.getTime());
  }
}
