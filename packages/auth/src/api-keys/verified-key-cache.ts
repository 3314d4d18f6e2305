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
import { API_KEY_CHANGES_CHANNEL } from '@tessera/db';
import pg from 'pg';

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
  readonly #heartbeatMs: number;
  readonly #config: pg.ClientConfig;
  readonly #onError: (error: unknown) => void;
  #generation = 0;
  #client: pg.Client | null = null;
  #healthyAt = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #retryMs = 250;

  constructor(config: pg.ClientConfig, options: KeyCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#heartbeatMs = options.heartbeatMs ?? 5_000;
    this.#config = { ...config, ...options.listenerConfig, application_name: 'tessera-api-key-listener', keepAlive: true, query_timeout: 2_000 };
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Changes whenever a notification arrives or the connection state changes. */
  get generation(): number {
    return this.#generation;
  }

  get listening(): boolean {
    return this.#client !== null && Date.now() - this.#healthyAt <= 2 * this.#heartbeatMs + 2_000;
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
  async start(): Promise<void> {
    if (this.#closed || this.#client) return;
    await this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#drop();
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#config);
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, null));
    client.on('notification', (message) => {
      if (message.channel === API_KEY_CHANGES_CHANNEL && message.payload) this.invalidate(message.payload);
    });
    try {
      await client.connect();
      // eslint-disable-next-line tessera/no-raw-sql-interpolation -- LISTEN takes no parameters; the channel is a constant
      await client.query(`LISTEN ${API_KEY_CHANGES_CHANNEL}`);
    } catch (error) {
      this.#lost(client, error);
      return;
    }
    if (this.#closed) return void client.end().catch(() => undefined);
    this.#client = client;
    this.#clear();
    this.#healthyAt = Date.now();
    this.#retryMs = 250;
    this.#schedule(() => this.#heartbeat(client), this.#heartbeatMs);
  }

  async #heartbeat(client: pg.Client): Promise<void> {
    try {
      await client.query('SELECT 1');
      this.#healthyAt = Date.now();
      this.#schedule(() => this.#heartbeat(client), this.#heartbeatMs);
    } catch (error) {
      this.#lost(client, error);
    }
  }

  #lost(client: pg.Client, error: unknown): void {
    if (error) this.#onError(error);
    if (this.#client !== null && this.#client !== client) return;
    this.#drop(client);
    if (this.#closed) return;
    this.#schedule(() => this.#connect(), this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, 10_000);
  }

  #drop(client: pg.Client | null = this.#client): void {
    this.#client = null;
    this.#clear();
    client?.removeAllListeners();
    client?.on('error', () => undefined);
    void client?.end().catch(() => undefined);
  }

  #schedule(task: () => Promise<void>, delayMs: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void task(), delayMs);
    this.#timer.unref();
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
