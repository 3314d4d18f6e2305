/**
 * Per-IP brake on failed key lookups. Guessing a 256-bit key is hopeless, but every well-formed
 * key (the checksum is public) costs two HMACs and a database round trip, and the tRPC per-IP
 * limit runs only after authentication. After `max` failed lookups from one address within the
 * window, further cache misses from it are refused (429) without touching the database. Keys
 * served from the cache are never braked, so a noisy neighbour behind the same NAT cannot lock
 * out a working integration. In-process on purpose: it protects this process's pool.
 */
const MAX_TRACKED = 50_000;

export interface LookupThrottleRule {
  max: number;
  windowSeconds: number;
}

export class LookupThrottle {
  readonly #failures = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly rule: LookupThrottleRule) {}

  /** Seconds to wait when `ip` is braked, else 0. */
  retryAfterSeconds(ip: string, nowMs: number): number {
    const entry = this.#failures.get(ip);
    if (entry === undefined || entry.resetAt <= nowMs || entry.count < this.rule.max) return 0;
    return Math.max(1, Math.ceil((entry.resetAt - nowMs) / 1000));
  }

  recordFailure(ip: string, nowMs: number): void {
    let entry = this.#failures.get(ip);
    if (entry === undefined || entry.resetAt <= nowMs) {
      if (this.#failures.size >= MAX_TRACKED) this.#sweep(nowMs);
      entry = { count: 0, resetAt: nowMs + this.rule.windowSeconds * 1000 };
      this.#failures.set(ip, entry);
    }
    entry.count += 1;
  }

  #sweep(nowMs: number): void {
    for (const [ip, entry] of this.#failures) if (entry.resetAt <= nowMs) this.#failures.delete(ip);
    if (this.#failures.size >= MAX_TRACKED) this.#failures.clear();
  }
}
