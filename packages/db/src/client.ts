import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
export type Drizzle = NodePgDatabase<Schema>;

export interface Database {
  /** The pg pool; every query through it runs as the pool's role. */
  readonly pool: pg.Pool;
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
}

export function createDatabase(url: string, options: DatabaseOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'tessera',
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    pipeline: options.pipeline ?? true,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener
  // that would crash the process. The next checkout simply gets a fresh connection.
  pool.on('error', () => undefined);
  const db = drizzle({ client: pool, schema });
  let closed = false;
  return {
    pool,
    db,
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
