// Attack over HTTP: a NUL byte (JSON "\u0000", or %00 in a URL) or an unpaired surrogate in a
// tRPC input, a batch, a query string or a path parameter. PostgreSQL refuses U+0000 in text, so
// a value that reached a query surfaced as a 500. tRPC calls must answer a typed 400 naming the
// field; the plain HTTP routes must refuse without a 5xx. docs/design.md rule 5; ASVS V5.1.4.
import { generateKeyringSpec } from '@tessera/auth';
import { testServices } from '@tessera/api-contract/testing';
import { useTestDatabase } from '@tessera/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildServer } from './build-server.js';
import { defaultApiConfig } from './config.js';
import { sessionCookieName } from './plugins/session-cookie.js';
import { ssoPlugin } from './plugins/sso.js';

const db = useTestDatabase();
const services = testServices();
const origin = 'http://localhost:3000';
let app: FastifyInstance;

beforeAll(async () => {
  app = await buildServer(
    { ...defaultApiConfig, publicUrl: origin, logLevel: 'silent' },
    { database: db.app, services },
  );
  await app.register(ssoPlugin, {
    database: db.app,
    services,
    publicUrl: origin,
    cookieName: sessionCookieName(origin),
    sessionSecret: generateKeyringSpec(1),
    platformProviders: [],
    outbound: { mode: 'development' },
  });
});
afterAll(async () => app.close());

const json = { 'content-type': 'application/json' };
const signIn = (email: string) => ({ tenantSlug: 'acme', email, password: 'x'.repeat(12) });

test('a NUL or a lone surrogate in a tRPC input answers 400 invalid_input naming the field, never 500', async () => {
  for (const email of ['a\u0000@example.com', 'a\uD800@example.com']) {
    const res = await app.inject({
      method: 'POST',
      url: '/trpc/auth.signIn',
      headers: json,
      payload: JSON.stringify(signIn(email)),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: { data: { code: 'BAD_REQUEST', reason: 'invalid_input', field: 'email' } },
    });
  }
  // The raw JSON text, as a client that escapes nothing would send it.
  const raw = '{"tenantSlug":"acme\\u0000","email":"a@example.com","password":"xxxxxxxxxxxx"}';
  const rawRes = await app.inject({
    method: 'POST',
    url: '/trpc/auth.signIn',
    headers: json,
    payload: raw,
  });
  expect(rawRes.json()).toMatchObject({
    error: { data: { reason: 'invalid_input', field: 'tenantSlug' } },
  });
  // A query's input travels in the URL.
  const query = await app.inject({
    url: `/trpc/tenant.sso.signInOptions?input=${encodeURIComponent(JSON.stringify({ tenantSlug: 'a\u0000' }))}`,
  });
  expect(query.statusCode).toBe(400);
  expect(query.json()).toMatchObject({
    error: { data: { reason: 'invalid_input', field: 'tenantSlug' } },
  });
  // In a batch each call is refused on its own, and the valid one still runs.
  const batch = await app.inject({
    method: 'POST',
    url: '/trpc/auth.passwordStrength,auth.passwordStrength?batch=1',
    headers: json,
    payload: JSON.stringify({ 0: { password: 'p\u0000ss' }, 1: { password: 'fine-password-123' } }),
  });
  expect(batch.statusCode).toBeLessThan(500);
  const [first, second] =
    batch.json<[{ error?: { data: { reason: string } } }, { result?: unknown }]>();
  expect(first.error?.data.reason).toBe('invalid_input');
  expect(second.result).toBeDefined();
});

test('the plain HTTP routes refuse %00 in paths and query strings without a 5xx', async () => {
  const urls = [
    '/auth/sso/acme%00/start',
    '/auth/sso/acme/start?provider=tenant%00',
    '/auth/callback/tenant-acme%00?code=a%00&state=b%00',
    '/privacy/downloads/abc%00def',
    '/audit/export?format=jsonl%00',
    '/audit/export?afterSeq=1%00',
    '/healthz?x=%00',
  ];
  const statuses: Record<string, number> = {};
  for (const url of urls) statuses[url] = (await app.inject({ url })).statusCode;
  for (const [url, status] of Object.entries(statuses)) expect(status, url).toBeLessThan(500);
});
