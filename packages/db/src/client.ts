import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { createHash } from 'node:crypto';
import pg from 'pg';
import * as schema from './schema/index.js';
import {
  FusedTenantQuery,
  type ExtendedQueryConfig,
  type TenantStatement,
} from './fused-tenant-query.js';

/** The query-config keys `tenantQuery` carries over; a config with any other goes the ordinary way. */
const FUSABLE_OPTIONS = new Set(['name', 'text', 'values', 'rowMode', 'types']);

export type Schema = typeof schema;
export type Drizzle = NodePgDatabase<Schema>;

export interface Database {
  /** The pg pool; every query through it runs as the pool's role. */
  readonly pool: pg.Pool;
  /**
   * Settings for a connection of its own that holds session state (LISTEN, advisory locks kept
   * across transactions, the job queue): `directUrl` when given, else the pool's own.
   */
  readonly direct: pg.ClientConfig;
  /** Drizzle over the pool: only for tables without tenant data (migrations, health). */
  readonly db: Drizzle;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  max?: number;
  applicationName?: string;
  /** Milliseconds a query may run before the server cancels it. */
  statementTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /**
   * Write statements without waiting for the previous answer (node-postgres `pipeline`), so a
   * tenant transaction's BEGIN, set_config and first query share one round trip. Default true.
   * Such connections refuse pg-cursor, pg-query-stream, COPY streams and the `rows` option (SQL
   * cursors, DECLARE and FETCH, work): code that needs those uses its own pg.Client.
   */
  pipeline?: boolean;
  /**
   * The same database and role without a transaction-mode pooler (PgBouncer) in between. When
   * set, `url` is taken to be such a pooler: the pool then sends no named prepared statements
   * (PgBouncer 1.18 in transaction mode hands each transaction any server connection, where the
   * statement was never prepared), and session-bound work uses this one (`direct`,
   * `directConnectionConfig`). Transaction-local state (`set_config(..., true)`) and pipelined
   * transactions are fine through the pooler.
   */
  directUrl?: string | undefined;
}

const directConfigs = new WeakMap<pg.Pool, pg.ClientConfig>();

/**
 * Connection settings for session-bound work (LISTEN) beside `pool`: the direct URL its
 * `createDatabase` was given, else the pool's own settings.
 */
export function directConnectionConfig(pool: pg.Pool): pg.ClientConfig {
  return directConfigs.get(pool) ?? pool.options;
}

/** node-postgres's own `query`, called with a client as `this` (no bound copy per statement). */
// eslint-disable-next-line @typescript-eslint/unbound-method -- only ever called as pgQuery.call(client, ...)
const pgQuery = pg.Client.prototype.query as unknown as (
  this: unknown,
  config: unknown,
  ...rest: unknown[]
) => unknown;

/**
 * A client that sends every statement unnamed: node-postgres prepares a named statement once per
 * connection and afterwards sends only Bind, which a transaction-mode pooler may deliver to a
 * server connection that never saw the Parse ("prepared statement ... does not exist").
 */
class UnnamedStatementClient extends pg.Client {
  // @ts-expect-error -- one signature forwarding all of pg.Client.query's overloads unchanged
  override query(config: unknown, ...rest: unknown[]): unknown {
    if (
      config !== null &&
      typeof config === 'object' &&
      'name' in config &&
      !('submit' in config)
    ) {
      return pgQuery.call(this, { ...config, name: undefined }, ...rest);
    }
    return pgQuery.call(this, config, ...rest);
  }
}

/** Distinct statements one connection prepares; beyond that, new texts are sent unnamed. */
export const MAX_PREPARED_PER_CONNECTION = 200;
const MAX_NAMES = 5_000;
/** Statement name by SQL text, shared by every connection (each prepares a name on first use). */
const namesByText = new Map<string, string>();

/** `t_` and 128 bits of the text's SHA-256: one name per text, so a name never means two statements. */
export function statementNameOf(text: string): string {
  let name = namesByText.get(text);
  if (name === undefined) {
    if (namesByText.size >= MAX_NAMES) namesByText.clear();
    name = `t_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    namesByText.set(text, name);
  }
  return name;
}

const { prepareValue } = (pg as unknown as { utils: { prepareValue: (value: unknown) => unknown } })
  .utils;

/**
 * The values as node-postgres binds them (`prepareValue`: dates, arrays, JSON, `toPostgres`), or
 * the error doing so threw. Done before a named statement is sent: when node-postgres itself
 * fails to serialise a value, it closes the statement on the server but keeps it booked as
 * prepared, and every later use of that text on the connection fails ("prepared statement ...
 * does not exist"). Already-serialised values pass through it unchanged.
 */
function boundValues(values: readonly unknown[]): unknown[] | Error {
  try {
    return values.map((value) => prepareValue(value));
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** A call refused before anything was sent, answered the way the caller asked (callback or promise). */
function refused(error: Error, rest: readonly unknown[]): unknown {
  const callback = rest.at(-1);
  if (typeof callback !== 'function') return Promise.reject(error);
  process.nextTick(() => (callback as (error: Error) => void)(error));
  return undefined;
}

/**
 * A client that prepares every statement with parameters as a named statement, once per
 * connection: PostgreSQL then parses and plans it once and afterwards only binds and executes
 * (postgres.js and pgx do the same by default). Drizzle's statements are parameterised, so the
 * whole request path benefits without naming anything by hand. The name is derived from the text
 * (`statementNameOf`); a connection prepares at most `MAX_PREPARED_PER_CONNECTION` of them, so a
 * text that varies (an IN list of changing length) cannot fill the server's memory. Statements
 * without parameters (BEGIN, COMMIT) go as they are, and so do cursors and streams (`submit`).
 * Prepared statements outlive a rolled-back transaction, so a rollback loses nothing. A schema
 * change under a running process re-plans them on the server; a statement whose result columns
 * changed then fails once per connection ("cached plan must not change result type"), so change
 * a statement's result only together with a restart (docs/deployment.md "Upgrades").
 */
class PreparingClient extends pg.Client {
  readonly #prepared = new Set<string>();

  // @ts-expect-error -- one signature forwarding all of pg.Client.query's overloads unchanged
  override query(config: unknown, ...rest: unknown[]): unknown {
    if (typeof config === 'string') {
      const values = rest[0];
      if (!Array.isArray(values) || values.length === 0) return pgQuery.call(this, config, ...rest);
      const name = this.#nameFor(config);
      if (name === null) return pgQuery.call(this, config, ...rest);
      const bound = boundValues(values);
      if (bound instanceof Error) return refused(bound, rest);
      return pgQuery.call(this, { name, text: config, values: bound }, ...rest.slice(1));
    }
    if (config === null || typeof config !== 'object' || 'submit' in config)
      return pgQuery.call(this, config, ...rest);
    // Drizzle passes `{ name: undefined, text, types }` and the values as the second argument.
    const given = config as { name?: unknown; text?: unknown; values?: unknown };
    const values = Array.isArray(rest[0]) ? rest[0] : given.values;
    if (
      given.name !== undefined ||
      typeof given.text !== 'string' ||
      !Array.isArray(values) ||
      values.length === 0
    )
      return pgQuery.call(this, config, ...rest);
    const text = given.text;
    const name = this.#nameFor(text);
    if (name === null) return pgQuery.call(this, config, ...rest);
    const bound = boundValues(values);
    if (bound instanceof Error) return refused(bound, rest);
    return Array.isArray(rest[0])
      ? pgQuery.call(this, { ...config, name }, bound, ...rest.slice(1))
      : pgQuery.call(this, { ...config, name, values: bound }, ...rest);
  }

  /**
   * Sends the statement `args` describe (as `query` takes them, promise form only) with the
   * tenant set by `tenant` (bound to `tenantId`) in front of it and one Sync behind it: one
   * implicit transaction, one write, one answer (fused-tenant-query.ts). Null when the call
   * cannot go that way (a callback, a cursor or other submittable, any option beyond name, text,
   * values, rowMode and types); the caller then opens an ordinary transaction.
   */
  tenantQuery(
    tenant: TenantStatement,
    tenantId: string,
    args: readonly unknown[],
  ): Promise<pg.QueryResult> | null {
    const [first, second] = args;
    if (args.length > 2 || (second !== undefined && !Array.isArray(second))) return null;
    const query: ExtendedQueryConfig = { text: '', queryMode: 'extended' };
    let given: unknown[] | undefined;
    if (typeof first === 'string') query.text = first;
    else if (first !== null && typeof first === 'object') {
      for (const key in first) if (!FUSABLE_OPTIONS.has(key)) return null;
      const config = first as pg.QueryConfig & { rowMode?: 'array' };
      if (typeof config.text !== 'string') return null;
      query.text = config.text;
      given = config.values;
      if (config.name !== undefined) query.name = config.name;
      if (config.rowMode !== undefined) query.rowMode = config.rowMode;
      if (config.types !== undefined) query.types = config.types;
    } else return null;
    const values = boundValues((Array.isArray(second) ? second : given) ?? []);
    if (values instanceof Error) return Promise.reject(values);
    query.values = values;
    if (query.name === undefined && values.length > 0) {
      const name = this.#nameFor(query.text);
      if (name !== null) query.name = name;
    }
    if (!this.#knows(tenant.name)) {
      // Prepared by running it once on its own: its setting ends with its own implicit
      // transaction, before the statement below starts another.
      (pgQuery.call(this, { ...tenant, values: [tenantId] }) as Promise<unknown>).catch(
        () => undefined,
      );
    }
    return new Promise((resolve, reject) => {
      const fused = new FusedTenantQuery(query, tenant.name, tenantId);
      (
        fused as unknown as { callback: (error: Error | null, result: pg.QueryResult) => void }
      ).callback = (error, result) => (error ? reject(error) : resolve(result));
      pgQuery.call(this, fused);
    });
  }

  /** This connection has prepared (or is preparing) the named statement. */
  #knows(name: string): boolean {
    const connection = (
      this as unknown as {
        connection: {
          parsedStatements: Record<string, string>;
          submittedNamedStatements: Record<string, string>;
        };
      }
    ).connection;
    return (
      connection.parsedStatements[name] !== undefined ||
      connection.submittedNamedStatements[name] !== undefined
    );
  }

  #nameFor(text: string): string | null {
    const name = statementNameOf(text);
    if (this.#prepared.has(name)) return name;
    if (this.#prepared.size >= MAX_PREPARED_PER_CONNECTION) return null;
    this.#prepared.add(name);
    return name;
  }
}

/** The pool connection can send a statement and the tenant setting as one implicit transaction. */
export function tenantQueryOf(client: pg.PoolClient): PreparingClient['tenantQuery'] | null {
  return client instanceof PreparingClient ? client.tenantQuery.bind(client) : null;
}

/**
 * Prepared statements use one generic plan per connection. PostgreSQL's default (`auto`) plans a
 * prepared statement afresh on every execution whenever the generic plan's estimate looks worse
 * than the custom plans', which is the case for every `LIMIT $1` read: users.list spent 0.25 ms
 * planning against 0.085 ms executing on each call, and a password sign-in about 1 ms of its
 * statements' time (pg_stat_statements with track_planning, docs/benchmarks.md). Tessera's
 * statements are keyed reads and writes whose tenant comes from RLS, not from a parameter, so
 * the generic plan is the custom one (docs/decisions/0009-prepared-statements.md). Sent as a
 * startup option, so it holds for the whole connection; a pooler in front (`directUrl`) gets
 * none, as PgBouncer refuses unknown startup options and its statements are unnamed anyway.
 */
export const GENERIC_PLANS = '-c plan_cache_mode=force_generic_plan';

export function createDatabase(url: string, options: DatabaseOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'tessera',
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    pipeline: options.pipeline ?? true,
    // Behind a transaction-mode pooler every statement goes unnamed; otherwise each is prepared,
    // and planned once: see GENERIC_PLANS.
    Client: (options.directUrl
      ? UnnamedStatementClient
      : PreparingClient) as unknown as typeof pg.Client,
    ...(options.directUrl ? {} : { options: GENERIC_PLANS }),
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener
  // that would crash the process. The next checkout simply gets a fresh connection.
  pool.on('error', () => undefined);
  const direct: pg.ClientConfig = options.directUrl
    ? { ...pool.options, connectionString: options.directUrl }
    : pool.options;
  directConfigs.set(pool, direct);
  const db = drizzle({ client: pool, schema });
  let closed = false;
  return {
    pool,
    direct,
    db,
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
