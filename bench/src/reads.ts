/**
 * The request benchmarks: (a) health.check, (b) a tenant-scoped page through tRPC
 * with RLS and session-cookie auth, (c) the same procedure without RLS or transaction, and
 * (d) a bare Fastify route, measured interleaved (load.ts) with the same load, together with
 * (e) the API-key call (api-keys.ts) and the peer's scenarios (peer-better-auth.ts).
 */
import { withTenant, type Database } from '@tessera/db';
import { PAGE_SIZE, PLAIN_PAGE_SQL, RLS_PAGE_SQL, type PageRow } from './bench-router.js';
import {
  CONNECTIONS,
  assertAllOk,
  measureInterleaved,
  type LoadTarget,
  type Measurement,
} from './load.js';
import type { LoadRequest } from './load-types.js';
import type { ReadSession } from './seed.js';
import { SESSION_COOKIE } from './servers.js';

export type ReadKey = 'd' | 'a' | 'b' | 'c' | 'bDrizzle' | 'e' | 'f';
/** Better Auth's request scenarios, measured in the same interleaved rounds. */
export type PeerKey = 'peerSession' | 'peerApiKey';
export type ScenarioKey = ReadKey | PeerKey;

export interface ReadScenario<K extends string = ReadKey> {
  key: K;
  label: string;
  url: string;
  requests: LoadRequest[];
  /** How the connections pick requests (load-types.ts); per connection unless said otherwise. */
  rotate?: LoadTarget['rotate'];
}

const cookieFor = (session: ReadSession): Record<string, string> => ({
  cookie: `${SESSION_COOKIE}=${session.token}`,
});

/** Every authenticated scenario rotates through the same 50 tenants' sessions. */
function sessionGets(path: string, sessions: readonly ReadSession[]): LoadRequest[] {
  return sessions.map((session) => ({ method: 'GET', path, headers: cookieFor(session) }));
}

export function readScenarios(
  apiUrl: string,
  bareUrl: string,
  sessions: readonly ReadSession[],
): ReadScenario<Exclude<ReadKey, 'e'>>[] {
  return [
    {
      key: 'd',
      label: '(d) bare Fastify, constant',
      url: bareUrl,
      requests: [{ method: 'GET', path: '/constant', headers: {} }],
    },
    {
      key: 'a',
      label: '(a) GET /trpc/health.check',
      url: apiUrl,
      requests: [{ method: 'GET', path: '/trpc/health.check', headers: {} }],
    },
    {
      key: 'b',
      label: '(b) bench.rls: withTenant + RLS, session',
      url: apiUrl,
      requests: sessionGets('/trpc/bench.rls', sessions),
    },
    {
      key: 'c',
      label: '(c) bench.plain: owner pool, tenant_id = $1, session',
      url: apiUrl,
      requests: sessionGets('/trpc/bench.plain', sessions),
    },
    {
      key: 'bDrizzle',
      label: "(b') bench.rlsDrizzle: as (b), drizzle query builder",
      url: apiUrl,
      requests: sessionGets('/trpc/bench.rlsDrizzle', sessions),
    },
    {
      key: 'f',
      label: '(f) auth.me: who is signed in, session',
      url: apiUrl,
      requests: sessionGets('/trpc/auth.me', sessions),
    },
  ];
}

/** All scenarios, interleaved (load.ts), each checked to have answered only 2xx. */
export async function measureReads<K extends string>(
  scenarios: readonly ReadScenario<K>[],
  onSlice: (label: string, round: number) => void,
): Promise<Map<K, Measurement>> {
  const targets = new Map<K, LoadTarget>(
    scenarios.map((s) => [
      s.key,
      {
        url: s.url,
        connections: CONNECTIONS,
        requests: s.requests,
        ...(s.rotate ? { rotate: s.rotate } : {}),
      },
    ]),
  );
  const labels = new Map(scenarios.map((s) => [s.key, s.label]));
  const measured = await measureInterleaved(targets, (key, round) =>
    onSlice(labels.get(key) ?? key, round),
  );
  for (const [key, m] of measured) assertAllOk(labels.get(key) ?? key, m);
  return measured;
}

async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { headers });
  return { status: response.status, body: await response.json() };
}

const idsOf = (body: unknown): string[] =>
  ((body as { result?: { data?: PageRow[] } }).result?.data ?? []).map((row) => row.id);

/** One request per procedure before measuring: each answers what it should, (b) and (c) alike. */
export async function checkReads(apiUrl: string, sessions: readonly ReadSession[]): Promise<void> {
  const session = sessions[0];
  if (!session) throw new Error('no read sessions seeded');
  const health = await getJson(`${apiUrl}/trpc/health.check`);
  if (health.status !== 200)
    throw new Error(`health.check answered ${health.status}: ${JSON.stringify(health.body)}`);
  const me = await getJson(`${apiUrl}/trpc/auth.me`, cookieFor(session));
  if (
    me.status !== 200 ||
    (me.body as { result?: { data?: { tenant?: { id?: string } } } }).result?.data?.tenant?.id !==
      session.tenantId
  ) {
    throw new Error(`auth.me answered ${me.status}: ${JSON.stringify(me.body).slice(0, 300)}`);
  }
  const anonymous = await getJson(`${apiUrl}/trpc/bench.rls`);
  if (anonymous.status !== 401)
    throw new Error(`bench.rls without a session answered ${anonymous.status}, expected 401`);
  const pages = await Promise.all(
    ['rls', 'rlsDrizzle', 'plain'].map((name) =>
      getJson(`${apiUrl}/trpc/bench.${name}`, cookieFor(session)),
    ),
  );
  const [rls, drizzle, plain] = pages.map((page) => idsOf(page.body));
  if (pages.some((page) => page.status !== 200) || rls?.length !== PAGE_SIZE) {
    throw new Error(
      `bench procedures failed: ${pages.map((page) => `${page.status} ${JSON.stringify(page.body).slice(0, 300)}`).join(' | ')}`,
    );
  }
  if (
    JSON.stringify(rls) !== JSON.stringify(plain) ||
    JSON.stringify(rls) !== JSON.stringify(drizzle)
  ) {
    throw new Error('bench.rls, bench.rlsDrizzle and bench.plain returned different pages');
  }
}

const EXPLAIN_RLS = `EXPLAIN (COSTS OFF) ${RLS_PAGE_SQL}`;
const EXPLAIN_PLAIN = `EXPLAIN (COSTS OFF) ${PLAIN_PAGE_SQL}`;

/** The plans of (b) as the runtime role inside a tenant transaction and of (c) as the owner. */
export async function explainReads(
  app: Database,
  owner: Database,
  tenantId: string,
): Promise<{ rls: string; plain: string }> {
  const plan = (rows: { 'QUERY PLAN': string }[]): string =>
    rows.map((row) => row['QUERY PLAN']).join('\n');
  const rls = await withTenant(
    app,
    tenantId,
    async (tx) =>
      plan((await tx.client.query<{ 'QUERY PLAN': string }>(EXPLAIN_RLS, [PAGE_SIZE])).rows),
    { readOnly: true },
  );
  const plain = plan(
    (await owner.pool.query<{ 'QUERY PLAN': string }>(EXPLAIN_PLAIN, [tenantId, PAGE_SIZE])).rows,
  );
  return { rls, plain };
}
