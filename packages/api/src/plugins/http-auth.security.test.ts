// Attacks over HTTP: cross-site request forgery of cookie-authenticated mutations and of sign-in
// itself (login CSRF), session cookies without the right flags, secrets in logs, and per-call
// limits dodged by batching, and private answers kept by a shared or browser cache.
// docs/design.md "Requests", rule 4; ASVS V3.4, V4.2.2, V7.1.1, V8.2.1.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { createApiKey } from '@tessera/auth/api-keys';
import { signUpOwner, STRONG_PASSWORD, testServices } from '@tessera/api-contract/testing';
import { useTestDatabase } from '@tessera/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';

const db = useTestDatabase();
const logLines: string[] = [];
let app: FastifyInstance;
const services = testServices();

beforeAll(async () => {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  app = await buildServer(
    { ...defaultApiConfig, logLevel: 'info' },
    { database: db.app, services, logStream: stream },
  );
});
afterAll(async () => app.close());

const json = { 'content-type': 'application/json' };

async function signIn(slug: string, email: string, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/trpc/auth.signIn',
    headers: { ...json, ...headers },
    payload: { tenantSlug: slug, email, password: STRONG_PASSWORD },
  });
}

describe('session cookie', () => {
  test('sign-in over HTTP sets an httpOnly, Secure, SameSite=Lax cookie on Path=/', async () => {
    const owner = await signUpOwner(db.app, { services });
    const res = await signIn(owner.tenant.slug, owner.user.email, {
      origin: 'http://localhost:3000',
    });
    expect(res.statusCode).toBe(200);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^tessera_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/');
    const token = /tessera_session=([^;]+)/.exec(cookie)?.[1] ?? '';
    const me = await app.inject({ url: '/trpc/auth.me', cookies: { tessera_session: token } });
    expect(me.json()).toMatchObject({ result: { data: { user: { id: owner.user.id } } } });
    const asBearer = await app.inject({
      url: '/trpc/auth.me',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(asBearer.statusCode).toBe(401);
  });
});

describe('cross-site requests', () => {
  test('a cross-site sign-in (login CSRF) is refused; same-origin is accepted', async () => {
    const owner = await signUpOwner(db.app, { services });
    expect(
      (await signIn(owner.tenant.slug, owner.user.email, { 'sec-fetch-site': 'cross-site' }))
        .statusCode,
    ).toBe(403);
    expect(
      (await signIn(owner.tenant.slug, owner.user.email, { origin: 'https://evil.example' }))
        .statusCode,
    ).toBe(403);
    expect((await signIn(owner.tenant.slug, owner.user.email, { origin: 'null' })).statusCode).toBe(
      403,
    );
    expect(
      (
        await signIn(owner.tenant.slug, owner.user.email, {
          origin: 'http://localhost:3000',
          'sec-fetch-site': 'same-origin',
        })
      ).statusCode,
    ).toBe(200);
    expect((await signIn(owner.tenant.slug, owner.user.email)).statusCode).toBe(200); // non-browser client
  });

  test('a cross-site sign-out without input is refused, and a form-encoded mutation too', async () => {
    const owner = await signUpOwner(db.app, { services });
    const cookies = { tessera_session: owner.token };
    const crossSite = await app.inject({
      method: 'POST',
      url: '/trpc/auth.signOut',
      cookies,
      headers: { ...json, origin: 'https://evil.example' },
    });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.json()).toMatchObject({ error: { data: { reason: 'csrf_rejected' } } });
    const form = await app.inject({
      method: 'POST',
      url: '/trpc/auth.signOut',
      cookies,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=1',
    });
    expect(form.statusCode).toBe(403);
    const me = await app.inject({ url: '/trpc/auth.me', cookies });
    expect(me.statusCode).toBe(200);
    const same = await app.inject({
      method: 'POST',
      url: '/trpc/auth.signOut',
      cookies,
      headers: { ...json, origin: 'http://localhost:3000' },
    });
    expect(same.statusCode).toBe(200);
    expect((await app.inject({ url: '/trpc/auth.me', cookies })).statusCode).toBe(401);
  });
});

describe('limits and logs', () => {
  test('a locked account answers 429 with Retry-After', async () => {
    const owner = await signUpOwner(db.app, { services });
    let last;
    for (let i = 0; i < 5; i += 1) {
      last = await app.inject({
        method: 'POST',
        url: '/trpc/auth.signIn',
        headers: json,
        payload: {
          tenantSlug: owner.tenant.slug,
          email: owner.user.email,
          password: 'not-the-password-at-all',
        },
      });
    }
    expect(last?.statusCode).toBe(429);
    expect(last?.headers['retry-after']).toBe('30');
    expect(last?.json()).toMatchObject({
      error: { data: { reason: 'account_locked', retryAfterSeconds: 30 } },
    });
  });

  test('a batch of more than 10 calls is refused', async () => {
    const paths = Array.from({ length: 11 }, () => 'health.check').join(',');
    const res = await app.inject({
      url: `/trpc/${paths}?batch=1&input=${encodeURIComponent('{}')}`,
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
  });

  test('a failed sign-in never writes the password, cookie or token to the log', async () => {
    const owner = await signUpOwner(db.app, { services });
    const secret = 'Sup3r-Secret-Passw0rd-Nobody-Should-See';
    await app.inject({
      method: 'POST',
      url: '/trpc/auth.signIn',
      headers: json,
      payload: { tenantSlug: owner.tenant.slug, email: owner.user.email, password: secret },
    });
    await app.inject({ url: '/trpc/auth.me', cookies: { tessera_session: owner.token } });
    const all = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    expect(all).not.toContain(secret);
    expect(all).not.toContain(owner.token);
  });
});

describe('caching of private answers', () => {
  test('every answer to a request with a session or a key says Cache-Control: no-store, refusals too', async () => {
    const owner = await signUpOwner(db.app, { services });
    const cookies = { tessera_session: owner.token };
    const actor = { type: 'user', id: owner.user.id } as const;
    const { key } = await db.withTenant(owner.tenant.id, (tx) =>
      createApiKey(
        tx,
        { actor, deps: { peppers: services.apiKeys.peppers }, now: new Date() },
        {
          name: 'srv',
          type: 'secret',
          environment: 'live',
          scopes: ['users:read', 'api_keys:read'],
        },
      ),
    );
    const exportDownload = `/trpc/privacy.exportDownload?input=${encodeURIComponent(JSON.stringify({ requestId: randomUUID() }))}`;
    const withSession = [
      '/trpc/auth.me',
      '/trpc/sessions.list',
      '/trpc/users.list',
      '/trpc/apiKeys.list',
      exportDownload,
      '/trpc/auth.me,sessions.list?batch=1&input=%7B%7D',
    ];
    for (const url of withSession) {
      const res = await app.inject({ url, cookies });
      expect(res.headers['cache-control'], `${url} ${res.statusCode}`).toBe('no-store');
    }
    for (const url of ['/trpc/users.list', '/trpc/apiKeys.list', '/trpc/auth.me']) {
      const res = await app.inject({ url, headers: { authorization: `Bearer ${key}` } });
      expect(res.headers['cache-control'], `${url} ${res.statusCode}`).toBe('no-store');
    }
    const refused = await app.inject({
      url: '/trpc/users.list',
      headers: { authorization: `Bearer ${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}` },
    }); // always another key
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['cache-control']).toBe('no-store');
    const signIn = await app.inject({
      method: 'POST',
      url: '/trpc/auth.signIn',
      headers: json,
      payload: {
        tenantSlug: owner.tenant.slug,
        email: owner.user.email,
        password: STRONG_PASSWORD,
      },
    });
    expect(signIn.headers['cache-control']).toBe('no-store'); // sets the cookie
  });

  test("the console's hashed assets keep their shared cache even when the browser sends its session", async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tessera-console-'));
    mkdirSync(path.join(root, 'assets'));
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(path.join(root, 'assets', 'app-1a2b3c.js'), 'export {};');
    const withConsole = await buildServer(
      { ...defaultApiConfig, logLevel: 'silent' },
      { database: db.app, services, consoleRoot: root },
    );
    try {
      const asset = await withConsole.inject({
        url: '/assets/app-1a2b3c.js',
        cookies: { tessera_session: 'x'.repeat(43) },
      });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    } finally {
      await withConsole.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
