// The API reference page loads nothing from outside this server, and the relaxation of the CSP it
// needs (a per-response nonce for Scalar's inline start-up script, inline styles) stays on
// its own routes: every other route keeps the server-wide policy.
import { testServices } from '@tessera/api-contract/testing';
import { useTestDatabase } from '@tessera/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';

const db = useTestDatabase();
let app: FastifyInstance;

beforeAll(async () => {
  app = await buildServer(
    { ...defaultApiConfig, logLevel: 'silent' },
    { database: db.app, services: testServices() },
  );
});
afterAll(async () => app.close());

const nonceOf = (policy: string): string | undefined =>
  /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'/.exec(policy)?.[1];

test('the reference page allows only its own fresh nonce and loads scripts and the document from this server', async () => {
  const first = await app.inject({ url: '/api/reference/' });
  const second = await app.inject({ url: '/api/reference/' });
  expect(first.statusCode).toBe(200);
  const policy = String(first.headers['content-security-policy']);
  const nonce = nonceOf(policy);
  expect(nonce).toBeDefined();
  expect(nonceOf(String(second.headers['content-security-policy']))).not.toBe(nonce);
  expect(policy).toMatch(/script-src 'self' 'nonce-[^']+';/); // never 'unsafe-inline' for scripts
  expect(policy).toContain("connect-src 'self'");
  expect(first.body).not.toContain('tessera-csp-nonce-placeholder');
  // Every script tag carries the nonce or loads a same-origin file; no absolute URL anywhere.
  for (const tag of first.body.match(/<script[^>]*>/g) ?? [])
    expect(tag.includes(`nonce="${nonce}"`) || /src="(?!https?:|\/\/)/.test(tag), tag).toBe(true);
  expect(first.body).not.toMatch(/(src|href)="(https?:)?\/\//);
  expect(first.body).toContain('/api/openapi.json');
  const script = await app.inject({ url: '/api/reference/js/scalar.js' });
  expect(script.statusCode).toBe(200);
  expect(script.headers['content-type']).toContain('javascript');
});

test('other routes keep their strict policy: data answers allow nothing, documents only themselves', async () => {
  for (const url of ['/api/openapi.json', '/api/v1/users', '/trpc/health.check']) {
    const policy = String((await app.inject({ url })).headers['content-security-policy']);
    expect(policy, url).toBe("default-src 'none'; frame-ancestors 'none'");
  }
  const document = String(
    (await app.inject({ url: '/no-such-page' })).headers['content-security-policy'],
  );
  expect(document).toContain("script-src 'self';");
  expect(document).not.toContain('nonce-');
});
