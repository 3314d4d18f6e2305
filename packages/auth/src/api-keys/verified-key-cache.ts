/**
 * In-process cache of looked-up keys, invalidated across processes through Postgres LISTEN/NOTIFY
 * (migrations/0007: a trigger announces every revocation, expiry change or re-hash on commit).
 *
 * Guarantees: an entry is served only while this process's LISTEN connection is up and its last
 * heartbeat is recent; a notification evicts the key at once; a lookup that raced with any
 * notification is not cached (generation check); losing the connection empties the cache and
 * disables it until LISTEN is back. So a revocation committed anywhere stops being honoured here
 * within the notification latency (milliseconds), or within `staleAfterMs` if the network dies silently.
 *
 * Callers must not: cache anything looked up before reading `generation`, or keep entries elsewhere.
 * Pinned by api-key-cache.security.test.ts ("seen by a second instance within one second").
 */
import { API_KEY_CHANGES_CHANNEL, ChangeListener } from '@tessera/db';
import type pg from 'pg';

export interface KeyCacheOptions {
  /** Upper bound on an entry's life even with no notification (default 60 s). */
  ttlMs?: number;
  maxEntries?: number;
  /** Connection for LISTEN; default: the pool's own settings. */
  listenerConfig?: pg.ClientConfig;
  heartbeatMs?: number;
  onError?: (error: unknown) => void;
}

interface Entry<T> {
  value: T;
  id: string;
  storedAt: number;
}

export class VerifiedKeyCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #byId = new Map<string, string>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #listener: ChangeListener;
  #generation = 0;

  constructor(config: pg.ClientConfig, options: KeyCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#listener = new ChangeListener(
      config,
      {
        channel: API_KEY_CHANGES_CHANNEL,
        applicationName: 'tessera-api-key-listener',
        listenerConfig: options.listenerConfig,
        heartbeatMs: options.heartbeatMs,
        onError: options.onError,
      },
      { onNotification: (id) => this.invalidate(id), onReset: () => this.#clear() },
    );
  }

  /** Changes whenever a notification arrives or the connection state changes. */
  get generation(): number {
    return this.#generation;
  }

  get listening(): boolean {
    return this.#listener.listening;
  }

  get(key: string): T | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (!this.listening || Date.now() - entry.storedAt > this.#ttlMs) {
      this.#delete(key, entry.id);
      return undefined;
    }
    return entry.value;
  }

  /** Stores `value` unless a notification (or reconnect) happened since `generation` was read. */
  set(key: string, id: string, value: T, generation: number): void {
    if (generation !== this.#generation || !this.listening) return;
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.entries().next().value;
      if (oldest) this.#delete(oldest[0], oldest[1].id);
    }
    this.#entries.set(key, { value, id, storedAt: Date.now() });
    this.#byId.set(id, key);
  }

  invalidate(id: string): void {
    this.#generation += 1;
    const key = this.#byId.get(id);
    if (key !== undefined) this.#delete(key, id);
  }

  /** Opens the LISTEN connection; resolves once listening (or after the first failure, retrying in the background). */
  start(): Promise<void> {
    return this.#listener.start();
  }

  close(): Promise<void> {
    return this.#listener.close();
  }

  #clear(): void {
    this.#generation += 1;
    this.#entries.clear();
    this.#byId.clear();
  }

  #delete(key: string, id: string): void {
    this.#entries.delete(key);
    if (this.#byId.get(id) === key) this.#byId.delete(id);
  }
}
