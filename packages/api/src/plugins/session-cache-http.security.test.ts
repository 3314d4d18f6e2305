// Attack: a stolen or ended session keeps working on another API process because that process
// answers from its session cache. Two servers on one database (two processes, each with its own
// pool and LISTEN connection): sign-out, revocation, disabling, demotion and a raised MFA policy
// through one must be refused by the other within one second; the process that made the change
// must refuse at once; a cache hit costs no resolve_session; routes that need no principal never
// resolve one. docs/design.md "Decisions" (policy applies at the next request), "Tests and CI"; ASVS V3.3.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createSession } from '@tessera/auth/sessions';
import { DEFAULT_SECURITY_POLICY } from '@tessera/auth/tenants';
import { signUpOwner, testServices } from '@tessera/api-contract/testing';
import { createDatabase, users, type Database } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';

const db = useTestDatabase();
const services = testServices();
const BOUND_MS = 1_000;
const MARGIN_MS = 250;
const config = {
  ...defaultApiConfig,
  logLevel: 'silent',
  rateLimit: { max: 100_000, windowMs: 60_000 },
};
const json = { 'content-type': 'application/json' };
let a: FastifyInstance;
let b: FastifyInstance;
let bDatabase: Database;

beforeAll(async () => {
  bDatabase = createDatabase(db.appUrl, { max: 3 });
  a = await buildServer(config, { database: db.app, services });
  b = await buildServer(config, { database: bDatabase, services });
  await Promise.all([a.ready(), b.ready()]);
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
  await bDatabase.close();
});

let signUps = 0;
/** Sign-ups are limited per IP: each owner comes from an address of its own. */
const newOwner = () => signUpOwner(db.app, { services, ip: `198.51.100.${(signUps += 1)}` });
const me = (app: FastifyInstance, token: string) =>
  app.inject({ url: '/trpc/auth.me', cookies: { tessera_session: token } });
const mutate = (app: FastifyInstance, procedure: string, token: string, payload: unknown = {}) =>
  app.inject({
    method: 'POST',
    url: `/trpc/${procedure}`,
    cookies: { tessera_session: token },
    headers: json,
    payload: JSON.stringify(payload),
  });

/** resolve_session calls made on `database`'s pool while `work` runs. */
async function resolverCalls(database: Database, work: () => Promise<unknown>): Promise<number> {
  const spy = vi.spyOn(database.pool, 'query');
  try {
    await work();
    return spy.mock.calls.filter(([query]) => JSON.stringify(query).includes('resolve_session'))
      .length;
  } finally {
    spy.mockRestore();
  }
}

/** Polls `app` until `refused` holds; fails after the bound plus a margin. */
async function refusedWithin(check: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  while (Date.now() - started <= BOUND_MS + MARGIN_MS) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`still accepted after ${BOUND_MS} ms + ${MARGIN_MS} ms`);
}

/** A member of the owner's tenant with a session of their own. */
async function memberOf(tenantId: string): Promise<{ userId: string; token: string }> {
  const userId = randomUUID();
  await db.withTenant(tenantId, (tx) =>
    tx.insert(users).values({
      id: userId,
      tenantId,
      email: `m-${userId.slice(0, 8)}@example.com`,
      role: 'admin',
    }),
  );
  const { token } = await db.withTenant(tenantId, (tx) =>
    createSession(
      tx,
      DEFAULT_SECURITY_POLICY,
      { userId, aal: 1, ip: null, userAgent: null },
      new Date(),
    ),
  );
  return { userId, token };
}

/** Caches the session on B and proves the next request there is a hit. */
async function cachedOnB(token: string): Promise<void> {
  expect((await me(b, token)).statusCode).toBe(200);
  expect(
    await resolverCalls(bDatabase, async () => expect((await me(b, token)).statusCode).toBe(200)),
  ).toBe(0);
}

describe('a change through one server is honoured by the other within one second', () => {
  test('sign-out', async () => {
    const owner = await newOwner();
    await cachedOnB(owner.token);
    expect((await mutate(a, 'auth.signOut', owner.token)).statusCode).toBe(200);
    await refusedWithin(async () => (await me(b, owner.token)).statusCode === 401);
  });

  test('revoking the other sessions', async () => {
    const owner = await newOwner();
    const other = await newOwner(); // another tenant: untouched
    const second = await db.withTenant(owner.tenant.id, (tx) =>
      createSession(
        tx,
        DEFAULT_SECURITY_POLICY,
        { userId: owner.user.id, aal: 1, ip: null, userAgent: null },
        new Date(),
      ),
    );
    for (const token of [second.token, other.token]) await cachedOnB(token);
    expect((await mutate(a, 'sessions.revokeOthers', owner.token)).statusCode).toBe(200);
    await refusedWithin(async () => (await me(b, second.token)).statusCode === 401);
    expect((await me(b, other.token)).statusCode).toBe(200);
  });

  test('disabling a user and changing a role', async () => {
    const owner = await newOwner();
    const leaver = await memberOf(owner.tenant.id);
    const demoted = await memberOf(owner.tenant.id);
    for (const m of [leaver, demoted]) await cachedOnB(m.token);
    expect(
      (await mutate(a, 'users.disable', owner.token, { userId: leaver.userId })).statusCode,
    ).toBe(200);
    expect(
      (await mutate(a, 'users.setRole', owner.token, { userId: demoted.userId, role: 'member' }))
        .statusCode,
    ).toBe(200);
    await refusedWithin(async () => (await me(b, leaver.token)).statusCode === 401);
    // A role change revokes the user's sessions (a new token at every privilege change).
    await refusedWithin(async () => {
      const res = await me(b, demoted.token);
      return res.statusCode === 401 || res.json().result?.data?.user?.role === 'member';
    });
  });

  test('raising the MFA requirement restricts live sessions', async () => {
    const owner = await newOwner();
    const admin = await memberOf(owner.tenant.id);
    await cachedOnB(admin.token);
    expect(
      (await b.inject({ url: '/trpc/users.list', cookies: { tessera_session: admin.token } }))
        .statusCode,
    ).toBe(200);
    expect(
      (await mutate(a, 'tenant.updateSecurityPolicy', owner.token, { mfaRequired: 'admins' }))
        .statusCode,
    ).toBe(200);
    await refusedWithin(async () => {
      const res = await b.inject({
        url: '/trpc/users.list',
        cookies: { tessera_session: admin.token },
      });
      return res.statusCode === 403 && res.json().error?.data?.reason === 'mfa_enrollment_required';
    });
  });
});

describe('auth.me, kept with the cached session, shows a change made anywhere within one second', () => {
  /** Polls B's auth.me until `shows` holds for its data; fails after the bound plus a margin. */
  const showsWithin = (
    token: string,
    shows: (data: {
      user: { email: string; displayName: string | null; mfaEnabled: boolean };
      tenant: { slug: string; name: string };
    }) => boolean,
  ) =>
    refusedWithin(async () => {
      const res = await me(b, token);
      return res.statusCode === 200 && shows(res.json().result.data);
    });

  test('a display name and an e-mail address changed in the database, even by hand as the owner', async () => {
    const owner = await newOwner();
    await cachedOnB(owner.token);
    await db.owner.pool.query("UPDATE users SET display_name = 'Renamed Owner' WHERE id = $1", [
      owner.user.id,
    ]);
    await showsWithin(owner.token, (data) => data.user.displayName === 'Renamed Owner');
    await db.owner.pool.query("UPDATE users SET email = 'moved@example.com' WHERE id = $1", [
      owner.user.id,
    ]);
    await showsWithin(owner.token, (data) => data.user.email === 'moved@example.com');
  });

  test("the tenant's name and slug", async () => {
    const owner = await newOwner();
    const member = await memberOf(owner.tenant.id);
    for (const token of [owner.token, member.token]) await cachedOnB(token);
    const slug = `renamed-${randomUUID().slice(0, 8)}`;
    await db.owner.pool.query("UPDATE tenants SET name = 'Renamed Inc', slug = $2 WHERE id = $1", [
      owner.tenant.id,
      slug,
    ]);
    for (const token of [owner.token, member.token])
      await showsWithin(
        token,
        (data) => data.tenant.name === 'Renamed Inc' && data.tenant.slug === slug,
      );
  });

  test('a second factor added', async () => {
    const owner = await newOwner();
    await cachedOnB(owner.token);
    await db.owner.pool.query(
      "INSERT INTO webauthn_credentials (tenant_id, user_id, credential_id, public_key, device_type, name) VALUES ($1, $2, 'cred-me', '\\x00', 'multiDevice', 'Key')",
      [owner.tenant.id, owner.user.id],
    );
    await showsWithin(owner.token, (data) => data.user.mfaEnabled);
  });

  test('a cached session answers auth.me from memory: no database round trip at all', async () => {
    const owner = await newOwner();
    await cachedOnB(owner.token);
    const spy = vi.spyOn(bDatabase.pool, 'connect');
    const query = vi.spyOn(bDatabase.pool, 'query');
    try {
      expect((await me(b, owner.token)).statusCode).toBe(200);
      expect(spy).not.toHaveBeenCalled();
      expect(query).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      query.mockRestore();
    }
  });
});

test('the server that signs a session out refuses it on the very next request', async () => {
  for (let i = 0; i < 5; i += 1) {
    const owner = await newOwner();
    expect((await me(a, owner.token)).statusCode).toBe(200); // cached on A
    expect((await mutate(a, 'auth.signOut', owner.token)).statusCode).toBe(200);
    expect((await me(a, owner.token)).statusCode).toBe(401);
  }
});

test('a cached session costs no resolve_session round trip', async () => {
  const owner = await newOwner();
  expect(await resolverCalls(bDatabase, () => me(b, owner.token))).toBe(1);
  expect(await resolverCalls(bDatabase, () => me(b, owner.token))).toBe(0);
});

test('console files, health probes and unknown paths resolve no principal; API routes still do', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'tessera-console-'));
  mkdirSync(path.join(root, 'assets'));
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(path.join(root, 'assets', 'app-1a2b3c.js'), 'export {};');
  const database = createDatabase(db.appUrl, { max: 2 });
  const app = await buildServer(config, { database, services, consoleRoot: root });
  try {
    const cookies = { tessera_session: 'x'.repeat(43) }; // well formed, unknown: every resolution is a miss
    for (const url of [
      '/',
      '/assets/app-1a2b3c.js',
      '/settings/keys',
      '/healthz',
      '/no-such-file.txt',
    ]) {
      expect(
        await resolverCalls(database, () =>
          app.inject({ url, cookies, headers: { accept: 'text/html' } }),
        ),
        url,
      ).toBe(0);
    }
    for (const url of ['/trpc/auth.me', '/audit/export', '/privacy/downloads/x']) {
      expect(await resolverCalls(database, () => app.inject({ url, cookies })), url).toBe(1);
    }
  } finally {
    await app.close();
    await database.close();
    rmSync(root, { recursive: true, force: true });
  }
});
