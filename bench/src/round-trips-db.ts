/**
 * Round-trip study, database level (no HTTP): the same 20-row page read in five transaction
 * shapes, each counted in round trips (RT) between Node and PostgreSQL.
 *
 * Scratch for a proposed change to packages/db/src/tenant-context.ts; request traffic never runs
 * this code. The pipelined shapes use node-postgres's `pipeline: true` client option (pg 8.23):
 * queries issued without awaiting are written back to back, each with its own Sync, and answered
 * in order, so BEGIN, a parameterised set_config, the query and COMMIT cost one round trip while
 * keeping the transaction scope and the bind parameter of docs/design.md rule 2.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import {
  canonicalUuid,
  schema,
  withTenant,
  type Database,
  type Drizzle,
  type TenantTx,
} from '@tessera/db';
import { PAGE_SIZE, PLAIN_PAGE_SQL, RLS_PAGE_SQL, type PageRow } from './bench-router.js';
import { cpuMsPer, cpuShare, cpuSnapshot } from './cpu.js';
import { benchPostmasterPid } from './load.js';

// eslint-disable-next-line tessera/no-set-app-setting -- measurement scratch for a proposed tenant-context.ts change (parameterised, no string building); never used by request traffic
const SET_TENANT = "SELECT pg_catalog.set_config('app.tenant_id', $1, true)";

/** A pool whose clients pipeline (pg >= 8.23). */
export function pipelinePool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    application_name: 'tessera-bench-pipeline',
    pipeline: true,
  });
  pool.on('error', () => undefined);
  return pool;
}

async function onClient<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    const result = await body(client);
    client.release();
    return result;
  } catch (error) {
    client.release(true); // never reuse a connection whose transaction state is unknown
    throw error;
  }
}

/** 1 RT: BEGIN READ ONLY, set_config($1), the query and COMMIT written together. */
export function pipelinedOneTrip(
  pool: pg.Pool,
  tenantId: string,
  sql: string,
  values: unknown[],
): Promise<PageRow[]> {
  return onClient(pool, async (client) => {
    const sent = [
      client.query('BEGIN READ ONLY'),
      client.query(SET_TENANT, [tenantId]),
      client.query<PageRow>(sql, values),
      client.query('COMMIT'),
    ] as const;
    const [, , page, commit] = await Promise.all(sent);
    // A failed statement aborts the transaction; COMMIT then answers ROLLBACK (and nothing was written).
    if (commit.command !== 'COMMIT')
      throw new Error(`tenant transaction ended with ${commit.command}`);
    return page.rows;
  });
}

/** 2 RT, the general withTenant shape: BEGIN and set_config ride with the callback's first query; COMMIT after. */
export function pipelinedTwoTrips<T>(
  pool: pg.Pool,
  tenantId: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return onClient(pool, async (client) => {
    const opened = Promise.all([
      client.query('BEGIN READ ONLY'),
      client.query(SET_TENANT, [tenantId]),
    ]);
    opened.catch(() => undefined); // observed below; the callback's query fails too if these did
    const result = await fn(client);
    await opened;
    await client.query('COMMIT');
    return result;
  });
}

const drizzleByClient = new WeakMap<pg.PoolClient, Drizzle>();

/**
 * Today's withTenant (same SQL, same 3 RT) with one change: the drizzle instance over a pooled
 * connection is built once per connection, not once per transaction. `drizzle({ client, schema })`
 * extracts the relational config of the whole schema on every call.
 */
export async function withTenantCachedDrizzle<T>(
  database: Pick<Database, 'pool'>,
  tenantId: string,
  fn: (tx: TenantTx) => Promise<T>,
): Promise<T> {
  // eslint-disable-next-line tessera/no-set-app-setting -- the earlier withTenant's shape, measured for comparison only: the tenant id is a parsed UUID (canonicalUuid), never request input
  const begin = `BEGIN; SELECT pg_catalog.set_config('app.tenant_id', '${canonicalUuid(tenantId)}', true)`;
  const client = await database.pool.connect();
  try {
    // eslint-disable-next-line tessera/no-raw-sql-interpolation -- the earlier shape above (a parsed UUID) plus a constant; measurement only
    await client.query(`${begin}; SET TRANSACTION READ ONLY`);
    let base = drizzleByClient.get(client);
    if (!base) {
      base = drizzle({ client, schema });
      drizzleByClient.set(client, base);
    }
    const tx = Object.assign(Object.create(base) as Drizzle, {
      tenantId: canonicalUuid(tenantId),
      client,
    });
    const result = await fn(tx);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    client.release(true);
    throw error;
  }
}

/** 4 RT: the textbook shape (BEGIN, set_config($1), query, COMMIT, each awaited). */
async function naiveFourTrips(pool: pg.Pool, tenantId: string): Promise<PageRow[]> {
  return onClient(pool, async (client) => {
    await client.query('BEGIN READ ONLY');
    await client.query(SET_TENANT, [tenantId]);
    const page = await client.query<PageRow>(RLS_PAGE_SQL, [PAGE_SIZE]);
    await client.query('COMMIT');
    return page.rows;
  });
}

export interface Shape {
  name: string;
  roundTrips: number;
  run(tenantId: string): Promise<PageRow[]>;
}

export function shapes(
  app: Database,
  owner: Database,
  naivePool: pg.Pool,
  pipelined: pg.Pool,
): Shape[] {
  return [
    {
      name: 'plain: owner pool, tenant_id = $1, no transaction',
      roundTrips: 1,
      run: async (t) => (await owner.pool.query<PageRow>(PLAIN_PAGE_SQL, [t, PAGE_SIZE])).rows,
    },
    {
      name: 'withTenant today: "BEGIN; set_config(literal); SET TRANSACTION READ ONLY", query, COMMIT',
      roundTrips: 3,
      run: (t) =>
        withTenant(
          app,
          t,
          async (tx) => (await tx.client.query<PageRow>(RLS_PAGE_SQL, [PAGE_SIZE])).rows,
          { readOnly: true },
        ),
    },
    {
      name: 'withTenant today, drizzle instance cached per connection',
      roundTrips: 3,
      run: (t) =>
        withTenantCachedDrizzle(
          app,
          t,
          async (tx) => (await tx.client.query<PageRow>(RLS_PAGE_SQL, [PAGE_SIZE])).rows,
        ),
    },
    {
      name: 'naive: BEGIN, set_config($1), query, COMMIT',
      roundTrips: 4,
      run: (t) => naiveFourTrips(naivePool, t),
    },
    {
      name: 'pipelined withTenant: BEGIN + set_config($1) + query, then COMMIT',
      roundTrips: 2,
      run: (t) =>
        pipelinedTwoTrips(
          pipelined,
          t,
          async (c) => (await c.query<PageRow>(RLS_PAGE_SQL, [PAGE_SIZE])).rows,
        ),
    },
    {
      name: 'pipelined single query: BEGIN + set_config($1) + query + COMMIT',
      roundTrips: 1,
      run: (t) => pipelinedOneTrip(pipelined, t, RLS_PAGE_SQL, [PAGE_SIZE]),
    },
  ];
}

export interface ShapeResult {
  perSecond: number;
  meanLatencyMs: number;
  /** CPU ms (this process and the bench's PostgreSQL) per read. */
  cpuMs: number | null;
}

/** `concurrency` loops calling `shape.run` for `seconds`, rotating tenants. */
export async function drive(
  shape: Shape,
  tenants: readonly string[],
  concurrency: number,
  seconds: number,
): Promise<ShapeResult> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let done = 0;
  let latency = 0;
  const loop = async (offset: number): Promise<void> => {
    for (let i = offset; performance.now() < deadline; i += concurrency) {
      const t0 = performance.now();
      const rows = await shape.run(tenants[i % tenants.length] as string);
      if (rows.length !== PAGE_SIZE) throw new Error(`${shape.name}: ${rows.length} rows`);
      latency += performance.now() - t0;
      done += 1;
    }
  };
  const from = cpuSnapshot(benchPostmasterPid());
  await Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i)));
  const cpuMs = cpuMsPer(cpuShare(from, cpuSnapshot(benchPostmasterPid())), done);
  return {
    perSecond: (done * 1000) / (performance.now() - started),
    meanLatencyMs: latency / done,
    cpuMs,
  };
}
