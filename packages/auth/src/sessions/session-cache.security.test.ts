// Attack: a session is signed out, revoked, its user disabled or demoted, or its tenant's policy
// raised, but an API process keeps honouring it from its in-process cache. Every such change must
// reach every process within one second through the triggers of migration 0024 (LISTEN/NOTIFY), a
// process that cannot hear notifications must stop caching, a lookup racing a change must not be
// cached, and no entry may outlive the session's own idle or absolute expiry.
// docs/design.md "Decisions" (policy changes apply at the next request), "Benchmarks"; ASVS V3.3.1, V3.3.2.
import { randomUUID } from 'node:crypto';
import { mfaTotp, tenants, users, type ResolvedSession } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, afterEach, expect, test, vi } from 'vitest';
import { DEFAULT_SECURITY_POLICY } from '../tenants/security-policy.js';
import { createSession } from './create-session.js';
import { revokeSession, revokeUserSessions } from './revoke-sessions.js';
import { SessionCache, type SessionCacheOptions } from './session-cache.js';
import { hashSessionToken } from './session-token.js';

const db = useTestDatabase();
const BOUND_MS = 1_000;
const MARGIN_MS = 250;
const opened: { pool: pg.Pool; cache: SessionCache }[] = [];

/** A cache on its own pool: a second process as far as the database can tell. */
async function process(
  options: SessionCacheOptions = {},
): Promise<{ pool: pg.Pool; cache: SessionCache }> {
  const pool = new pg.Pool({ connectionString: db.appUrl, max: 3 });
  pool.on('error', () => undefined); // an idle client killed by a test's terminate: see createDatabase
  const cache = new SessionCache(pool, { heartbeatMs: 500, ...options });
  await cache.start();
  opened.push({ pool, cache });
  return { pool, cache };
}

afterEach(() => vi.restoreAllMocks());
afterAll(async () => {
  for (const { pool, cache } of opened) {
    await cache.close();
    await pool.end();
  }
});

async function seedSession(role: 'owner' | 'member' = 'member', tenantId?: string) {
  const tenant = tenantId ?? (await db.seedTenant()).id;
  const userId = randomUUID();
  await db.withTenant(tenant, (tx) =>
    tx
      .insert(users)
      .values({ id: userId, tenantId: tenant, email: `u-${userId.slice(0, 8)}@example.com`, role }),
  );
  const created = await db.withTenant(tenant, (tx) =>
    createSession(
      tx,
      DEFAULT_SECURITY_POLICY,
      { userId, aal: 1, ip: null, userAgent: null },
      new Date(),
    ),
  );
  return {
    tenantId: tenant,
    userId,
    sessionId: created.sessionId,
    hash: hashSessionToken(created.token),
  };
}

/** Resolves once and reports whether the answer came without any query on the cache's pool. */
async function resolveCounting(
  target: { pool: pg.Pool; cache: SessionCache },
  hash: Buffer,
): Promise<{ session: ResolvedSession | null; queries: number }> {
  const spy = vi.spyOn(target.pool, 'query');
  try {
    const session = await target.cache.resolve(hash);
    return { session, queries: spy.mock.calls.length };
  } finally {
    spy.mockRestore();
  }
}

/** Polls until `check` holds; returns the milliseconds it took, or throws after bound + margin. */
async function within(boundMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started <= boundMs + MARGIN_MS) {
    if (await check()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`not seen within ${boundMs} ms + ${MARGIN_MS} ms`);
}

/** Caches the session in `target` and proves the next answer is a hit. */
async function cacheIn(
  target: { pool: pg.Pool; cache: SessionCache },
  hash: Buffer,
): Promise<void> {
  expect(await target.cache.resolve(hash)).not.toBeNull();
  const hit = await resolveCounting(target, hash);
  expect(hit.session).not.toBeNull();
  expect(hit.queries).toBe(0);
}

test('a cache hit answers without a database round trip', async () => {
  const b = await process();
  const s = await seedSession();
  const miss = await resolveCounting(b, s.hash);
  expect(miss).toMatchObject({ session: { sessionId: s.sessionId }, queries: 1 });
  const hit = await resolveCounting(b, s.hash);
  expect(hit).toMatchObject({
    session: { sessionId: s.sessionId, userId: s.userId, role: 'member' },
    queries: 0,
  });
});

test('a revocation committed through another pool is refused by the cache within one second', async () => {
  const b = await process();
  const s = await seedSession();
  await cacheIn(b, s.hash);
  await db.withTenant(s.tenantId, (tx) =>
    revokeSession(tx, s.userId, s.sessionId, 'sign_out', new Date()),
  );
  expect(
    await within(BOUND_MS, async () => (await b.cache.resolve(s.hash)) === null),
  ).toBeLessThanOrEqual(BOUND_MS + MARGIN_MS);
});

test("revoking all of a user's sessions, disabling the user or changing their role is seen within one second", async () => {
  const b = await process();
  const revoked = await seedSession();
  const disabled = await seedSession();
  const demoted = await seedSession('owner');
  for (const s of [revoked, disabled, demoted]) await cacheIn(b, s.hash);
  await db.withTenant(revoked.tenantId, (tx) =>
    revokeUserSessions(tx, revoked.userId, 'password_reset', new Date()),
  );
  await db.withTenant(disabled.tenantId, (tx) =>
    tx.update(users).set({ disabledAt: new Date() }).where(eq(users.id, disabled.userId)),
  );
  await db.withTenant(demoted.tenantId, (tx) =>
    tx.update(users).set({ role: 'member' }).where(eq(users.id, demoted.userId)),
  );
  await within(BOUND_MS, async () => (await b.cache.resolve(revoked.hash)) === null);
  await within(BOUND_MS, async () => (await b.cache.resolve(disabled.hash)) === null);
  await within(BOUND_MS, async () => (await b.cache.resolve(demoted.hash))?.role === 'member');
});

test("raising the tenant's MFA requirement restricts every cached session of the tenant within one second", async () => {
  const b = await process();
  const first = await seedSession();
  const second = await seedSession('member', first.tenantId);
  for (const s of [first, second]) await cacheIn(b, s.hash);
  await db.withTenant(first.tenantId, (tx) =>
    tx.update(tenants).set({ securityPolicy: { mfaRequired: 'all' } }),
  );
  for (const s of [first, second])
    await within(BOUND_MS, async () => (await b.cache.resolve(s.hash))?.enrollmentOnly === true);
});

test('a second factor added elsewhere is reflected within one second (mfaEnabled decides step-up)', async () => {
  const b = await process();
  const s = await seedSession();
  await cacheIn(b, s.hash);
  expect((await b.cache.resolve(s.hash))?.mfaEnabled).toBe(false);
  await db.withTenant(s.tenantId, (tx) =>
    tx.insert(mfaTotp).values({ tenantId: s.tenantId, userId: s.userId, enabledAt: new Date() }),
  );
  await within(BOUND_MS, async () => (await b.cache.resolve(s.hash))?.mfaEnabled === true);
});

test('a lookup racing a revocation is answered but not cached', async () => {
  const b = await process();
  const s = await seedSession();
  const query = b.pool.query.bind(b.pool) as (...args: unknown[]) => Promise<unknown>;
  // The lookup's answer is in hand; before it reaches the cache, the session is revoked elsewhere
  // and the notification arrives.
  const racing = async (...args: unknown[]): Promise<unknown> => {
    const answer = await query(...args);
    const before = b.cache.generation;
    await db.withTenant(s.tenantId, (tx) =>
      revokeSession(tx, s.userId, s.sessionId, 'revoked', new Date()),
    );
    await within(BOUND_MS, async () => b.cache.generation !== before);
    return answer;
  };
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the spy is typed by pool.query's callback overload; pg returns this promise
  vi.spyOn(b.pool, 'query').mockImplementationOnce(racing);
  expect(await b.cache.resolve(s.hash)).toMatchObject({ sessionId: s.sessionId }); // as without a cache
  vi.restoreAllMocks();
  expect(b.cache.size).toBe(0);
  expect(await resolveCounting(b, s.hash)).toEqual({ session: null, queries: 1 });
});

test('after its LISTEN connection dies the cache serves nothing until LISTEN is back', async () => {
  const b = await process();
  const revoked = await seedSession();
  const live = await seedSession();
  for (const s of [revoked, live]) await cacheIn(b, s.hash);
  const { rows } = await db.owner.pool.query<{ ok: boolean }>(
    "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'tessera-session-listener' AND datname = current_database()",
  );
  expect(rows.length).toBeGreaterThan(0);
  // Committed while the listener is gone: its notification is lost, the flush must cover it.
  await db.withTenant(revoked.tenantId, (tx) =>
    revokeSession(tx, revoked.userId, revoked.sessionId, 'revoked', new Date()),
  );
  await within(BOUND_MS, async () => !b.cache.listening);
  const queries: number[] = [];
  while (!b.cache.listening) {
    expect(await b.cache.resolve(revoked.hash)).toBeNull();
    const answer = await resolveCounting(b, live.hash);
    expect(answer.session).not.toBeNull();
    if (!b.cache.listening) queries.push(answer.queries);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(queries.length).toBeGreaterThan(0);
  expect(
    queries.every((n) => n === 1),
    'a request was answered from the cache while deaf',
  ).toBe(true);
  expect(await b.cache.resolve(revoked.hash)).toBeNull();
  await cacheIn(b, live.hash); // LISTEN is back: caching again
});

test("an entry never serves past the session's idle expiry", async () => {
  const b = await process();
  const s = await seedSession();
  await db.owner.pool.query(
    `UPDATE tenants SET security_policy = '{"sessionIdleMinutes": 1}' WHERE id = $1`,
    [s.tenantId],
  );
  // 58.5 s idle of 60: too recent for resolve_session to bump, 1.5 s before it expires.
  await db.owner.pool.query(
    "UPDATE sessions SET last_activity_at = now() - interval '58.5 seconds' WHERE id = $1",
    [s.sessionId],
  );
  await expectServedUntilExpiry(b, s.hash);
});

test("an entry never serves past the session's absolute expiry", async () => {
  const b = await process();
  const s = await seedSession();
  await db.owner.pool.query(
    "UPDATE sessions SET created_at = now() - interval '8 hours' + interval '1.5 seconds' WHERE id = $1",
    [s.sessionId],
  );
  await expectServedUntilExpiry(b, s.hash);
});

async function expectServedUntilExpiry(
  target: { pool: pg.Pool; cache: SessionCache },
  hash: Buffer,
): Promise<void> {
  const first = await target.cache.resolve(hash);
  expect(first).not.toBeNull();
  const expiresAt = first?.expiresAt.getTime() ?? 0;
  let hits = 0;
  await within(1_500, async () => {
    const askedAt = Date.now();
    const { session, queries } = await resolveCounting(target, hash);
    if (session !== null && queries === 0) {
      hits += 1;
      expect(askedAt, 'a cached entry was served past the session expiry').toBeLessThan(expiresAt);
    }
    return session === null;
  });
  expect(hits).toBeGreaterThan(0);
  expect(await target.cache.resolve(hash)).toBeNull();
}

test('the cache is bounded: the least recently used entry goes first', async () => {
  const b = await process({ maxEntries: 3 });
  const seeded = [
    await seedSession(),
    await seedSession(),
    await seedSession(),
    await seedSession(),
  ];
  for (const s of seeded.slice(0, 3)) await b.cache.resolve(s.hash);
  expect((await resolveCounting(b, seeded[0]?.hash ?? Buffer.alloc(0))).queries).toBe(0); // now the most recent
  await b.cache.resolve(seeded[3]?.hash ?? Buffer.alloc(0));
  expect(b.cache.size).toBe(3);
  expect((await resolveCounting(b, seeded[1]?.hash ?? Buffer.alloc(0))).queries).toBe(1); // evicted
  expect((await resolveCounting(b, seeded[0]?.hash ?? Buffer.alloc(0))).queries).toBe(0);
});

test('a session used only through cache hits still records activity (refreshed off the response path)', async () => {
  const b = await process({ refreshAfterMs: 100 });
  const s = await seedSession();
  await db.owner.pool.query(
    "UPDATE sessions SET last_activity_at = now() - interval '58.8 seconds' WHERE id = $1",
    [s.sessionId],
  );
  const activity = async (): Promise<number> =>
    (
      await db.owner.pool.query<{ at: Date }>(
        'SELECT last_activity_at AS at FROM sessions WHERE id = $1',
        [s.sessionId],
      )
    ).rows[0]?.at.getTime() ?? 0;
  await b.cache.resolve(s.hash);
  const backdated = await activity(); // the miss came too early to bump
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // now a minute has passed
  expect((await resolveCounting(b, s.hash)).session).not.toBeNull(); // answered from the cache...
  await within(BOUND_MS, async () => (await activity()) > backdated); // ...and resolve_session ran behind it
});
