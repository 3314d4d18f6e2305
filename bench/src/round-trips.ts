/**
 * `node bench/dist/round-trips.js` (after `pnpm bench` built it): where the time of (b) goes.
 * Measures the tenant transaction in six shapes at the database level, then three of them end
 * to end through the real server next to today's (b) and (c), on the same data as `pnpm bench`,
 * and writes the "Round trips" section of docs/benchmarks.md (which `pnpm bench` keeps).
 * `--db-only` / `--http-only` run one half.
 *
 * A scratch study for a proposed change to packages/db/src/tenant-context.ts.
 */
import pg from 'pg';
import { router, tenantProcedure } from '@tessera/api-contract';
import { asc } from 'drizzle-orm';
import { createDatabase, users, type Database } from '@tessera/db';
import { PAGE_SIZE, RLS_PAGE_SQL, benchRouter, type PageRow } from './bench-router.js';
import { startBenchCluster } from './cluster.js';
import { CpuAccumulator, cpuMsPer, cpuSnapshot } from './cpu.js';
import { ROUND_TRIPS, writeSection } from './doc-sections.js';
import {
  CONNECTIONS,
  assertAllOk,
  measureInterleaved,
  setPostmasterPid,
  type LoadTarget,
  type Measurement,
} from './load.js';
import {
  drive,
  pipelinedOneTrip,
  pipelinedTwoTrips,
  pipelinePool,
  shapes,
  withTenantCachedDrizzle,
  type Shape,
  type ShapeResult,
} from './round-trips-db.js';
import { seedForReads, type ReadSession } from './seed.js';
import { benchServices, LogSink, POOL_SIZE, SESSION_COOKIE, startApi } from './servers.js';

const TENANTS = 1_000;
const SESSIONS = 50;
const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

interface DbFigures {
  shape: Shape;
  concurrent: ShapeResult;
  single: ShapeResult;
}

/** Each shape at 50 in flight (two 3 s slices, forward then backward order) and alone (latency). */
async function dbStudy(
  all: readonly Shape[],
  tenants: readonly string[],
): Promise<{ figures: DbFigures[]; foreign: number }> {
  log('database level ...');
  const cpu = new CpuAccumulator();
  const from = cpuSnapshot(null);
  for (const shape of all) await drive(shape, tenants, CONNECTIONS, 1); // warm-up
  const sums = new Map<Shape, { perSecond: number; cpuMs: number }>(
    all.map((s) => [s, { perSecond: 0, cpuMs: 0 }]),
  );
  for (const order of [all, [...all].reverse()]) {
    for (const shape of order) {
      const r = await drive(shape, tenants, CONNECTIONS, 3);
      const sum = sums.get(shape) as { perSecond: number; cpuMs: number };
      sums.set(shape, {
        perSecond: sum.perSecond + r.perSecond / 2,
        cpuMs: sum.cpuMs + (r.cpuMs ?? 0) / 2,
      });
    }
  }
  const figures: DbFigures[] = [];
  for (const shape of all) {
    const single = await drive(shape, tenants, 1, 2);
    const { perSecond, cpuMs } = sums.get(shape) as { perSecond: number; cpuMs: number };
    figures.push({ shape, concurrent: { perSecond, meanLatencyMs: 0, cpuMs }, single });
    log(
      `  ${shape.name}: ${Math.round(perSecond)}/s at ${CONNECTIONS} in flight (${cpuMs.toFixed(2)} CPU ms each), ${single.meanLatencyMs.toFixed(2)} ms alone`,
    );
  }
  cpu.add(from, cpuSnapshot(null));
  return { figures, foreign: cpu.share()?.foreign ?? 0 };
}

function studyRouter(owner: Database, piped: pg.Pool): ReturnType<typeof router> {
  const signedIn = { access: { permission: 'self' } } as const;
  return router({
    main: benchRouter(owner),
    scratch: router({
      cachedDrizzle: tenantProcedure
        .meta(signedIn)
        .query(({ ctx }) =>
          withTenantCachedDrizzle(
            ctx.db,
            ctx.principal.tenantId,
            async (tx) => (await tx.client.query<PageRow>(RLS_PAGE_SQL, [PAGE_SIZE])).rows,
          ),
        ),
      cachedDrizzleBuilder: tenantProcedure
        .meta(signedIn)
        .query(({ ctx }) =>
          withTenantCachedDrizzle(ctx.db, ctx.principal.tenantId, (tx) =>
            tx.select({ id: users.id }).from(users).orderBy(asc(users.id)).limit(PAGE_SIZE),
          ),
        ),
      pipelined2: tenantProcedure
        .meta(signedIn)
        .query(({ ctx }) =>
          pipelinedTwoTrips(
            piped,
            ctx.principal.tenantId,
            async (client) => (await client.query<PageRow>(RLS_PAGE_SQL, [PAGE_SIZE])).rows,
          ),
        ),
      pipelined1: tenantProcedure
        .meta(signedIn)
        .query(({ ctx }) =>
          pipelinedOneTrip(piped, ctx.principal.tenantId, RLS_PAGE_SQL, [PAGE_SIZE]),
        ),
    }),
  });
}

const HTTP_PATHS = {
  c: ['(c) plain, owner pool', '/trpc/main.bench.plain'],
  b: ['(b) withTenant today (3 RT)', '/trpc/main.bench.rls'],
  bc: ['(b) withTenant, drizzle cached per connection (3 RT)', '/trpc/scratch.cachedDrizzle'],
  p2: ['(b) pipelined withTenant (2 RT)', '/trpc/scratch.pipelined2'],
  p1: ['(b) pipelined single query (1 RT)', '/trpc/scratch.pipelined1'],
} as const;
type HttpKey = keyof typeof HTTP_PATHS;

async function httpStudy(
  app: Database,
  owner: Database,
  piped: pg.Pool,
  sessions: readonly ReadSession[],
): Promise<Map<HttpKey, Measurement>> {
  log('through the server ...');
  const server = await startApi(app, studyRouter(owner, piped), benchServices(), new LogSink());
  try {
    const targets = new Map<HttpKey, LoadTarget>();
    for (const [key, [, path]] of Object.entries(HTTP_PATHS) as [
      HttpKey,
      readonly [string, string],
    ][]) {
      const requests = sessions.map((s) => ({
        method: 'GET' as const,
        path,
        headers: { cookie: `${SESSION_COOKIE}=${s.token}` },
      }));
      const probe = await fetch(`${server.url}${path}`, { headers: requests[0]?.headers ?? {} });
      if (probe.status !== 200)
        throw new Error(`${path} answered ${probe.status}: ${await probe.text()}`);
      targets.set(key, { url: server.url, connections: CONNECTIONS, requests });
    }
    const builder = await fetch(`${server.url}/trpc/scratch.cachedDrizzleBuilder`, {
      headers: targets.get('c')?.requests[0]?.headers ?? {},
    });
    if (builder.status !== 200)
      throw new Error(
        `a cached drizzle instance failed the query builder: ${await builder.text()}`,
      );
    const measured = await measureInterleaved(targets, (key, round) =>
      log(`  ${round < 0 ? 'warm-up' : `round ${round + 1}`}: ${HTTP_PATHS[key][0]}`),
    );
    for (const [key, m] of measured) assertAllOk(HTTP_PATHS[key][0], m);
    return measured;
  } finally {
    await server.app.close();
  }
}

function render(
  db: { figures: DbFigures[]; foreign: number },
  http: Map<HttpKey, Measurement>,
): string {
  const plainDb = db.figures[0]?.concurrent.perSecond ?? 0;
  const c = http.get('c')?.requestsPerSecond ?? 0;
  const cMeasurement = http.get('c');
  const cCost = cMeasurement ? cpuMsPer(cMeasurement.cpu, cMeasurement.ok) : null;
  const foreignHttp = Math.max(...[...http.values()].map((m) => m.cpu?.foreign ?? 0));
  return [
    `Written by \`node bench/dist/round-trips.js\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} (${TENANTS.toLocaleString('en-US')} tenants x 1,000 users; pools of ${POOL_SIZE}; other processes used up to ${Math.round(Math.max(db.foreign, foreignHttp))}% of the CPU).`,
    '',
    `Database level, no HTTP: the page read in each shape, ${CONNECTIONS} in flight (two 3 s slices each, interleaved) and one at a time (mean latency).`,
    '',
    '| shape | round trips | reads/s, 50 in flight | vs plain | CPU ms per read | ms, one at a time |',
    '|---|---:|---:|---:|---:|---:|',
    ...db.figures.map(
      (f) =>
        `| ${f.shape.name} | ${f.shape.roundTrips} | ${Math.round(f.concurrent.perSecond).toLocaleString('en-US')} | ${(f.concurrent.perSecond / plainDb).toFixed(2)} | ${f.concurrent.cpuMs?.toFixed(2) ?? 'n/a'} | ${f.single.meanLatencyMs.toFixed(2)} |`,
    ),
    '',
    'End to end through the server (same procedure, same session cookie; each request also resolves the session: one more round trip), interleaved 4 x 2.5 s:',
    '',
    '| procedure | req/s | vs (c) | p50 ms | p99 ms | CPU ms per request | vs (c) by CPU cost | other processes, % CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...(Object.keys(HTTP_PATHS) as HttpKey[]).map((key) => {
      const m = http.get(key);
      const cost = m ? cpuMsPer(m.cpu, m.ok) : null;
      const byCost = cost && cCost ? (cCost / cost).toFixed(2) : 'n/a';
      return `| ${HTTP_PATHS[key][0]} | ${Math.round(m?.requestsPerSecond ?? 0).toLocaleString('en-US')} | ${((m?.requestsPerSecond ?? 0) / c).toFixed(2)} | ${m?.latencyP50 ?? 0} | ${m?.latencyP99 ?? 0} | ${cost?.toFixed(2) ?? 'n/a'} | ${byCost} | ${Math.round(m?.cpu?.foreign ?? 0)} |`;
    }),
    '',
    'How to read it. "withTenant today" builds a drizzle instance with the whole schema for every transaction (`drizzle({ client, schema })` extracts the relational config of every table each time); caching one per pooled connection removes that CPU without changing the SQL. The pipelined shapes use node-postgres\'s `pipeline: true` client option (pg 8.23): statements issued without awaiting are written together, each with its own Sync, and answered in order, so BEGIN, a parameterised `set_config($1)` and the query share one round trip, and a single-query read can send COMMIT in the same flight. The tenant id stays a bind parameter (no string building), the setting stays transaction-local, and a failed statement aborts the transaction (COMMIT then answers ROLLBACK). Code: bench/src/round-trips-db.ts.',
  ].join('\n');
}

async function main(): Promise<void> {
  log('round-trip study: starting an embedded PostgreSQL ...');
  const cluster = await startBenchCluster();
  setPostmasterPid(cluster.postmasterPid);
  let body: string;
  try {
    const sessions = await seedForReads(cluster.ownerUrl, TENANTS, SESSIONS);
    const app = createDatabase(cluster.appUrl, { max: POOL_SIZE });
    const owner = createDatabase(cluster.ownerUrl, { max: POOL_SIZE });
    const naive = new pg.Pool({ connectionString: cluster.appUrl, max: POOL_SIZE });
    const piped = pipelinePool(cluster.appUrl, POOL_SIZE);
    try {
      // `--http-only` / `--db-only`: one half, to check that one does not disturb the other.
      const only = process.argv[2];
      const db =
        only === '--http-only'
          ? { figures: [], foreign: 0 }
          : await dbStudy(
              shapes(app, owner, naive, piped),
              sessions.map((s) => s.tenantId),
            );
      const http =
        only === '--db-only'
          ? new Map<HttpKey, Measurement>()
          : await httpStudy(app, owner, piped, sessions);
      body = render(db, http);
    } finally {
      await Promise.all([app.close(), owner.close(), naive.end(), piped.end()]);
    }
  } finally {
    await cluster.stop();
  }
  await writeSection(ROUND_TRIPS, '## Round trips of a tenant transaction', body);
  log(`\n${body}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `round-trip study failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
