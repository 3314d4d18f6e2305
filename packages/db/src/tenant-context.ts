/**
 * Tenant context: the only place that sets `app.tenant_id` (docs/design.md rules 1 and 2).
 *
 * Guarantees: the callback's handle is a transaction on one pooled connection whose
 * `app.tenant_id` is set with `set_config(..., true)`, i.e. transaction-local, so it is gone when
 * the connection returns to the pool (COMMIT or ROLLBACK both end it). RLS policies read it.
 *
 * Callers must not: keep `tx` after the callback returns, start their own BEGIN/COMMIT on it, or
 * pass a tenant id taken from user input without authorising it first.
 *
 * Round trips: the pool's connections pipeline (client.ts), so `BEGIN`, the parameterised
 * `set_config($1)` and the callback's first statement are written together and cost one round
 * trip; `COMMIT` is the second. The tenant id is always a bind parameter: no SQL text is built
 * from it (docs/decisions/0007-pipelined-tenant-transaction.md). On a connection that does not
 * pipeline the same code is correct, at two more round trips.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { tenantQueryOf, type Database, type Drizzle } from './client.js';
import * as schema from './schema/index.js';
import { traceTransaction } from './tracing.js';

export type TenantTx = Drizzle & {
  readonly tenantId: string;
  /** The raw connection of this transaction, for COPY and streaming cursors. */
  readonly client: pg.PoolClient;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Lower-cases and validates a UUID; throws TypeError for anything else (programmer misuse). */
export function canonicalUuid(value: string): string {
  const lowered = typeof value === 'string' ? value.toLowerCase() : '';
  if (!UUID.test(lowered)) throw new TypeError('tenant id must be a UUID');
  return lowered;
}

/**
 * The one place that sets the tenant (docs/design.md rule 2): transaction-local, bound as a
 * parameter. A named statement, parsed once per connection instead of on every transaction (a
 * pool behind PgBouncer sends it unnamed: client.ts).
 */
const SET_TENANT = {
  name: 'tessera_set_tenant',
  text: "SELECT pg_catalog.set_config('app.tenant_id', $1, true)",
} as const;

/**
 * The same, and the transaction read-only (what `BEGIN READ ONLY` does), for a read that runs as
 * one implicit transaction without BEGIN (`singleStatement`, fused-tenant-query.ts).
 */
const SET_TENANT_READ_ONLY = {
  name: 'tessera_set_tenant_read_only',
  text: "SELECT pg_catalog.set_config('app.tenant_id', $1, true), pg_catalog.set_config('transaction_read_only', 'on', true)",
} as const;

/** The callback returned, but a statement inside it had failed, so nothing was committed. */
export class TenantTransactionAbortedError extends Error {
  override readonly name = 'TenantTransactionAbortedError';
  constructor() {
    super('the tenant transaction was aborted by a failed statement and rolled back');
  }
}

export interface WithTenantOptions {
  /** Run the transaction READ ONLY (cheap guard for query procedures). */
  readOnly?: boolean;
  /**
   * The callback issues exactly one statement, at once (without waiting for other I/O first).
   * On a connection of `createDatabase` that statement then travels with the tenant setting and
   * a single Sync, as one implicit transaction without BEGIN or COMMIT: one write, one answer,
   * two statements for PostgreSQL instead of four (fused-tenant-query.ts). Elsewhere (behind
   * PgBouncer, a callback-style call) COMMIT is written in the same flight as BEGIN, set_config
   * and the statement instead. Either way a statement the callback issues after its first is
   * refused without being sent (its promise rejects with `TenantTransactionMisuseError`) and
   * withTenant throws the same error; a callback that issues none at once opens and commits an
   * ordinary transaction around whatever it issues later.
   */
  singleStatement?: boolean;
}

/** A `singleStatement` callback issued a statement after the transaction had committed: a programming error. */
export class TenantTransactionMisuseError extends Error {
  override readonly name = 'TenantTransactionMisuseError';
  constructor() {
    super(
      'a singleStatement tenant transaction issued a statement after its first; it was refused, not run',
    );
  }
}

/**
 * Runs `fn` in a transaction scoped to `tenantId`. Commits when it resolves, rolls back when it
 * throws (and rethrows). A connection whose rollback fails is destroyed, never reused.
 */
export async function withTenant<T>(
  database: Pick<Database, 'pool'>,
  tenantId: string,
  fn: (tx: TenantTx) => Promise<T>,
  options: WithTenantOptions = {},
): Promise<T> {
  const id = canonicalUuid(tenantId); // throws before any span or SQL for a non-UUID
  return traceTransaction('tenant', { tenantId: id, readOnly: options.readOnly }, () =>
    runTenantTransaction(database, id, fn, options),
  );
}

/**
 * One drizzle handle per pooled connection, built on first use: building it per transaction cost
 * about a tenth of a short read's throughput (docs/benchmarks.md). Each transaction gets a thin
 * object on top carrying its own tenant id, so nothing of one transaction leaks into the next.
 */
interface Handle {
  drizzle: Drizzle;
  /** Statements the callbacks issued on this connection (withTenant's own are not counted). */
  statements: { issued: number };
  counting: pg.PoolClient['query'] | null;
  /** > 0 while withTenant issues its own BEGIN, set_config, COMMIT or ROLLBACK. */
  own: number;
  /** An early COMMIT is on its way: the callback may issue nothing more. */
  sealed: boolean;
  /** A statement was refused while sealed. */
  refused: boolean;
  /** A counting wrapper is running (see countingQuery). */
  inside: boolean;
  /**
   * A single-statement transaction that has sent nothing yet: its first statement goes out with
   * the tenant setting as one implicit transaction (`fuse`), or, when it cannot, after `open`
   * has sent BEGIN and set_config.
   */
  pending: {
    fuse(args: readonly unknown[]): Promise<pg.QueryResult> | null;
    open(): void;
  } | null;
  /** That first statement, sent as one implicit transaction. */
  fused: Promise<pg.QueryResult> | null;
}
const handles = new WeakMap<pg.PoolClient, Handle>();

/**
 * The connection's drizzle handle and statement counter, set up on its first transaction: the
 * counter wraps the connection's `query` (drizzle and raw statements both go through it), so a
 * transaction can tell how many statements its callback has issued, and refuses any once an
 * early COMMIT has been queued. Wrapped again should anything have replaced `query` since.
 */
function handleOf(client: pg.PoolClient): Handle {
  let handle = handles.get(client);
  if (!handle) {
    handle = {
      drizzle: drizzle({ client, schema }),
      statements: { issued: 0 },
      counting: null,
      own: 0,
      sealed: false,
      refused: false,
      inside: false,
      pending: null,
      fused: null,
    };
    handles.set(client, handle);
  }
  if (client.query !== handle.counting) {
    // Something replaced `query` since (a test's recorder, or its restoring ours): adopt one of
    // ours, wrap anything else. The outermost counter counts a statement; any of ours it reaches
    // through another wrapper passes it on (`inside`), so nothing counts twice.
    const current = client.query; // eslint-disable-line @typescript-eslint/unbound-method -- called with the client as this
    handle.counting = countingWrappers.has(current) ? current : countingQuery(handle, current);
    client.query = handle.counting;
  }
  return handle;
}

const countingWrappers = new WeakSet<object>();

function countingQuery(state: Handle, query: pg.PoolClient['query']): pg.PoolClient['query'] {
  const counting = function (this: pg.PoolClient, ...args: unknown[]) {
    const apply = () => (query as (...a: unknown[]) => unknown).apply(this, args);
    if (state.inside) return apply();
    if (state.own === 0) {
      if (state.sealed) {
        state.refused = true;
        return Promise.reject(new TenantTransactionMisuseError());
      }
      state.statements.issued += 1;
      const pending = state.pending;
      if (pending) {
        state.pending = null;
        const fused = pending.fuse(args);
        if (fused) {
          state.fused = fused;
          state.sealed = true; // nothing may follow: the statement's Sync ends its transaction
          return fused;
        }
        pending.open(); // BEGIN and set_config, written ahead of this statement
      }
    }
    state.inside = true;
    try {
      return apply();
    } finally {
      state.inside = false;
    }
  } as pg.PoolClient['query'];
  countingWrappers.add(counting);
  return counting;
}

/** withTenant's own statement: not counted, never refused. */
function ownQuery(
  handle: Handle,
  client: pg.PoolClient,
  statement: string | { readonly name: string; readonly text: string },
  values?: unknown[],
): Promise<pg.QueryResult> {
  handle.own += 1;
  try {
    if (typeof statement !== 'string')
      return client.query({ name: statement.name, text: statement.text, values: values ?? [] });
    return values === undefined ? client.query(statement) : client.query(statement, values);
  } finally {
    handle.own -= 1;
  }
}

function tenantTxOn(base: Drizzle, client: pg.PoolClient, tenantId: string): TenantTx {
  return Object.assign(Object.create(base) as Drizzle, { tenantId, client }); // canonical already (withTenant)
}

/**
 * Corks the connection's socket so the statements issued until the release are written in one
 * system call. The release runs once the current chain of promise jobs has settled: a callback
 * that issues its first statement without waiting for other I/O has it written together with
 * BEGIN and set_config; one that waits gets its statements written separately, as without the
 * hold. Nothing is ever held longer than that one tick.
 */
function holdWrites(client: pg.PoolClient): { releaseSoon(beforeRelease: () => void): void } {
  const socket = (
    client as pg.PoolClient & { connection?: { stream?: { cork?(): void; uncork?(): void } } }
  ).connection?.stream;
  const corked = socket?.cork !== undefined && socket.uncork !== undefined;
  if (corked) socket.cork?.();
  return {
    releaseSoon: (beforeRelease) =>
      process.nextTick(() => {
        try {
          beforeRelease();
        } finally {
          if (corked) socket.uncork?.();
        }
      }),
  };
}

async function runTenantTransaction<T>(
  database: Pick<Database, 'pool'>,
  tenantId: string,
  fn: (tx: TenantTx) => Promise<T>,
  options: WithTenantOptions,
): Promise<T> {
  const client = await database.pool.connect();
  const handle = handleOf(client);
  const { drizzle: base, statements } = handle;
  let released = false;
  let early: Promise<pg.QueryResult> | null = null;
  let opened: Promise<unknown> | null = null; // BEGIN and set_config, once sent
  let settled = false; // the callback's outcome is known: no early COMMIT any more
  const begin = options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN';
  // Not awaited: on a pipelining connection they travel with the callback's first statement.
  // Should either fail, that statement runs in an aborted transaction or with no tenant set
  // (RLS then shows and accepts nothing), and the await below rolls back.
  const open = (): void => {
    const pair = Promise.all([
      ownQuery(handle, client, begin),
      ownQuery(handle, client, SET_TENANT, [tenantId]),
    ]);
    pair.catch(() => undefined); // observed below, after the callback's own outcome
    opened = pair;
  };
  try {
    let result: Promise<T>;
    if (client.pipeline) {
      // Held back while the callback issues its first statement, then written in one system
      // call: BEGIN, set_config and that statement leave together instead of one write each
      // (and COMMIT with them for a single-statement callback).
      const hold = holdWrites(client);
      const before = statements.issued;
      const tenantQuery = options.singleStatement ? tenantQueryOf(client) : null;
      if (tenantQuery) {
        // Nothing is sent yet: the first statement decides (countingQuery).
        const statement = options.readOnly ? SET_TENANT_READ_ONLY : SET_TENANT;
        handle.pending = { fuse: (args) => tenantQuery(statement, tenantId, args), open };
      } else open();
      try {
        result = fn(tenantTxOn(base, client, tenantId));
      } finally {
        hold.releaseSoon(() => {
          if (settled) return;
          if (handle.pending) {
            // Nothing issued at once: an ordinary transaction around what comes later.
            handle.pending = null;
            open();
            return;
          }
          if (!options.singleStatement || handle.fused || statements.issued !== before + 1) return;
          early = ownQuery(handle, client, 'COMMIT');
          early.catch(() => undefined); // observed below
          handle.sealed = true; // from here on the callback's statements are refused, not run
        });
      }
    } else {
      await ownQuery(handle, client, begin); // node-postgres queues statements only on pipelining clients
      await ownQuery(handle, client, SET_TENANT, [tenantId]);
      opened = Promise.resolve();
      result = fn(tenantTxOn(base, client, tenantId));
    }
    const value = await result;
    settled = true;
    if (opened) await opened;
    if (handle.refused) throw new TenantTransactionMisuseError();
    const fused = handle.fused;
    if (fused) {
      // Its Sync committed it; a failure rolled it back, even one the callback caught. A
      // statement that was itself BEGIN turned the implicit transaction into an open one, which
      // must never go back to the pool (the catch below destroys the connection).
      const committed = await fused.then(
        () => true,
        () => false,
      );
      if (client.getTransactionStatus() !== 'I') throw new TenantTransactionMisuseError();
      if (!committed) throw new TenantTransactionAbortedError();
      return value;
    }
    if (!opened) return value; // a single-statement callback that sent nothing: nothing to commit
    // A statement that failed inside the callback (even one it caught) aborted the transaction:
    // COMMIT then answers ROLLBACK, and nothing was written. Never report that as success.
    const commit = await ((early as Promise<pg.QueryResult> | null) ??
      ownQuery(handle, client, 'COMMIT'));
    if (commit.command !== 'COMMIT') throw new TenantTransactionAbortedError();
    return value;
  } catch (error) {
    settled = true;
    handle.pending = null;
    const committing = early as Promise<pg.QueryResult> | null;
    try {
      // A fused statement was its own transaction, and after an early COMMIT there is none left:
      // let either land. Otherwise roll back whatever was opened.
      if (handle.fused) {
        await handle.fused.catch(() => undefined);
        if (client.getTransactionStatus() !== 'I') {
          released = true; // left inside a transaction it opened: destroyed, never reused
          client.release(new TenantTransactionMisuseError());
        }
      } else if (committing) await committing.catch(() => undefined);
      else if (opened) await ownQuery(handle, client, 'ROLLBACK');
    } catch (rollbackError) {
      released = true;
      client.release(rollbackError instanceof Error ? rollbackError : true);
    }
    throw error;
  } finally {
    handle.sealed = false;
    handle.refused = false;
    handle.pending = null;
    handle.fused = null;
    if (!released) client.release();
  }
}
