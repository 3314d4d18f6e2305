/**
 * One LISTEN connection for an in-process cache that Postgres triggers invalidate (API keys:
 * migrations/0007; sessions: migrations/0024). It owns the connection, not the cache.
 *
 * Guarantees: `listening` is true only while the connection is up and its last heartbeat is
 * recent; every notification reaches `onNotification`; every loss of the connection (error, end,
 * failed heartbeat, failed sync) calls `onReset` before anything else, and the listener reconnects
 * with backoff, calling `onReset` again once LISTEN is back (so nothing cached while it was deaf
 * survives). `sync()` is a barrier: when it resolves true, every notification committed before it
 * was called has been delivered.
 *
 * Callers must not: cache anything while `listening` is false, or keep entries across `onReset`.
 * Pinned by api-key-cache.security.test.ts and session-cache.security.test.ts.
 */
import pg from 'pg';

export interface ChangeListenerOptions {
  /** A constant channel name (never user input: LISTEN takes no parameters). */
  channel: string;
  applicationName: string;
  /** Connection for LISTEN; default: the pool's own settings. */
  listenerConfig?: pg.ClientConfig | undefined;
  heartbeatMs?: number | undefined;
  onError?: ((error: unknown) => void) | undefined;
}

export interface ChangeHandlers {
  onNotification(payload: string): void;
  /** The connection was lost or (re)established: drop everything cached. */
  onReset(): void;
}

const CHANNEL_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export class ChangeListener {
  readonly #channel: string;
  readonly #heartbeatMs: number;
  readonly #config: pg.ClientConfig;
  readonly #onError: (error: unknown) => void;
  readonly #handlers: ChangeHandlers;
  #client: pg.Client | null = null;
  #healthyAt = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #retryMs = 250;

  constructor(config: pg.ClientConfig, options: ChangeListenerOptions, handlers: ChangeHandlers) {
    if (!CHANNEL_PATTERN.test(options.channel))
      throw new TypeError('channel must be a lower-case SQL identifier');
    this.#channel = options.channel;
    this.#heartbeatMs = options.heartbeatMs ?? 5_000;
    this.#config = {
      ...config,
      ...options.listenerConfig,
      application_name: options.applicationName,
      keepAlive: true,
      query_timeout: 2_000,
    };
    this.#onError = options.onError ?? (() => undefined);
    this.#handlers = handlers;
  }

  get listening(): boolean {
    return this.#client !== null && Date.now() - this.#healthyAt <= 2 * this.#heartbeatMs + 2_000;
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

  /**
   * One round trip on the LISTEN connection. Postgres signals listening backends before it
   * answers the committing one, and a listening backend sends pending notifications before the
   * answer to a later query on its connection; so once this resolves true, every change
   * committed before the call has reached `onNotification`. False: not listening (a failure
   * also resets).
   */
  sync(): Promise<boolean> {
    if (this.#syncing === null) {
      this.#syncing = this.#roundTrip().finally(() => {
        this.#syncing = null;
      });
      return this.#syncing;
    }
    // The round trip on the wire was sent before this call, so it proves nothing for it: wait for
    // the next one, which every caller arriving meanwhile shares (one SELECT 1 however many wait).
    this.#nextSync ??= this.#syncing.then(() => {
      this.#nextSync = null;
      return this.sync();
    });
    return this.#nextSync;
  }

  #syncing: Promise<boolean> | null = null;
  #nextSync: Promise<boolean> | null = null;

  async #roundTrip(): Promise<boolean> {
    const client = this.#client;
    if (client === null || !this.listening) return false;
    try {
      await client.query('SELECT 1');
      this.#healthyAt = Date.now();
      return true;
    } catch (error) {
      this.#lost(client, error);
      return false;
    }
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#config);
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, null));
    client.on('notification', (message) => {
      if (message.channel === this.#channel && message.payload)
        this.#handlers.onNotification(message.payload);
    });
    try {
      await client.connect();
      // eslint-disable-next-line tessera/no-raw-sql-interpolation -- LISTEN takes no parameters; the channel is a checked constant
      await client.query(`LISTEN ${this.#channel}`);
    } catch (error) {
      this.#lost(client, error);
      return;
    }
    if (this.#closed) return void client.end().catch(() => undefined);
    this.#client = client;
    this.#handlers.onReset(); // whatever was looked up while deaf is not trusted
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
    this.#handlers.onReset();
    client?.removeAllListeners();
    client?.on('error', () => undefined);
    void client?.end().catch(() => undefined);
  }

  #schedule(task: () => Promise<void>, delayMs: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void task(), delayMs);
    this.#timer.unref();
  }
}
