// Attacks over HTTP with Bearer keys: probing for valid keys (one identical 401 for unknown,
// malformed, revoked and expired keys), a stolen key used from outside its IPv4/IPv6 allowlist,
// one hot key starving others, smuggling a key next to a victim's session cookie, a key of
// tenant A reading tenant B, and a revoked key still honoured by another API process.
// docs/design.md rules 1, 3-5, "Requests"; ASVS V4.1, V11.1, V13.2.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import cookie from '@fastify/cookie';
import { generateKeyringSpec } from '@tessera/auth';
import { testServices } from '@tessera/api-contract/testing';
import { createDatabase, users, type Database } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
// WIRING: becomes '@tessera/auth/api-keys' once packages/auth/package.json exports it.
import {
  createApiKey,
  createApiKeyVerifier,
  generateApiKey,
  parsePepperRing,
  revokeApiKey,
  type CreateApiKeyParams,
} from '@tessera/auth/api-keys';
import { loggerOptions } from '../logger.js';
import { apiKeyPlugin } from './api-key.js';
import { principalPlugin } from './principal.js';
import { sessionResolver } from './session-cookie.js';
import { trpcPlugin } from './trpc.js';

const db = useTestDatabase();
const peppers = parsePepperRing(generateKeyringSpec(1));
const services = Object.assign(testServices(), { apiKeys: { peppers } });
const now = new Date('2026-03-01T12:00:00Z');
let clock = now;
const logLines: string[] = [];
const apps: { app: FastifyInstance; database: Database }[] = [];
let app: FastifyInstance;

async function buildApp(): Promise<FastifyInstance> {
  const database = createDatabase(db.appUrl, { max: 4 });
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  const instance = Fastify({ logger: loggerOptions({ level: 'info', stream }) });
  const clockNow = () => clock;
  await instance.register(cookie);
  await instance.register(principalPlugin, {
    resolvers: [sessionResolver(database, 'tessera_session')],
  });
  const verifier = createApiKeyVerifier({
    pool: database.pool,
    peppers,
    refusalAuditIntervalMs: 0,
    cache: { heartbeatMs: 500 },
  });
  await instance.register(apiKeyPlugin, { verifier, cookieName: 'tessera_session', now: clockNow });
  await instance.register(trpcPlugin, {
    database,
    services,
    cookieName: 'tessera_session',
    now: clockNow,
  });
  instance.get('/whoami', async (request) => ({ principal: request.principal }));
  await instance.ready();
  apps.push({ app: instance, database });
  return instance;
}

beforeAll(async () => {
  app = await buildApp();
});
afterAll(async () => {
  for (const entry of apps) {
    await entry.app.close();
    await entry.database.close();
  }
});

async function seedTenantWithOwner() {
  const tenant = await db.seedTenant();
  const userId = randomUUID();
  await db.withTenant(tenant.id, (tx) =>
    tx.insert(users).values({
      id: userId,
      tenantId: tenant.id,
      email: `o-${userId.slice(0, 8)}@example.com`,
      role: 'owner',
    }),
  );
  return { tenantId: tenant.id, userId, owner: { type: 'user', id: userId } as const };
}
let shared: Awaited<ReturnType<typeof seedTenantWithOwner>> | undefined;

/** Keys share one tenant unless a test needs its own (isolation): fewer round trips. */
async function seedKey(params: Partial<CreateApiKeyParams> = {}, ownTenant = false) {
  const tenant = ownTenant ? await seedTenantWithOwner() : (shared ??= await seedTenantWithOwner());
  const minted = await db.withTenant(tenant.tenantId, (tx) =>
    createApiKey(
      tx,
      { actor: tenant.owner, deps: { peppers }, now: clock },
      { name: 'srv', type: 'secret', environment: 'live', scopes: ['users:read'], ...params },
    ),
  );
  return { ...tenant, ...minted };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const get = (
  target: FastifyInstance,
  url: string,
  headers: Record<string, string>,
  remoteAddress = '203.0.113.7',
) => target.inject({ method: 'GET', url, headers, remoteAddress });

describe('refusals', () => {
  test('unknown, malformed, mistyped, revoked and expired keys all get the same 401', async () => {
    clock = now;
    const revoked = await seedKey();
    await db.withTenant(revoked.tenantId, (tx) =>
      revokeApiKey(tx, revoked.owner, revoked.apiKey.id, clock),
    );
    const expired = await seedKey({ expiresAt: new Date(now.getTime() + 1000) });
    const live = await seedKey();
    const typo = live.key.slice(0, -1) + (live.key.endsWith('a') ? 'b' : 'a');
    const unknown = generateApiKey('secret', 'live').key; // well-formed, never stored
    clock = new Date(now.getTime() + 1000);
    const answers = [];
    for (const key of [
      revoked.key,
      expired.key,
      typo,
      unknown,
      'sk_live_short',
      `${live.key} extra`,
    ]) {
      const res = await get(app, '/trpc/users.list', bearer(key));
      answers.push({ status: res.statusCode, body: res.body });
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]?.status).toBe(401);
    expect(JSON.parse(answers[0]?.body ?? '')).toMatchObject({
      error: {
        message: 'Invalid API key.',
        data: { code: 'UNAUTHORIZED', reason: 'api_key_invalid' },
      },
    });
    expect((await get(app, '/trpc/users.list', bearer(live.key))).statusCode).toBe(200);
  });

  test('an allowlisted key is refused with 403 outside its IPv4 and IPv6 ranges and served inside them', async () => {
    clock = now;
    const { key } = await seedKey({ allowedCidrs: ['203.0.113.0/24', '2001:db8:5::/48'] });
    expect((await get(app, '/whoami', bearer(key), '203.0.113.99')).statusCode).toBe(200);
    expect((await get(app, '/whoami', bearer(key), '2001:db8:5:1::2')).statusCode).toBe(200);
    expect((await get(app, '/whoami', bearer(key), '::ffff:203.0.113.5')).statusCode).toBe(200);
    for (const ip of ['198.51.100.1', '2001:db8:6::1', '::ffff:198.51.100.1']) {
      const res = await get(app, '/whoami', bearer(key), ip);
      expect(res.statusCode, ip).toBe(403);
      expect(res.json()).toMatchObject({
        error: { data: { code: 'FORBIDDEN', reason: 'api_key_forbidden' } },
      });
    }
  });

  test('a key at its limit answers 429 with Retry-After, each call of a batch counts, and other keys are unaffected', async () => {
    clock = now;
    const hot = await seedKey({ rateLimit: { max: 3, windowSeconds: 30 } });
    const calm = await seedKey({ rateLimit: { max: 3, windowSeconds: 30 } });
    expect(
      (await get(app, '/trpc/users.list,users.list?batch=1&input={}', bearer(hot.key))).statusCode,
    ).toBe(200);
    expect((await get(app, '/whoami', bearer(hot.key))).statusCode).toBe(200);
    const limited = await get(app, '/trpc/users.list?batch=1&input={}', bearer(hot.key));
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('30');
    expect(limited.json()).toEqual([
      expect.objectContaining({
        error: expect.objectContaining({
          data: expect.objectContaining({ reason: 'api_key_rate_limited' }),
        }),
      }),
    ]);
    for (let i = 0; i < 3; i += 1)
      expect((await get(app, '/whoami', bearer(calm.key))).statusCode).toBe(200);
  });

  test('an exhausted quota answers 429 with its own reason', async () => {
    clock = now;
    const { key } = await seedKey({ quota: { remaining: 1 } });
    expect((await get(app, '/whoami', bearer(key))).statusCode).toBe(200);
    const res = await get(app, '/whoami', bearer(key));
    expect(res.statusCode).toBe(429);
    expect(res.json()).toMatchObject({ error: { data: { reason: 'api_key_quota_exhausted' } } });
  });

  test('a request carrying both the session cookie and a key is refused, whichever is valid', async () => {
    clock = now;
    const { key } = await seedKey();
    const res = await get(app, '/whoami', {
      ...bearer(key),
      cookie: 'theme=dark; tessera_session=anything',
    });
    expect(res.statusCode).toBe(401);
    expect(
      (await get(app, '/whoami', { ...bearer(key), cookie: 'theme=dark' })).json(),
    ).toMatchObject({ principal: { kind: 'api_key' } });
  });
});

describe('isolation, propagation and logs', () => {
  test("a key of tenant A reads only tenant A's users; a key without the scope is forbidden by the procedure", async () => {
    clock = now;
    const a = await seedKey({}, true);
    const b = await seedKey({}, true);
    const res = await get(app, '/trpc/users.list', bearer(a.key));
    expect(res.statusCode).toBe(200);
    expect(
      res
        .json<{ result: { data: { items: { id: string }[] } } }>()
        .result.data.items.map((u) => u.id),
    ).toEqual([a.userId]);
    expect(res.body).not.toContain(b.userId);
    const unscoped = await seedKey({ scopes: ['audit:read'] });
    expect((await get(app, '/trpc/users.list', bearer(unscoped.key))).statusCode).toBe(403);
  });

  test('a revocation is seen by a second server instance (own pool and plugin) within one second', async () => {
    clock = now;
    const second = await buildApp();
    const { key, apiKey, tenantId, owner } = await seedKey();
    for (const target of [app, second])
      expect((await get(target, '/whoami', bearer(key))).statusCode).toBe(200);
    await db.withTenant(tenantId, (tx) => revokeApiKey(tx, owner, apiKey.id, clock));
    const started = Date.now();
    while ((await get(second, '/whoami', bearer(key))).statusCode !== 401) {
      if (Date.now() - started > 1_250) throw new Error('revocation not seen within 1 s + margin');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(Date.now() - started).toBeLessThanOrEqual(1_000);
  });

  test('no log line holds a key, refused or accepted', async () => {
    clock = now;
    const { key } = await seedKey({ allowedCidrs: ['203.0.113.0/24'] });
    await get(app, '/whoami', bearer(key));
    await get(app, '/whoami', bearer(key), '198.51.100.1');
    await get(app, '/whoami', bearer(`${key.slice(0, -1)}x`));
    expect(logLines.join('\n')).toContain('api key refused');
    expect(logLines.join('\n')).not.toContain(key.slice(12, 40));
  });
});
