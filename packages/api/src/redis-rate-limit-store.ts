/**
 * A `RateLimitStore` shared through Redis, so per-call limits (sign-in, password strength, per
 * API key) hold across every API process (docs/design.md "Runtime and configuration", REDIS_URL).
 *
 * Fixed windows aligned to the epoch: the key names the window's start, so every process that
 * agrees on the time (NTP) counts into the same key, and one Lua script does INCR and PEXPIRE
 * atomically (a crash between two commands cannot leave a counter without expiry). Keys are a
 * SHA-256 of the limiter key: Redis never holds e-mail addresses or IPs in the clear.
 *
 * When Redis fails (down, timeout) the call falls back to an in-process store and reports the
 * error: limits then hold per process, as without REDIS_URL, instead of failing open or taking
 * the API down. Pinned by redis-rate-limit-store.test.ts.
 */
import { createHash } from 'node:crypto';
import { MemoryRateLimitStore, type RateLimitStore } from '@tessera/auth/rate-limit';
import { Redis, type RedisOptions } from 'ioredis';

const INCREMENT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

const COMMAND = 'tesseraRateLimitIncrement';
type WithCommand = Redis & { [COMMAND](key: string, ttlMs: number): Promise<number> };

export interface RedisRateLimitStoreOptions {
  /** Key prefix; keep one per deployment when several share a Redis. */
  prefix?: string;
  /** Used while Redis is unreachable; defaults to a fresh in-process store. */
  fallback?: RateLimitStore;
  onError?: (error: unknown) => void;
}

/** Client options that fail fast instead of queueing commands while Redis is away. */
export const REDIS_CLIENT_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 500,
  connectTimeout: 2_000,
};

export function createRedisClient(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { ...REDIS_CLIENT_OPTIONS, ...options });
  // Without a listener an 'error' event would crash the process; callers see failures per command.
  client.on('error', () => undefined);
  return client;
}

export class RedisRateLimitStore implements RateLimitStore {
  readonly #redis: WithCommand;
  readonly #prefix: string;
  readonly #fallback: RateLimitStore;
  readonly #onError: (error: unknown) => void;

  constructor(redis: Redis, options: RedisRateLimitStoreOptions = {}) {
    if (!(COMMAND in redis))
      redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: INCREMENT_SCRIPT });
    this.#redis = redis as WithCommand;
    this.#prefix = options.prefix ?? 'tessera:rl:';
    this.#fallback = options.fallback ?? new MemoryRateLimitStore();
    this.#onError = options.onError ?? ((): void => undefined);
  }

  /**
   * Deletes the key's counters in the current and the previous window (a counter outlives its
   * window by a second) here and in the fallback store. Throws when Redis cannot be reached:
   * erasure must not report a counter gone that is still there.
   */
  async forget(key: string, windowMs: number, now: number): Promise<void> {
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const digest = digestOf(key);
    await this.#fallback.forget(key, windowMs, now);
    await this.#redis.del(
      this.#redisKey(windowMs, windowStart, digest),
      this.#redisKey(windowMs, windowStart - windowMs, digest),
    );
  }

  /** The counter of one window; the limiter key is stored only as its digest. */
  #redisKey(windowMs: number, windowStart: number, digest: string): string {
    return `${this.#prefix}${windowMs}:${windowStart}:${digest}`;
  }

  async increment(
    key: string,
    windowMs: number,
    now: number,
  ): Promise<{ count: number; resetAt: number }> {
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const resetAt = windowStart + windowMs;
    const digest = digestOf(key);
    // The key outlives its window by a second, so a process whose clock is slightly behind
    // still finds the counter instead of starting a new one.
    const ttlMs = resetAt - now + 1_000;
    try {
      const count = await this.#redis[COMMAND](
        this.#redisKey(windowMs, windowStart, digest),
        ttlMs,
      );
      return { count: Number(count), resetAt };
    } catch (error) {
      this.#onError(error);
      return this.#fallback.increment(key, windowMs, now);
    }
  }
}

function digestOf(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}
