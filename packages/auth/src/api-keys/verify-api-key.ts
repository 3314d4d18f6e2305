/**
 * Verifies a presented API key (the request path): checksum, HMAC under each pepper version,
 * one SECURITY DEFINER lookup (or the LISTEN/NOTIFY-invalidated cache), revoked/expired, IP
 * allowlist, per-key rate limit, usage quota.
 *
 * Guarantees: a malformed or mistyped key costs no round trip; unknown, revoked and expired keys
 * all yield null (one answer, no oracle); IP, limit and quota refusals throw AuthError
 * (api_key_forbidden / api_key_rate_limited / api_key_quota_exhausted, with retryAfterSeconds);
 * every refusal of an existing key is audited in its tenant and committed before verify() settles;
 * the key itself is never logged, cached in clear, or passed to the database.
 *
 * Callers must not: treat the result as permission for a scope (authorize does that), or verify
 * before refusing a request that also carries a session cookie (never both).
 * Pinned by verify-api-key.security.test.ts, api-key-cache.security.test.ts and the plugin's tests.
 */
import { hash } from 'node:crypto';
import {
  consumeApiKeyQuota,
  directConnectionConfig,
  lookupApiKey,
  type ApiKeyEnvironment,
  type ApiKeyLookup,
  type ApiKeyType,
} from '@tessera/db';
import type pg from 'pg';
import { AuthError } from '../errors.js';
import {
  createRateLimiter,
  MemoryRateLimitStore,
  type RateLimiter,
  type RateLimitStore,
} from '../rate-limit/rate-limiter.js';
import { compileCidrs, ipAllowed, type CidrList } from './cidr.js';
import { parseApiKey } from './key-format.js';
import { LookupThrottle, type LookupThrottleRule } from './lookup-throttle.js';
import type { PepperRing } from './pepper-ring.js';
import { RefusalAuditor, type ApiKeyRefusalReason } from './refusal-audit.js';
import { UsageRecorder } from './usage-recorder.js';
import { VerifiedKeyCache, type KeyCacheOptions } from './verified-key-cache.js';

export interface ApiKeyVerifierOptions {
  pool: pg.Pool;
  peppers: PepperRing;
  /** Counters for per-key limits; pass a shared (Redis) store to limit across processes. */
  rateLimitStore?: RateLimitStore;
  /** For keys without their own limit (default 1,000 calls a minute). */
  defaultRateLimit?: { max: number; windowSeconds: number };
  /** Cache of looked-up keys, invalidated by LISTEN/NOTIFY; `false` looks up every time. */
  cache?: false | KeyCacheOptions;
  /** Failed lookups per IP before cache misses from it are refused (default 100 a minute). */
  failedLookupLimit?: LookupThrottleRule;
  /** One refusal audit event per key and reason per interval (default 10 s). */
  refusalAuditIntervalMs?: number;
  /** Background failures (listener, usage writes). Never carries a key. */
  onBackgroundError?: (error: unknown) => void;
}

export interface VerifyContext {
  ip: string;
  now: Date;
  /** tRPC calls in the request: each counts against the limit and the quota (default 1). */
  calls?: number;
}

export interface VerifiedApiKey {
  id: string;
  tenantId: string;
  type: ApiKeyType;
  environment: ApiKeyEnvironment;
  prefix: string;
  scopes: readonly string[];
}

export interface ApiKeyVerifier {
  verify(raw: string, context: VerifyContext): Promise<VerifiedApiKey | null>;
  /** Starts cache invalidation (LISTEN). Until it runs, every verification looks the key up. */
  start(): Promise<void>;
  /** Writes pending last-used bookkeeping now. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

interface KnownKey {
  lookup: ApiKeyLookup;
  cidrs: CidrList;
  /** The stored hash (under the row's pepper version): quota and usage calls name the key by it. */
  storedHash: Buffer;
  verified: VerifiedApiKey;
}

export function createApiKeyVerifier(options: ApiKeyVerifierOptions): ApiKeyVerifier {
  return new Verifier(options);
}

class Verifier implements ApiKeyVerifier {
  readonly #pool: pg.Pool;
  readonly #peppers: PepperRing;
  readonly #limiter: RateLimiter;
  readonly #defaultLimit: { max: number; windowSeconds: number };
  readonly #cache: VerifiedKeyCache<KnownKey> | null;
  readonly #refusals: RefusalAuditor;
  readonly #usage: UsageRecorder;
  readonly #throttle: LookupThrottle;

  constructor(options: ApiKeyVerifierOptions) {
    const onError = options.onBackgroundError ?? (() => undefined);
    this.#pool = options.pool;
    this.#peppers = options.peppers;
    this.#limiter = createRateLimiter(options.rateLimitStore ?? new MemoryRateLimitStore());
    this.#defaultLimit = options.defaultRateLimit ?? { max: 1_000, windowSeconds: 60 };
    this.#cache =
      options.cache === false
        ? null
        : new VerifiedKeyCache(directConnectionConfig(options.pool), { onError, ...options.cache });
    this.#refusals = new RefusalAuditor(options.pool, options.refusalAuditIntervalMs ?? 10_000);
    this.#usage = new UsageRecorder(options.pool, onError);
    this.#throttle = new LookupThrottle(
      options.failedLookupLimit ?? { max: 100, windowSeconds: 60 },
    );
  }

  async verify(raw: string, context: VerifyContext): Promise<VerifiedApiKey | null> {
    if (parseApiKey(raw) === null) return null; // typo or junk: no round trip
    const key = await this.#find(raw, context);
    if (key === null) {
      this.#throttle.recordFailure(context.ip, context.now.getTime());
      return null;
    }
    const { lookup } = key;
    const calls = Math.min(Math.max(Math.trunc(context.calls ?? 1), 1), 100);
    if (
      lookup.revoked ||
      (lookup.expiresAt !== null && lookup.expiresAt.getTime() <= context.now.getTime())
    ) {
      await this.#refuse(lookup, lookup.revoked ? 'revoked' : 'expired', context);
      return null;
    }
    if (!ipAllowed(key.cidrs, context.ip)) {
      await this.#refuse(lookup, 'ip_not_allowed', context);
      throw new AuthError('api_key_forbidden');
    }
    await this.#enforceRateLimit(lookup, calls, context);
    if (lookup.hasQuota && !(await this.#consumeQuota(key, calls, context))) return null;
    this.#usage.note(lookup.id, key.storedHash, validIp(context.ip), context.now);
    return key.verified;
  }

  async start(): Promise<void> {
    await this.#cache?.start();
  }

  flush(): Promise<void> {
    return this.#usage.flush();
  }

  async close(): Promise<void> {
    await this.#cache?.close();
    await this.#usage.flush();
  }

  async #find(raw: string, context: VerifyContext): Promise<KnownKey | null> {
    // In-memory identifier only (never stored): a one-shot SHA-256 costs a fraction of an HMAC.
    const cacheKey = hash('sha256', raw, 'base64');
    const cached = this.#cache?.get(cacheKey);
    if (cached !== undefined) return cached;
    const braked = this.#throttle.retryAfterSeconds(context.ip, context.now.getTime());
    if (braked > 0) throw new AuthError('api_key_rate_limited', { retryAfterSeconds: braked });
    const generation = this.#cache?.generation ?? 0;
    const hashes = this.#peppers.hashAll(raw);
    const lookup = await lookupApiKey(
      this.#pool,
      hashes.map((h) => h.hash),
    );
    const stored = hashes.find((h) => h.version === lookup?.pepperVersion);
    if (lookup === null || stored === undefined) return null;
    const known: KnownKey = {
      lookup,
      cidrs: compileCidrs(lookup.allowedCidrs),
      storedHash: stored.hash,
      verified: Object.freeze({
        id: lookup.id,
        tenantId: lookup.tenantId,
        type: lookup.type,
        environment: lookup.environment,
        prefix: lookup.prefix,
        scopes: Object.freeze([...lookup.scopes]),
      }),
    };
    if (stored.version !== this.#peppers.currentVersion && !lookup.revoked) {
      this.#usage.rehash(lookup.id, {
        oldHash: stored.hash,
        newHash: this.#peppers.hashCurrent(raw),
        version: this.#peppers.currentVersion,
      });
    }
    if (!lookup.revoked) this.#cache?.set(cacheKey, lookup.id, known, generation);
    return known;
  }

  async #enforceRateLimit(
    lookup: ApiKeyLookup,
    calls: number,
    context: VerifyContext,
  ): Promise<void> {
    const limit = lookup.rateLimit ?? this.#defaultLimit;
    const rule = { max: limit.max, windowMs: limit.windowSeconds * 1000 };
    for (let i = 0; i < calls; i += 1) {
      const result = await this.#limiter.hit(`api_key:${lookup.id}`, rule, context.now.getTime());
      if (!result.allowed) {
        await this.#refuse(lookup, 'rate_limited', context);
        throw new AuthError('api_key_rate_limited', {
          retryAfterSeconds: result.retryAfterSeconds,
        });
      }
    }
  }

  async #consumeQuota(key: KnownKey, calls: number, context: VerifyContext): Promise<boolean> {
    const decision = await consumeApiKeyQuota(this.#pool, key.storedHash, calls); // refills by the database clock
    if (decision === null) return false; // revoked since the lookup
    if (decision.allowed) return true;
    await this.#refuse(key.lookup, 'quota_exhausted', context);
    throw new AuthError(
      'api_key_quota_exhausted',
      decision.retryAfterSeconds === null ? {} : { retryAfterSeconds: decision.retryAfterSeconds },
    );
  }

  #refuse(
    lookup: ApiKeyLookup,
    reason: ApiKeyRefusalReason,
    context: VerifyContext,
  ): Promise<void> {
    return this.#refusals.record(lookup, reason, validIp(context.ip), context.now);
  }
}

function validIp(ip: string): string | null {
  return typeof ip === 'string' && ip.length > 0 && ip.length <= 64 && /^[0-9a-fA-F:.]+$/.test(ip)
    ? ip
    : null;
}
