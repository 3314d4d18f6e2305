// Scale-out (docs/design.md "Runtime and configuration"): two API processes and two standalone
// GDPR workers, all built (`dist/`), against one PostgreSQL and one Redis (Debian's
// `redis-server`, started here on a free loopback port). Shows that per-IP and per-key limits hold
// across both API processes, that a key revoked through one is refused by the other within 1 s,
// that a session made on one works (and ends) on the other, and that an export whose worker is
// SIGKILLed while it holds the job completes exactly once on the other worker. A third API process
// without REDIS_URL shows the single-process default: limits hold, counted per process.
// Without redis-server this file skips locally ("skipped: install redis-server") and fails with
// CI=true (docs/design.md "Tests and CI"). Propagation bounds are polled, never throughput.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  findExecutable,
  freePort,
  startRedisServer,
  useTestDatabase,
  type RedisServer,
} from '@tessera/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pidOwningLocalPort, startNodeChild, type NodeChild } from './node-processes.js';

const db = useTestDatabase({ poolSize: 3 });
const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
const redisBinary = findExecutable('redis-server', process.env.PATH ?? '');
if (!redisBinary) {
  if (process.env.CI === 'true') {
    test('redis-server is installed', () => {
      throw new Error('redis-server is missing: add it to .ci/apt-packages');
    });
  } else {
    process.stdout.write('skipped: install redis-server\n');
  }
}

const CALL_LIMIT = 10; // RATE_LIMIT_MAX: per IP and window, every tRPC call counts
const GDPR_LOCK_CLASS = 0x7e55_9d01; // packages/api/src/workers/gdpr-job-lock.ts
const ring = (): string => `v1:${randomBytes(32).toString('base64')}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
let ipCounter = 0;
/** A fresh client address per actor (TRUST_PROXY=true), so limits of one check never touch another. */
const nextIp = (): string => `198.51.100.${(ipCounter += 1)}`;

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

/** Polls `check` every `everyMs` until it returns true or `boundMs` passes; returns the time taken or null. */
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

describe.skipIf(!redisBinary)(
  'two API processes and two workers on one PostgreSQL and one Redis',
  () => {
    let home: string;
    let redis: RedisServer;
    let a: NodeChild, b: NodeChild, solo: NodeChild, w1: NodeChild, w2: NodeChild;
    const url = (api: NodeChild): string => api.ready[1] ?? '';
    const workerMetricsPorts = new Map<string, number>();
    let metricsToken = '';
    const children = (): NodeChild[] =>
      [a, b, solo, w1, w2].filter((c): c is NodeChild => c !== undefined);

    beforeAll(async () => {
      home = await mkdtemp(path.join(tmpdir(), 'tessera-cluster-'));
      redis = await startRedisServer(redisBinary ?? 'redis-server', home);
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
        APP_DATABASE_URL: db.appUrl,
        DATA_ENCRYPTION_KEYS: ring(),
        SESSION_SECRET: ring(),
        API_KEY_PEPPERS: ring(),
        AUDIT_SIGNING_KEY: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
        METRICS_TOKEN: randomBytes(24).toString('base64url'),
        RATE_LIMIT_MAX: String(CALL_LIMIT),
        RATE_LIMIT_WINDOW_SECONDS: '86400',
        // A loaded CI box must not turn a limit check into a 503 (load shedding has its own tests).
        LOAD_SHED_EVENT_LOOP_DELAY_MS: '0',
        // Workers: a processing request untouched for 2 s is dispatched again (its advisory lock
        // keeps a live run single), swept every second.
        GDPR_STALE_AFTER_SECONDS: '2',
        GDPR_DISPATCH_INTERVAL_SECONDS: '1',
      };
      const api = (name: string, extra: Record<string, string>): Promise<NodeChild> =>
        startNodeChild(
          name,
          path.join(dist, 'main.js'),
          { ...shared, TESSERA_HOME: path.join(home, name), IN_PROCESS_WORKERS: 'off', ...extra },
          /Tessera is listening on (http:\/\/[^"\s]+)/,
        );
      metricsToken = shared.METRICS_TOKEN;
      const worker = async (name: string): Promise<NodeChild> => {
        const port = await freePort();
        workerMetricsPorts.set(name, port);
        return startNodeChild(
          name,
          path.join(dist, 'worker.js'),
          { ...shared, TESSERA_HOME: path.join(home, name), METRICS_PORT: String(port) },
          /Tessera GDPR workers started/,
        );
      };
      // All at once: the database is migrated already, and the migrator is serialised by an advisory lock.
      const startedAt = performance.now();
      const started = await Promise.allSettled([
        api('api-a', { REDIS_URL: redis.url }),
        api('api-b', { REDIS_URL: redis.url }),
        api('api-solo', {}),
        worker('worker-1'),
        worker('worker-2'),
      ]);
      const ready = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure || ready.length !== 5) {
        await Promise.all(ready.map((child) => child.stop()));
        throw failure?.reason ?? new Error('a process did not start');
      }
      [a, b, solo, w1, w2] = ready as [NodeChild, NodeChild, NodeChild, NodeChild, NodeChild];
      process.stdout.write(
        `cluster: 3 API processes and 2 workers ready after ${Math.round(performance.now() - startedAt)} ms\n`,
      );
    }, 90_000);

    afterAll(async () => {
      await Promise.all(children().map((child) => child.stop()));
      await redis?.stop();
      await rm(home, { recursive: true, force: true });
    });

    /** A new tenant and its owner, signed up through `api`; returns the session cookie. */
    async function signUp(api: NodeChild, ip: string): Promise<{ cookie: string; email: string }> {
      const slug = `c-${randomBytes(4).toString('hex')}`;
      const email = `owner@${slug}.example.com`;
      const res = await call(url(api), 'auth.signUp', {
        ip,
        mutation: true,
        input: {
          tenantName: `Cluster ${slug}`,
          tenantSlug: slug,
          email,
          password: 'violet tangerine orbit seven lamp 42',
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.cookie).toBeDefined();
      return { cookie: res.cookie ?? '', email };
    }

    async function createKey(
      api: NodeChild,
      owner: { cookie: string },
      ip: string,
      rateLimit?: { max: number; windowSeconds: number },
    ): Promise<{ key: string; id: string }> {
      const input = {
        name: 'cluster',
        type: 'secret',
        environment: 'test',
        scopes: ['users:read'],
        ...(rateLimit ? { rateLimit } : {}),
      };
      const res = await call(url(api), 'apiKeys.create', {
        ip,
        mutation: true,
        cookie: owner.cookie,
        input,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return { key: res.body.result.data.key, id: res.body.result.data.apiKey.id };
    }

    test("a session created on one process works on the other, and signing out on one ends it on both (the other's cached copy within one second)", async () => {
      const ip = nextIp();
      const owner = await signUp(a, ip);
      const me = await call(url(b), 'auth.me', { ip, cookie: owner.cookie });
      expect(me.status).toBe(200);
      expect(me.body.result.data.user.email).toBe(owner.email);
      expect((await call(url(a), 'auth.me', { ip, cookie: owner.cookie })).status).toBe(200); // A's session cache holds it now
      expect(
        (await call(url(b), 'auth.signOut', { ip, mutation: true, cookie: owner.cookie })).status,
      ).toBe(200);
      expect((await call(url(b), 'auth.me', { ip, cookie: owner.cookie })).status).toBe(401); // B at once
      const probeIp = nextIp(); // polls count against a budget of their own
      const refusedAfterMs = await pollUntil(
        async () =>
          (await call(url(a), 'auth.me', { ip: probeIp, cookie: owner.cookie })).status === 401,
        1200,
      );
      expect(refusedAfterMs, 'A still accepted the signed-out session after 1.2 s').not.toBeNull();
      process.stdout.write(
        `cluster: signed-out session refused by the other process after ${Math.round(refusedAfterMs ?? -1)} ms\n`,
      );
    });

    test('the per-IP call limit is one budget across both API processes', async () => {
      const ip = nextIp();
      const statuses: number[] = [];
      for (let i = 0; i < CALL_LIMIT + 2; i += 1)
        statuses.push((await call(url(i % 2 === 0 ? a : b), 'health.check', { ip })).status);
      expect(statuses).toEqual([...Array<number>(CALL_LIMIT).fill(200), 429, 429]); // the last two: one on each process
    });

    test("a key's own rate limit is one budget across both API processes", async () => {
      const owner = await signUp(a, nextIp());
      const { key } = await createKey(a, owner, nextIp(), { max: 3, windowSeconds: 86_400 });
      const ip = nextIp();
      const answers: Answer[] = [];
      for (const api of [a, b, a, b, a])
        answers.push(await call(url(api), 'users.list', { ip, bearer: key }));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429, 429]);
      expect(answers[3]?.body.error.data.reason).toBe('api_key_rate_limited');
    });

    test('a key revoked through one process is refused by the other within one second', async () => {
      const ownerIp = nextIp();
      const owner = await signUp(a, ownerIp);
      const { key, id } = await createKey(a, owner, ownerIp);
      const ip = nextIp();
      expect((await call(url(b), 'users.list', { ip, bearer: key })).status).toBe(200); // B has it cached now
      expect(
        (
          await call(url(a), 'apiKeys.revoke', {
            ip: ownerIp,
            mutation: true,
            cookie: owner.cookie,
            input: { id },
          })
        ).status,
      ).toBe(200);
      const refusedAfterMs = await pollUntil(
        async () => (await call(url(b), 'users.list', { ip, bearer: key })).status === 401,
        1000 + 250,
      );
      expect(refusedAfterMs, 'B still accepted the revoked key after 1.25 s').not.toBeNull();
      process.stdout.write(
        `cluster: revoked key refused by the other process after ${Math.round(refusedAfterMs ?? -1)} ms\n`,
      );
    });

    test('without REDIS_URL a process keeps its own limits: the budget holds there and is not shared', async () => {
      const ip = nextIp();
      const statuses: number[] = [];
      for (let i = 0; i < CALL_LIMIT + 1; i += 1)
        statuses.push((await call(url(solo), 'health.check', { ip })).status);
      expect(statuses).toEqual([...Array<number>(CALL_LIMIT).fill(200), 429]);
      expect((await call(url(a), 'health.check', { ip })).status).toBe(200); // A counts in Redis, apart
    });

    test('an export whose worker is killed while it holds the job completes exactly once on the other worker', async () => {
      const ip = nextIp();
      const subject = await signUp(b, ip);
      // Hold the job deterministically: the export transaction waits on this table lock after the
      // request is claimed, while its worker holds the request's advisory lock.
      const blocker = await db.owner.pool.connect();
      let victim: NodeChild | undefined;
      let requestId = '';
      try {
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE public.privacy_export_chunks IN SHARE MODE');
        const res = await call(url(a), 'privacy.requestExport', {
          ip,
          mutation: true,
          cookie: subject.cookie,
          input: { format: 'json' },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        requestId = res.body.result.data.request.id;
        let holderPort: number | null = null;
        const held = await pollUntil(
          async () => {
            const { rows } = await db.owner.pool.query<{
              port: number | null;
              waiting: number;
              status: string;
            }>(
              `SELECT (SELECT a.client_port FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
                    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid::bigint = $2
                      AND l.objid::bigint = (pg_catalog.hashtext($1::text)::bigint & 4294967295)) AS port,
                  (SELECT count(*)::int FROM pg_catalog.pg_locks WHERE NOT granted AND relation = 'public.privacy_export_chunks'::regclass) AS waiting,
                  (SELECT status FROM public.privacy_requests WHERE id = $1::text::uuid) AS status`,
              [requestId, GDPR_LOCK_CLASS],
            );
            holderPort = rows[0]?.port ?? null;
            return (
              holderPort !== null && (rows[0]?.waiting ?? 0) > 0 && rows[0]?.status === 'processing'
            );
          },
          20_000,
          50,
        );
        expect(held, 'no worker picked the export up').not.toBeNull();
        const pid = await pidOwningLocalPort(holderPort ?? -1, [
          w1.process.pid ?? -1,
          w2.process.pid ?? -1,
        ]);
        victim = [w1, w2].find((w) => w.process.pid === pid);
        expect(victim, 'the advisory lock is held by neither worker').toBeDefined();
        expect(await victim?.kill('SIGKILL')).toBe('SIGKILL');
      } finally {
        await blocker.query('ROLLBACK').catch(() => undefined);
        blocker.release();
      }
      const survivor = victim === w1 ? w2 : w1;
      const doneAfterMs = await pollUntil(
        async () => {
          const { rows } = await db.owner.pool.query<{ status: string }>(
            'SELECT status FROM public.privacy_requests WHERE id = $1',
            [requestId],
          );
          return rows[0]?.status === 'completed';
        },
        45_000,
        100,
      );
      expect(
        doneAfterMs,
        `not completed; survivor log:\n${survivor.output().slice(-2000)}`,
      ).not.toBeNull();
      await sleep(2500); // more than a dispatch interval and the stale window: nothing runs it again
      const { rows } = await db.owner.pool.query(
        `SELECT r.status, r.attempts, r.export_chunks = (SELECT count(*) FROM public.privacy_export_chunks c WHERE c.request_id = r.id) AS consistent,
              (SELECT count(*)::int FROM public.audit_logs WHERE tenant_id = r.tenant_id AND action = 'privacy.export.completed') AS completions,
              (SELECT count(*)::int FROM public.email_outbox WHERE tenant_id = r.tenant_id AND template = 'privacy_export_ready') AS mails
         FROM public.privacy_requests r WHERE r.id = $1`,
        [requestId],
      );
      expect(rows[0]).toEqual({
        status: 'completed',
        attempts: 2,
        consistent: true,
        completions: 1,
        mails: 1,
      });
      // The survivor's own /metrics (METRICS_PORT) saw the completed run.
      const scrape = await fetch(
        `http://127.0.0.1:${workerMetricsPorts.get(survivor.name) ?? 0}/metrics`,
        { headers: { authorization: `Bearer ${metricsToken}` } },
      );
      expect(await scrape.text()).toMatch(
        /^tessera_job_duration_seconds_count\{queue="gdpr-export",outcome="completed"\} 1$/m,
      );
      process.stdout.write(
        `cluster: export completed by the surviving worker ${Math.round(doneAfterMs ?? -1)} ms after the kill\n`,
      );
    }, 90_000);
  },
);
