/**
 * last_used_at / last_used_ip bookkeeping off the request path: at most one note per key per
 * minute per process, written in batches by a timer (fire-and-forget; failures go to onError and
 * never fail a request). The SQL function applies the once-a-minute rule across processes too.
 * Keys verified under a retired pepper are re-hashed under the current one in the same flush.
 */
import { rehashApiKey, touchApiKeys, type ApiKeyUse } from '@tessera/db';
import type pg from 'pg';

const MINUTE_MS = 60_000;
const MAX_BATCH = 500;
const MAX_TRACKED = 100_000;

export interface Rehash {
  oldHash: Buffer;
  newHash: Buffer;
  version: string;
}

export class UsageRecorder {
  readonly #lastNoted = new Map<string, number>();
  readonly #uses = new Map<string, ApiKeyUse>();
  readonly #rehashes = new Map<string, Rehash>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly onError: (error: unknown) => void,
    private readonly flushDelayMs = 1_000,
  ) {}

  note(keyId: string, keyHash: Buffer, ip: string | null, now: Date): void {
    const last = this.#lastNoted.get(keyId);
    if (last !== undefined && now.getTime() - last < MINUTE_MS && now.getTime() >= last) return;
    if (this.#lastNoted.size >= MAX_TRACKED) this.#lastNoted.clear();
    this.#lastNoted.set(keyId, now.getTime());
    this.#uses.set(keyId, { keyHash, ip }); // stamped with the database clock when written
    this.#schedule();
  }

  rehash(keyId: string, change: Rehash): void {
    if (this.#rehashes.size >= MAX_BATCH) return;
    this.#rehashes.set(keyId, change);
    this.#schedule();
  }

  /** Writes everything pending now; resolves when written (or failed and reported). */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => void this.flush(), this.flushDelayMs);
    this.#timer.unref();
  }

  async #write(): Promise<void> {
    const uses = [...this.#uses.values()];
    const rehashes = [...this.#rehashes.values()];
    this.#uses.clear();
    this.#rehashes.clear();
    try {
      for (let i = 0; i < uses.length; i += MAX_BATCH)
        await touchApiKeys(this.pool, uses.slice(i, i + MAX_BATCH));
      // After the touch: a re-hash changes the hash the touch names.
      for (const change of rehashes)
        await rehashApiKey(this.pool, change.oldHash, change.newHash, change.version);
    } catch (error) {
      this.onError(error);
    }
  }
}
