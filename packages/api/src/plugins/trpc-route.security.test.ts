// Attacks that dress a tRPC call in a URL the guards read differently from the router: a
// percent-encoded prefix (`/%74rpc/auth.signOut`) slipping a cross-site HTML form past the CSRF
// check, encoded commas (`users.list%2Cusers.list`) or an encoded batch flag running many calls
// for the price of one against an API key's limit and quota, and non-tRPC paths under `/trpc/`
// dodging the HTTP rate limit. docs/design.md "Requests", "Public contract"; ASVS V4.2.2, V13.2.
import type { AddressInfo } from 'node:net';
import { privacyRequests, sessions, users } from '@tessera/db';
import { signUpOwner, testServices } from '@tessera/api-contract/testing';
import { createApiKey, type CreateApiKeyParams } from '@tessera/auth/api-keys';
import { useTestDatabase } from '@tessera/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';

const db = useTestDatabase();
const services = testServices();
let app: FastifyInstance;
let origin: string;

beforeAll(async () => {
  app = await buildServer(
    { ...defaultApiConfig, logLevel: 'silent' },
    { database: db.app, services },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => app.close());

/** What a cross-site `<form method=post enctype=multipart/form-data>` sends: no preflight. */
const FORM_BOUNDARY = '----tessera';
const formBody = `--${FORM_BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--${FORM_BOUNDARY}--\r\n`;
const crossSiteForm = {
  'content-type': `multipart/form-data; boundary=${FORM_BOUNDARY}`,
  origin: 'https://evil.example',
  'sec-fetch-site': 'cross-site',
};

/** Spellings of one route: each either reaches tRPC (and must meet every guard) or is a 404. */
const SPELLINGS = [
  (p: string) => `/%74rpc/${p}`,
  (p: string) => `/%74%72%70%63/${p}`,
  (p: string) => `/trpc/${p.replace('.', '%2E')}`,
  (p: string) => `//trpc/${p}`,
  (p: string) => `/TRPC/${p}`,
  (p: string) => `/Trpc/${p}`,
  (p: string) => `/trpc//${p}`,
  (p: string) => `/trpc/${p}/`,
];

async function seededKey(params: Partial<CreateApiKeyParams>) {
  const owner = await signUpOwner(db.app, { services });
  const actor = { type: 'user', id: owner.user.id } as const;
  const minted = await db.withTenant(owner.tenant.id, (tx) =>
    createApiKey(
      tx,
      { actor, deps: { peppers: services.apiKeys.peppers }, now: new Date() },
      { name: 'srv', type: 'secret', environment: 'live', scopes: ['users:read'], ...params },
    ),
  );
  return { owner, key: minted.key };
}

describe('CSRF decides on the route the router matched', () => {
  test('a cross-site multipart form over HTTP to any spelling of auth.signOut is refused and the session survives', async () => {
    const owner = await signUpOwner(db.app, { services });
    const cookies = { tessera_session: owner.token };
    for (const spell of SPELLINGS) {
      const path = spell('auth.signOut');
      const form = new FormData();
      form.append('a', '1'); // fetch sets multipart/form-data with its boundary, as a browser's form does
      const res = await fetch(`${origin}${path}`, {
        method: 'POST',
        body: form,
        headers: {
          cookie: `tessera_session=${owner.token}`,
          origin: 'https://evil.example',
          'sec-fetch-site': 'cross-site',
        },
      });
      const body = await res.text();
      // Matched or not (`//trpc`, `/TRPC` are 404 routes), an unsafe cross-site request never gets further.
      expect(res.status, `${path}: ${res.status} ${body}`).toBe(403);
      expect(JSON.parse(body), path).toMatchObject({
        error: { data: { reason: 'csrf_rejected' } },
      });
      expect((await app.inject({ url: '/trpc/auth.me', cookies })).statusCode, path).toBe(200);
    }
    const [row] = await db.withTenant(owner.tenant.id, (tx) =>
      tx.select({ revokedAt: sessions.revokedAt }).from(sessions),
    );
    expect(row?.revokedAt).toBeNull();
  });

  test('a cross-site form to /%74rpc/privacy.requestDeletion is refused and files no erasure request', async () => {
    const owner = await signUpOwner(db.app, { services });
    // A second owner, so the first may ask for erasure (the last owner may not).
    await db.withTenant(owner.tenant.id, (tx) =>
      tx
        .insert(users)
        .values({ tenantId: owner.tenant.id, email: `second-${owner.user.email}`, role: 'owner' }),
    );
    const form = new FormData();
    form.append('a', '1');
    const res = await fetch(`${origin}/%74rpc/privacy.requestDeletion`, {
      method: 'POST',
      body: form,
      headers: {
        cookie: `tessera_session=${owner.token}`,
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
      },
    });
    const body = await res.text();
    expect(res.status, body).toBe(403);
    expect(JSON.parse(body)).toMatchObject({ error: { data: { reason: 'csrf_rejected' } } });
    expect(await db.withTenant(owner.tenant.id, (tx) => tx.select().from(privacyRequests))).toEqual(
      [],
    );
  });

  test('tRPC refuses multipart and octet-stream bodies even same-origin, with a key, or on GET', async () => {
    const owner = await signUpOwner(db.app, { services });
    const cookies = { tessera_session: owner.token };
    const { key } = await seededKey({});
    const sameOrigin = { origin: 'http://localhost:3000', 'sec-fetch-site': 'same-origin' };
    const attempts = [
      {
        method: 'POST',
        url: '/trpc/auth.signOut',
        cookies,
        headers: { ...sameOrigin, 'content-type': crossSiteForm['content-type'] },
        payload: formBody,
      },
      {
        method: 'POST',
        url: '/%74rpc/auth.signOut',
        cookies,
        headers: { ...sameOrigin, 'content-type': 'application/octet-stream' },
        payload: 'x',
      },
      {
        method: 'POST',
        url: '/trpc/apiKeys.revokeSelf',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
        payload: 'x',
      },
      {
        method: 'GET',
        url: '/trpc/auth.me',
        cookies,
        headers: { 'content-type': crossSiteForm['content-type'] },
      },
    ] as const;
    for (const attempt of attempts) {
      const res = await app.inject({ ...attempt });
      expect(res.statusCode, `${attempt.method} ${attempt.url}`).toBe(403);
      expect(res.json()).toMatchObject({
        error: { data: { reason: 'csrf_rejected', why: 'content_type' } },
      });
    }
    expect((await app.inject({ url: '/trpc/auth.me', cookies })).statusCode).toBe(200);
    expect(
      (await app.inject({ url: '/trpc/users.list', headers: { authorization: `Bearer ${key}` } }))
        .statusCode,
    ).toBe(200);
  });

  test('a same-origin JSON sign-out through an encoded prefix is served like the plain one', async () => {
    const owner = await signUpOwner(db.app, { services });
    const cookies = { tessera_session: owner.token };
    const res = await app.inject({
      method: 'POST',
      url: '/%74rpc/auth.signOut',
      cookies,
      headers: { 'content-type': 'application/json', origin: 'http://localhost:3000' },
    });
    expect(res.statusCode).toBe(200);
    expect((await app.inject({ url: '/trpc/auth.me', cookies })).statusCode).toBe(401);
  });
});

describe('API-key limits count the calls tRPC runs', () => {
  test('encoded commas and an encoded batch flag count every call against the quota', async () => {
    const { key } = await seededKey({ quota: { remaining: 2 } });
    const headers = { authorization: `Bearer ${key}` };
    const many = Array.from({ length: 10 }, () => 'users.list').join('%2C');
    const big = await app.inject({ url: `/trpc/${many}?batch=1&input=%7B%7D`, headers });
    expect(big.statusCode).toBe(429);
    expect(big.json()).toHaveLength(10);
    expect(big.json()[0]).toMatchObject({ error: { data: { reason: 'api_key_quota_exhausted' } } });
    const encodedFlag = await app.inject({
      url: '/trpc/users.list,users.list,users.list?batch=%31&input=%7B%7D',
      headers,
    });
    expect(encodedFlag.statusCode).toBe(429);
    const two = await app.inject({
      url: '/%74rpc/users.list%2Cusers.list?batch=1&input=%7B%7D',
      headers,
    });
    expect(two.statusCode).toBe(200);
    expect(two.json()).toHaveLength(2);
    expect((await app.inject({ url: '/trpc/users.list', headers })).statusCode).toBe(429);
  });

  test('double-encoded commas, which tRPC decodes twice, count every call', async () => {
    const { key } = await seededKey({ quota: { remaining: 2 } });
    const headers = { authorization: `Bearer ${key}` };
    const res = await app.inject({
      url: '/trpc/users.list%252Cusers.list%252Cusers.list?batch=1&input=%7B%7D',
      headers,
    });
    expect(res.statusCode).toBe(429);
    expect(res.json()).toHaveLength(3);
    expect(res.json()[0]).toMatchObject({ error: { data: { reason: 'api_key_quota_exhausted' } } });
  });

  test('a key limited to 3 calls a window is stopped by an encoded batch of 4', async () => {
    const { key } = await seededKey({ rateLimit: { max: 3, windowSeconds: 60 } });
    const headers = { authorization: `Bearer ${key}` };
    const res = await app.inject({
      url: '/trpc/users.list%2Cusers.list%2Cusers.list%2Cusers.list?batch=1&input=%7B%7D',
      headers,
    });
    expect(res.statusCode).toBe(429);
    expect(res.json()[0]).toMatchObject({ error: { data: { reason: 'api_key_rate_limited' } } });
  });
});

describe('the HTTP rate limit exempts exactly the requests tRPC runs, counted per call', () => {
  test('every spelling that reaches tRPC meets the same per-call limit; other spellings are 404 and run nothing', async () => {
    const limited = await buildServer(
      { ...defaultApiConfig, logLevel: 'silent', rateLimit: { max: 2, windowMs: 60_000 } },
      { database: db.app, services: testServices({ callLimit: { max: 3, windowMs: 60_000 } }) },
    );
    try {
      const spellings = [
        '/trpc/health.check',
        '/%74rpc/health.check',
        '/trpc/health%2Echeck',
        '/%74%72%70%63/health.check',
      ];
      for (const [i, url] of spellings.entries()) {
        const codes = [];
        for (let n = 0; n < 4; n += 1)
          codes.push(
            (await limited.inject({ url, remoteAddress: `198.51.100.${30 + i}` })).statusCode,
          );
        expect(codes, url).toEqual([200, 200, 200, 429]);
      }
      const batch = await limited.inject({
        url: '/%74rpc/health.check%2Chealth.check%2Chealth.check%2Chealth.check?batch=%31&input=%7B%7D',
        remoteAddress: '198.51.100.40',
      });
      expect(
        batch
          .json()
          .map((r: { error?: { data?: { code?: string } } }) => r.error?.data?.code ?? 'ok'),
      ).toEqual(['ok', 'ok', 'ok', 'TOO_MANY_REQUESTS']);
      for (const url of [
        '//trpc/health.check',
        '/TRPC/health.check',
        '/trpc//health.check',
        '/trpc/health.check/',
      ]) {
        expect(
          (await limited.inject({ url, remoteAddress: '198.51.100.41' })).statusCode,
          url,
        ).toBe(404);
      }
    } finally {
      await limited.close();
    }
  });
});
