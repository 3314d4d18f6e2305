/**
 * In-process cache of resolved sessions in front of resolve_session, keyed by the cookie's token
 * hash, invalidated across processes by the triggers of migrations/0024 (LISTEN tessera_sessions).
 *
 * Guarantees:
 * - An entry is served only while this process's LISTEN connection is up and recently confirmed
 *   (ChangeListener); losing it empties the cache and every request resolves through the
 *   database until LISTEN is back.
 * - A notification (payload `s:<session>`, `u:<tenant>:<user>` or `t:<tenant>`) evicts the
 *   matching entries at once; a lookup that overlapped any notification is not cached
 *   (generation check), so a lookup racing a revocation never outlives it.
 * - An entry never outlives the session: its deadline is the database's own expiry (idle and
 *   absolute, measured on the database clock and counted down on this process's monotonic clock
 *   from before the query was sent), and at most `maxAgeMs` after that query.
 * - Idle bookkeeping: a hit on an entry older than `refreshAfterMs` is answered from the cache and
 *   re-resolved in the background, so resolve_session still records activity (it bumps
 *   last_activity_at at most once a minute) while the session is used; nothing here ever moves an
 *   expiry later than the database said.
 * - Bounded: at most `maxEntries`, least recently used evicted first. Nothing is negatively cached.
 *
 * Callers must not: keep a resolved session beyond one request, or skip `sync()` after a request
 * that may have written (it is what lets this process read its own sign-outs at once).
 * Pinned by session-cache.security.test.ts and packages/api session-cache-http.security.test.ts.
 */
import {
  ChangeListener,
  directConnectionConfig,
  resolveSessionTimed,
  SESSION_CHANGES_CHANNEL,
  type ResolvedSession,
} from '@tessera/db';
import type pg from 'pg';

export interface SessionCacheOptions {
  /** Entries held at most (default 10,000). */
  maxEntries?: number | undefined;
  /** Backstop on an entry's life even with no notification (default 30 s, at most 60 s). */
  maxAgeMs?: number | undefined;
  /** A hit on an older entry refreshes it in the background (default half of `maxAgeMs`). */
  refreshAfterMs?: number | undefined;
  /** Connection for LISTEN; default: the pool's direct connection (`directConnectionConfig`). */
  listenerConfig?: pg.ClientConfig | undefined;
  heartbeatMs?: number | undefined;
  /** Background failures (listener, refreshes). Never carries a token. */
  onError?: ((error: unknown) => void) | undefined;
}

interface Entry {
  session: ResolvedSession;
  tokenHash: Buffer;
  /** performance.now() when the query that produced it was sent. */
  storedAt: number;
  deadline: number;
  refreshing: boolean;
}

export class SessionCache {
  readonly #pool: pg.Pool;
  readonly #entries = new Map<string, Entry>(); // insertion order = least recently used first
  readonly #bySession = new Map<string, string>();
  readonly #byUser = new Map<string, Set<string>>();
  readonly #byTenant = new Map<string, Set<string>>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #refreshAfterMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #listener: ChangeListener;
  #generation = 0;

  constructor(pool: pg.Pool, options: SessionCacheOptions = {}) {
    this.#pool = pool;
    this.#maxEntries = Math.max(1, Math.trunc(options.maxEntries ?? 10_000));
    this.#maxAgeMs = Math.min(Math.max(options.maxAgeMs ?? 30_000, 0), 60_000);
    this.#refreshAfterMs = Math.min(options.refreshAfterMs ?? this.#maxAgeMs / 2, this.#maxAgeMs);
    this.#onError = options.onError ?? (() => undefined);
    this.#listener = new ChangeListener(
      directConnectionConfig(pool), // LISTEN never goes through a transaction-mode pooler
      {
        channel: SESSION_CHANGES_CHANNEL,
        applicationName: 'tessera-session-listener',
        listenerConfig: options.listenerConfig,
        heartbeatMs: options.heartbeatMs,
        onError: this.#onError,
      },
      { onNotification: (payload) => this.#evict(payload), onReset: () => this.#clear() },
    );
  }

  /** The session behind `tokenHash`, from the cache when it may be, else from resolve_session. */
  async resolve(tokenHash: Buffer): Promise<ResolvedSession | null> {
    const key = tokenHash.toString('base64');
    const entry = this.#hit(key);
    if (entry !== undefined) return entry.session;
    return this.#load(key, tokenHash);
  }

  /**
   * Read-your-writes for this process: after a request that may have changed a session, wait
   * until every notification committed so far has been applied (one round trip on the LISTEN
   * connection; none when nothing is cached).
   */
  async sync(): Promise<void> {
    if (this.#entries.size === 0) return;
    await this.#listener.sync();
  }

  get size(): number {
    return this.#entries.size;
  }

  get listening(): boolean {
    return this.#listener.listening;
  }

  /** Changes whenever a notification arrives or the connection state changes. */
  get generation(): number {
    return this.#generation;
  }

  /** Opens the LISTEN connection; until it is up, every request resolves through the database. */
  start(): Promise<void> {
    return this.#listener.start();
  }

  close(): Promise<void> {
    return this.#listener.close();
  }

  #hit(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const now = performance.now();
    if (now >= entry.deadline || !this.#listener.listening) {
      this.#delete(key);
      return undefined;
    }
    this.#entries.delete(key); // most recently used goes last
    this.#entries.set(key, entry);
    if (!entry.refreshing && now - entry.storedAt >= this.#refreshAfterMs) {
      entry.refreshing = true;
      this.#load(key, entry.tokenHash).then(
        () => {
          entry.refreshing = false;
        },
        (error: unknown) => this.#onError(error),
      );
    }
    return entry;
  }

  async #load(key: string, tokenHash: Buffer): Promise<ResolvedSession | null> {
    const generation = this.#generation; // read before the query is sent
    const sentAt = performance.now();
    const found = await resolveSessionTimed(this.#pool, tokenHash);
    if (found === null) {
      this.#delete(key);
      return null;
    }
    // A notification (or reconnect) since `generation` was read may concern this very session.
    if (generation === this.#generation && this.#listener.listening && found.validForMs > 0) {
      const deadline = sentAt + Math.min(found.validForMs, this.#maxAgeMs);
      this.#store(key, {
        session: found.session,
        tokenHash,
        storedAt: sentAt,
        deadline,
        refreshing: false,
      });
    }
    return found.session;
  }

  #store(key: string, entry: Entry): void {
    this.#delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#delete(oldest.value);
    }
    const { sessionId, userId, tenantId } = entry.session;
    this.#entries.set(key, entry);
    this.#bySession.set(sessionId, key);
    addTo(this.#byUser, userId, key);
    addTo(this.#byTenant, tenantId, key);
  }

  #evict(payload: string): void {
    this.#generation += 1;
    const [kind, first, second] = payload.split(':');
    if (kind === 's' && first !== undefined) {
      const key = this.#bySession.get(first);
      if (key !== undefined) this.#delete(key);
    } else if (kind === 'u' && second !== undefined) {
      for (const key of [...(this.#byUser.get(second) ?? [])]) this.#delete(key);
    } else if (kind === 't' && first !== undefined) {
      for (const key of [...(this.#byTenant.get(first) ?? [])]) this.#delete(key);
    } else {
      this.#clear(); // a payload this version does not know: trust nothing cached
    }
  }

  #clear(): void {
    this.#generation += 1;
    this.#entries.clear();
    this.#bySession.clear();
    this.#byUser.clear();
    this.#byTenant.clear();
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    const { sessionId, userId, tenantId } = entry.session;
    if (this.#bySession.get(sessionId) === key) this.#bySession.delete(sessionId);
    removeFrom(this.#byUser, userId, key);
    removeFrom(this.#byTenant, tenantId, key);
  }
}

function addTo(index: Map<string, Set<string>>, id: string, key: string): void {
  const keys = index.get(id);
  if (keys === undefined) index.set(id, new Set([key]));
  else keys.add(key);
}

function removeFrom(index: Map<string, Set<string>>, id: string, key: string): void {
  const keys = index.get(id);
  if (keys === undefined) return;
  keys.delete(key);
  if (keys.size === 0) index.delete(id);
}
