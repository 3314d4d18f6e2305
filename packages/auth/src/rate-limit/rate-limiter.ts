/**
 * Fixed-window counters for per-call limits (each tRPC call counts, docs/design.md "Requests"). The store
 * is an interface so several API processes can share counters through Redis; the
 * in-memory store is the single-process default.
 */
import { AuthError } from '../errors.js';

export interface RateLimitResult {
  allowed: boolean;
  remaining: number;
  retryAfterSeconds: number;
}

export interface RateLimitStore {
  /** Adds one hit to `key` in its current window and returns the count and the window's end. */
  increment(
    key: string,
    windowMs: number,
    now: number,
  ): Promise<{ count: number; resetAt: number }>;
  /** Drops every count held under `key` (erasure: keys that name a person). */
  forget(key: string, windowMs: number, now: number): Promise<void>;
}

export interface RateLimitRule {
  max: number;
  windowMs: number;
}

export class MemoryRateLimitStore implements RateLimitStore {
  readonly #windows = new Map<string, { count: number; resetAt: number }>();
  #lastSweep = 0;

  constructor(private readonly maxKeys = 100_000) {}

  async increment(
    key: string,
    windowMs: number,
    now: number,
  ): Promise<{ count: number; resetAt: number }> {
    this.#sweep(now);
    let entry = this.#windows.get(key);
    if (!entry || entry.resetAt <= now) {
      if (this.#windows.size >= this.maxKeys)
        this.#windows.delete(this.#windows.keys().next().value as string);
      entry = { count: 0, resetAt: now + windowMs };
      this.#windows.set(key, entry);
    }
    entry.count += 1;
    return { count: entry.count, resetAt: entry.resetAt };
  }

  async forget(key: string): Promise<void> {
    this.#windows.delete(key);
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < 10_000) return;
    this.#lastSweep = now;
    for (const [key, entry] of this.#windows) if (entry.resetAt <= now) this.#windows.delete(key);
  }
}

export interface RateLimiter {
  hit(key: string, rule: RateLimitRule, now?: number): Promise<RateLimitResult>;
  /** Forgets the counts under `key` (e.g. a key naming an erased person's address). */
  forget(key: string, rule: RateLimitRule, now?: number): Promise<void>;
}

export function createRateLimiter(store: RateLimitStore = new MemoryRateLimitStore()): RateLimiter {
  return {
    forget: (key, rule, now = Date.now()) => store.forget(key, rule.windowMs, now),
    async hit(key, rule, now = Date.now()) {
      const { count, resetAt } = await store.increment(key, rule.windowMs, now);
      const allowed = count <= rule.max;
      return {
        allowed,
        remaining: Math.max(0, rule.max - count),
        retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((resetAt - now) / 1000)),
      };
    },
  };
}

/** Counts one hit and refuses with `rate_limited` (and its Retry-After) when over the rule. */
export async function enforceLimit(
  limiter: RateLimiter,
  key: string,
  rule: RateLimitRule,
  now: Date,
): Promise<void> {
  const result = await limiter.hit(key, rule, now.getTime());
  if (!result.allowed)
    throw new AuthError('rate_limited', { retryAfterSeconds: result.retryAfterSeconds });
}
