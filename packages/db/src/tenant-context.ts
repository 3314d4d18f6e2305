/**
 * Tenant context: the only place that sets `app.tenant_id` (DESIGN rules 1 and 2).
 *
 * Guarantees: the callback's handle is a transaction on one pooled connection whose
 * `app.tenant_id` is set with `set_config(..., true)`, i.e. transaction-local, so it is gone when
 * the connection returns to the pool (COMMIT or ROLLBACK both end it). RLS policies read it.
 *
 * Callers must not: keep `tx` after the callback returns, start their own BEGIN/COMMIT on it, or
 * pass a tenant id taken from user input without authorising it first.
 *
 * The narrow exception of rule 2: BEGIN and set_config travel in one simple-protocol message to
 * save a round trip, so the tenant id is embedded in SQL text. It is embedded only after
 * `canonicalUuid` has parsed it to 36 characters of [0-9a-f-]; anything else throws TypeError
 * before any SQL is sent. Pinned by tenant-context.db.test.ts ("refuses a tenant id that is not a
 * UUID") and the pool-leak test.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Database, Drizzle } from './client.js';
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

/** SQL that opens the transaction and sets the tenant. Exported for its test only. */
export function beginTenantSql(tenantId: string): string {
  const id = canonicalUuid(tenantId);
  // eslint-disable-next-line tessera/no-set-app-setting -- the one documented exception (header)
  return `BEGIN; SELECT pg_catalog.set_config('app.tenant_id', '${id}', true)`;
}

export interface WithTenantOptions {
  /** Run the transaction READ ONLY (cheap guard for query procedures). */
  readOnly?: boolean;
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
  const begin = beginTenantSql(id);
  return traceTransaction('tenant', { tenantId: id, readOnly: options.readOnly }, () => runTenantTransaction(database, id, begin, fn, options));
}

/**
 * One drizzle handle per pooled connection, built on first use: building it per transaction cost
 * about a tenth of a short read's throughput (docs/benchmarks.md). Each transaction gets a thin
 * object on top carrying its own tenant id, so nothing of one transaction leaks into the next.
 */
const handles = new WeakMap<pg.PoolClient, Drizzle>();

function tenantTxOn(client: pg.PoolClient, tenantId: string): TenantTx {
  let base = handles.get(client);
  if (!base) {
    base = drizzle({ client, schema });
    handles.set(client, base);
  }
  return Object.assign(Object.create(base) as Drizzle, { tenantId, client }); // canonical already (withTenant)
}

async function runTenantTransaction<T>(database: Pick<Database, 'pool'>, tenantId: string, begin: string, fn: (tx: TenantTx) => Promise<T>, options: WithTenantOptions): Promise<T> {
  const client = await database.pool.connect();
  let released = false;
  try {
    await client.query(options.readOnly ? `${begin}; SET TRANSACTION READ ONLY` : begin);
    const tx = tenantTxOn(client, tenantId);
    const result = await fn(tx);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      released = true;
      client.release(rollbackError instanceof Error ? rollbackError : true);
    }
    throw error;
  } finally {
    if (!released) client.release();
  }
}
