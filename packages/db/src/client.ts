import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema/index.js';

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

/**
 * A client that sends every statement unnamed: node-postgres prepares a named statement once per
 * connection and afterwards sends only Bind, which a transaction-mode pooler may deliver to a
 * server connection that never saw the Parse ("prepared statement ... does not exist").
 */
class UnnamedStatementClient extends pg.Client {
  // @ts-expect-error -- one signature forwarding all of pg.Client.query's overloads unchanged
  override query(config: unknown, ...rest: unknown[]): unknown {
    const send = super.query.bind(this) as (config: unknown, ...rest: unknown[]) => unknown;
    if (
      config !== null &&
      typeof config === 'object' &&
      'name' in config &&
      !('submit' in config)
    ) {
      return send({ ...config, name: undefined }, ...rest);
    }
    return send(config, ...rest);
  }
}

export function createDatabase(url: string, options: DatabaseOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'tessera',
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    pipeline: options.pipeline ?? true,
    ...(options.directUrl ? { Client: UnnamedStatementClient as unknown as typeof pg.Client } : {}),
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
