// PgBouncer in transaction mode (docs/scaling.md "Connection pooler"): Debian's `pgbouncer`
// (1.18) in front of the test database, and two built API processes (`dist/main.js`) whose
// APP_DATABASE_URL goes through it while APP_DATABASE_DIRECT_URL goes straight to PostgreSQL.
// The pooler hands each transaction any of its few server connections and runs DISCARD ALL after
// every one (server_reset_query_always), so anything that leaned on session state through it
// (a named prepared statement used twice, a session-level SET, LISTEN, an advisory lock held
// across transactions) breaks here at once instead of now and then in production. Proves that
// pipelined tenant transactions keep tenants apart, that sessions, API keys (and their revocation,
// carried by LISTEN) and GDPR jobs work, and that the session-bound connections are direct.
// Without pgbouncer this file skips locally ("skipped: install pgbouncer") and fails with CI=true.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, withTenant, type Database } from '@tessera/db';
import {
  findExecutable,
  startPgBouncer,
  useTestDatabase,
  type PgBouncer,
} from '@tessera/db/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startNodeChild, type NodeChild } from './node-processes.js';

const db = useTestDatabase({ poolSize: 3 });
const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
const pgbouncerBinary = findExecutable('pgbouncer', process.env.PATH ?? '');
if (!pgbouncerBinary) {
  if (process.env.CI === 'true') {
    test('pgbouncer is installed', () => {
      throw new Error('pgbouncer is missing: add it to .ci/apt-packages');
    });
  } else {
    process.stdout.write('skipped: install pgbouncer\n');
  }
}

const SERVER_CONNECTIONS = 3; // default_pool_size: far fewer than the clients sharing them
const ADMIN = { name: 'bouncer_admin', password: randomBytes(12).toString('hex') };
const ring = (): string => `v1:${randomBytes(32).toString('base64')}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
let ipCounter = 0;
const nextIp = (): string => `203.0.113.${(ipCounter += 1)}`;

interface Answer {
  status: number;
  body: any;
  cookie: string | undefined;
}

/** One tRPC call over HTTP, as a non-browser client (JSON, no Origin). */
async function call(
  base: string,
  procedure: string,
  options: { ip: string; input?: unknown; mutation?: boolean; cookie?: string; bearer?: string },
): Promise<Answer> {
  const headers: Record<string, string> = { 'x-forwarded-for': options.ip };
  if (options.cookie) headers.cookie = options.cookie;
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  let url = `${base}/trpc/${procedure}`;
  let init: RequestInit = { headers };
  if (options.mutation) {
    headers['content-type'] = 'application/json';
    init = { method: 'POST', headers, body: JSON.stringify(options.input ?? {}) };
  } else if (options.input !== undefined) {
    url += `?input=${encodeURIComponent(JSON.stringify(options.input))}`;
  }
  const res = await fetch(url, init);
  const cookie = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('tessera_session='))
    ?.split(';')[0];
  return { status: res.status, body: await res.json(), cookie };
}

async function pollUntil(
  check: () => Promise<boolean>,
  boundMs: number,
  everyMs = 25,
): Promise<number | null> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > boundMs) return null;
    await sleep(everyMs);
  }
}

describe.skipIf(!pgbouncerBinary)('the API behind PgBouncer in transaction mode', () => {
  let home: string;
  let bouncer: PgBouncer;
  let pooledUrl: string;
  let a: NodeChild, b: NodeChild;
  const url = (api: NodeChild): string => api.ready[1] ?? '';

  /** One admin-console command (simple protocol, as the console requires). */
  async function show<T>(command: 'CLIENTS' | 'SERVERS' | 'STATS'): Promise<T[]> {
    const admin = new pg.Client({
      connectionString: bouncer.url('pgbouncer', ADMIN.name, ADMIN.password),
    });
    await admin.connect();
    try {
      const text = { CLIENTS: 'SHOW CLIENTS', SERVERS: 'SHOW SERVERS', STATS: 'SHOW STATS' }[
        command
      ];
      return (await admin.query(text)).rows as T[];
    } finally {
      await admin.end();
    }
  }
  const transactionsServed = async (): Promise<number> =>
    Number(
      (await show<{ database: string; total_xact_count: string }>('STATS')).find(
        (row) => row.database === db.name,
      )?.total_xact_count ?? 0,
    );

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'tessera-pgbouncer-'));
    const runtime = { name: db.info.runtimeUser, password: db.info.runtimePassword };
    bouncer = await startPgBouncer(pgbouncerBinary ?? 'pgbouncer', home, {
      upstream: { host: db.info.host, port: db.info.port },
      databases: [db.name],
      users: [runtime, ADMIN],
      adminUser: ADMIN.name,
      settings: {
        default_pool_size: String(SERVER_CONNECTIONS),
        server_reset_query: 'DISCARD ALL',
        server_reset_query_always: '1',
      },
    });
    pooledUrl = bouncer.url(db.name, runtime.name, runtime.password);
    const { privateKey } = generateKeyPairSync('ed25519');
    const shared = {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      PUBLIC_URL: 'http://localhost:3000',
      TRUST_PROXY: 'true',
      DATABASE_URL: db.ownerUrl,
      APP_DATABASE_URL: pooledUrl,
      APP_DATABASE_DIRECT_URL: db.appUrl,
      DATA_ENCRYPTION_KEYS: ring(),
      SESSION_SECRET: ring(),
      API_KEY_PEPPERS: ring(),
      AUDIT_SIGNING_KEY: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
      METRICS_TOKEN: randomBytes(24).toString('base64url'),
      LOAD_SHED_EVENT_LOOP_DELAY_MS: '0',
      GDPR_DISPATCH_INTERVAL_SECONDS: '1',
    };
    const api = (name: string, inProcessWorkers: 'on' | 'off'): Promise<NodeChild> =>
      startNodeChild(
        name,
        path.join(dist, 'main.js'),
        { ...shared, TESSERA_HOME: path.join(home, name), IN_PROCESS_WORKERS: inProcessWorkers },
        /Tessera is listening on (http:\/\/[^"\s]+)/,
      );
    const started = await Promise.allSettled([api('api-a', 'on'), api('api-b', 'off')]);
    const ready = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure || ready.length !== 2) {
      await Promise.all(ready.map((child) => child.stop()));
      throw failure?.reason ?? new Error('a process did not start');
    }
    [a, b] = ready as [NodeChild, NodeChild];
  }, 90_000);

  afterAll(async () => {
    await Promise.all([a, b].filter((c) => c !== undefined).map((child) => child.stop()));
    await bouncer?.stop();
    await rm(home, { recursive: true, force: true });
  });

  async function signUp(
    api: NodeChild,
    ip: string,
  ): Promise<{ cookie: string; email: string; slug: string }> {
    const slug = `p-${randomBytes(4).toString('hex')}`;
    const email = `owner@${slug}.example.com`;
    const res = await call(url(api), 'auth.signUp', {
      ip,
      mutation: true,
      input: {
        tenantName: `Pooled ${slug}`,
        tenantSlug: slug,
        email,
        password: 'violet tangerine orbit seven lamp 42',
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return { cookie: res.cookie ?? '', email, slug };
  }

  async function createKey(
    api: NodeChild,
    owner: { cookie: string },
    ip: string,
  ): Promise<{ key: string; id: string }> {
    const input = { name: 'pooled', type: 'secret', environment: 'test', scopes: ['users:read'] };
    const res = await call(url(api), 'apiKeys.create', {
      ip,
      mutation: true,
      cookie: owner.cookie,
      input,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return { key: res.body.result.data.key, id: res.body.result.data.apiKey.id };
  }

  test('the harness is strict: a named prepared statement used twice through this pooler fails', async () => {
    const client = new pg.Client({ connectionString: pooledUrl });
    await client.connect();
    try {
      const named = { name: 'tessera_pooler_probe', text: 'SELECT $1::int AS n', values: [1] };
      expect((await client.query(named)).rows).toEqual([{ n: 1 }]);
      // node-postgres now sends only Bind for it; the server connection was reset in between.
      await expect(client.query(named)).rejects.toThrow(
        /prepared statement "tessera_pooler_probe" does not exist/,
      );
      // And session state set outside a transaction does not survive to the next one.
      await client.query("SELECT pg_catalog.set_config('tessera.pooler_probe', 'kept', false)");
      expect(
        (await client.query("SELECT pg_catalog.current_setting('tessera.pooler_probe', true) AS v"))
          .rows[0].v,
      ).not.toBe('kept');
    } finally {
      await client.end();
    }
  });

  test('pipelined tenant transactions through the pooler each see only their own tenant, and leave nothing behind', async () => {
    const database: Database = createDatabase(pooledUrl, {
      max: 12,
      applicationName: 'tessera-pooler-test',
      directUrl: db.appUrl,
    });
    try {
      const tenants = await Promise.all([db.seedTenant(), db.seedTenant(), db.seedTenant()]);
      const before = await transactionsServed();
      // 150 transactions from 12 client connections over 3 server connections, interleaved.
      const seen = await Promise.all(
        Array.from({ length: 150 }, async (_, i) => {
          const tenant = tenants[i % tenants.length] ?? tenants[0];
          if (!tenant) throw new Error('no tenant');
          const rows = await withTenant(database, tenant.id, async (tx) => {
            const visible = await tx.client.query<{ id: string }>('SELECT id FROM public.tenants');
            const setting = await tx.client.query<{ t: string }>(
              "SELECT pg_catalog.current_setting('app.tenant_id') AS t",
            );
            return { visible: visible.rows.map((r) => r.id), setting: setting.rows[0]?.t };
          });
          return { expected: tenant.id, ...rows };
        }),
      );
      for (const one of seen)
        expect(one).toEqual({
          expected: one.expected,
          visible: [one.expected],
          setting: one.expected,
        });
      expect(await transactionsServed()).toBeGreaterThanOrEqual(before + 150); // they really went through PgBouncer
      // Outside a tenant transaction no tenant is set on whichever server connection answers.
      const after = await Promise.all(
        Array.from({ length: 12 }, () =>
          database.pool.query<{ t: string | null; n: string }>(
            "SELECT pg_catalog.current_setting('app.tenant_id', true) AS t, (SELECT count(*) FROM public.tenants) AS n",
          ),
        ),
      );
      for (const { rows } of after) expect(rows[0]).toMatchObject({ n: '0' });
      // Named statements are sent unnamed through the pooler, so using one twice is fine.
      for (let i = 0; i < 5; i += 1) {
        const { rows } = await database.pool.query({
          name: 'tessera_pooler_probe',
          text: 'SELECT $1::int AS n',
          values: [i],
        });
        expect(rows).toEqual([{ n: i }]);
      }
    } finally {
      await database.close();
    }
  });

  test('a session made through one process works on the other; signing out ends it on both within one second', async () => {
    const ip = nextIp();
    const owner = await signUp(a, ip);
    expect(
      (await call(url(b), 'auth.me', { ip, cookie: owner.cookie })).body.result.data.user.email,
    ).toBe(owner.email);
    expect((await call(url(a), 'auth.me', { ip, cookie: owner.cookie })).status).toBe(200); // A caches it now
    expect(
      (await call(url(b), 'auth.signOut', { ip, mutation: true, cookie: owner.cookie })).status,
    ).toBe(200);
    const refusedAfterMs = await pollUntil(
      async () => (await call(url(a), 'auth.me', { ip, cookie: owner.cookie })).status === 401,
      1200,
    );
    expect(
      refusedAfterMs,
      'A still accepted the signed-out session after 1.2 s: its LISTEN is deaf',
    ).not.toBeNull();
  });

  test("API keys work through the pooler, see only their tenant's users, and a revocation reaches the other process within one second", async () => {
    const ownerIp = nextIp();
    const one = await signUp(a, ownerIp);
    const other = await signUp(b, ownerIp);
    const { key, id } = await createKey(a, one, ownerIp);
    const ip = nextIp();
    for (let i = 0; i < 4; i += 1) {
      const listed = await call(url(i % 2 === 0 ? a : b), 'users.list', { ip, bearer: key });
      expect(listed.status, JSON.stringify(listed.body)).toBe(200);
      const emails = (listed.body.result.data.items as { email: string }[]).map((u) => u.email);
      expect(emails).toEqual([one.email]);
      expect(emails).not.toContain(other.email);
    }
    expect(
      (
        await call(url(a), 'apiKeys.revoke', {
          ip: ownerIp,
          mutation: true,
          cookie: one.cookie,
          input: { id },
        })
      ).status,
    ).toBe(200);
    const refusedAfterMs = await pollUntil(
      async () => (await call(url(b), 'users.list', { ip, bearer: key })).status === 401,
      1250,
    );
    expect(
      refusedAfterMs,
      'B still accepted the revoked key after 1.25 s: its LISTEN is deaf',
    ).not.toBeNull();
  });

  test('a GDPR export runs to completion (queue and job locks on the direct connection)', async () => {
    const ip = nextIp();
    const subject = await signUp(b, ip);
    const res = await call(url(b), 'privacy.requestExport', {
      ip,
      mutation: true,
      cookie: subject.cookie,
      input: { format: 'json' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const requestId: string = res.body.result.data.request.id;
    const doneAfterMs = await pollUntil(
      async () => {
        const { rows } = await db.owner.pool.query<{ status: string }>(
          'SELECT status FROM public.privacy_requests WHERE id = $1',
          [requestId],
        );
        return rows[0]?.status === 'completed';
      },
      30_000,
      100,
    );
    expect(
      doneAfterMs,
      `export not completed; api-a log:\n${a.output().slice(-2000)}`,
    ).not.toBeNull();
    const { rows } = await db.owner.pool.query(
      'SELECT attempts, export_chunks > 0 AS chunks FROM public.privacy_requests WHERE id = $1',
      [requestId],
    );
    expect(rows[0]).toEqual({ attempts: 1, chunks: true });
  });

  test('LISTEN, the job queue and the workers use direct connections; the API pool uses the pooler', async () => {
    const clients = await show<{ database: string; application_name: string }>('CLIENTS');
    const throughPooler = new Set(
      clients.filter((c) => c.database === db.name).map((c) => c.application_name),
    );
    expect(throughPooler.has('tessera-api')).toBe(true);
    for (const sessionBound of [
      'tessera-session-listener',
      'tessera-api-key-listener',
      'tessera-worker',
    ])
      expect(throughPooler.has(sessionBound), sessionBound).toBe(false);
    const pooledBackends = (await show<{ database: string; remote_pid: string }>('SERVERS'))
      .filter((s) => s.database === db.name)
      .map((s) => Number(s.remote_pid));
    expect(pooledBackends.length).toBeGreaterThan(0);
    expect(pooledBackends.length).toBeLessThanOrEqual(SERVER_CONNECTIONS);
    const { rows } = await db.owner.pool.query<{ application_name: string; pid: number }>(
      `SELECT application_name, pid FROM pg_catalog.pg_stat_activity
        WHERE datname = current_database() AND application_name IN ('tessera-session-listener', 'tessera-api-key-listener', 'tessera-worker')`,
    );
    const names = new Set(rows.map((r) => r.application_name));
    expect([...names].sort()).toEqual([
      'tessera-api-key-listener',
      'tessera-session-listener',
      'tessera-worker',
    ]);
    for (const row of rows)
      expect(
        pooledBackends,
        `${row.application_name} (pid ${row.pid}) is a pooled server connection`,
      ).not.toContain(row.pid);
    expect(bouncer.output()).not.toMatch(/unsupported startup parameter|prepared statement/i);
  });
});
