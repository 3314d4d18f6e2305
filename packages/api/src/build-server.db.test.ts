import { testServices } from '@tessera/api-contract/testing';
import { createDatabase } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './build-server.js';
import { defaultApiConfig } from './config.js';

const db = useTestDatabase();
let app: FastifyInstance;

beforeAll(async () => {
  app = await buildServer(
    { ...defaultApiConfig, logLevel: 'silent' },
    { database: db.app, services: testServices() },
  );
});
afterAll(async () => app.close());

describe('health and readiness', () => {
  test('health.check answers ok through tRPC when the database is reachable', async () => {
    const res = await app.inject({ method: 'GET', url: '/trpc/health.check' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ result: { data: { status: 'ok', database: 'ok' } } });
  });

  test('/healthz and /readyz answer 200 with migrations current', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({
      status: 'ok',
      database: 'ok',
    });
    const ready = await app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ database: 'ok', migrations: 'current' });
  });

  test('/readyz answers 503 when the database is unreachable', async () => {
    const dead = createDatabase('postgres://nobody:nothing@127.0.0.1:1/none', {
      connectionTimeoutMs: 500,
    });
    const down = await buildServer(
      { ...defaultApiConfig, logLevel: 'silent' },
      { database: dead, services: testServices() },
    );
    try {
      const res = await down.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', database: 'unreachable' });
      // Liveness stays 200 (a database outage must not restart every API process) but says so.
      const live = await down.inject({ url: '/healthz' });
      expect(live.statusCode).toBe(200);
      expect(live.json()).toEqual({ status: 'ok', database: 'unreachable' });
      const trpc = await down.inject({ url: '/trpc/health.check' });
      expect(trpc.statusCode).toBe(500);
      expect(trpc.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack/);
    } finally {
      await down.close();
      await dead.close();
    }
  });

  test('/readyz answers 503 while a migration is pending', async () => {
    await db.owner.pool.query(
      'DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)',
    );
    try {
      const res = await app.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ migrations: 'pending' });
    } finally {
      await db.owner.pool.query(
        `INSERT INTO schema_migrations (version, name, checksum) SELECT v, 'restored', 'x' FROM (SELECT $1::int AS v) s`,
        [(await import('@tessera/db')).latestMigrationVersion()],
      );
    }
  });
});

describe('HTTP hardening', () => {
  test('responses carry security headers and a server-chosen request id', async () => {
    const res = await app.inject({
      url: '/healthz',
      headers: { 'x-request-id': 'attacker-chosen' },
    });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('CORS allows only the trusted origins', async () => {
    const trusted = await app.inject({
      url: '/healthz',
      headers: { origin: 'http://localhost:3000' },
    });
    expect(trusted.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    const evil = await app.inject({ url: '/healthz', headers: { origin: 'https://evil.example' } });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('an unknown procedure is a typed NOT_FOUND without internals', async () => {
    const res = await app.inject({ url: '/trpc/nope.nothing' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { data: { code: 'NOT_FOUND' } } });
    expect(res.body).not.toContain('stack');
  });

  test('the global per-IP limit counts each tRPC call and answers 429 with Retry-After', async () => {
    const limited = await buildServer(
      { ...defaultApiConfig, logLevel: 'silent' },
      { database: db.app, services: testServices({ callLimit: { max: 3, windowMs: 60_000 } }) },
    );
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i += 1)
        codes.push((await limited.inject({ url: '/trpc/health.check' })).statusCode);
      expect(codes).toEqual([200, 200, 200, 429]);
      const res = await limited.inject({ url: '/trpc/health.check' });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      const other = await buildServer(
        { ...defaultApiConfig, logLevel: 'silent' },
        { database: db.app, services: testServices({ callLimit: { max: 3, windowMs: 60_000 } }) },
      );
      const batch = await other.inject({
        url: `/trpc/health.check,health.check,health.check,health.check?batch=1&input=${encodeURIComponent('{}')}`,
      });
      expect(
        batch
          .json()
          .map((r: { error?: { data?: { code?: string } } }) => r.error?.data?.code ?? 'ok'),
      ).toEqual(['ok', 'ok', 'ok', 'TOO_MANY_REQUESTS']);
      await other.close();
    } finally {
      await limited.close();
    }
  });
});

describe('errors inside the tRPC scope', () => {
  test('a transport error on a tRPC route gets the server-wide error shape (request id, no internals)', async () => {
    const big = JSON.stringify({
      tenantSlug: 'a',
      email: 'a@example.com',
      password: 'x'.repeat(1024 * 1024),
    });
    const res = await app.inject({
      method: 'POST',
      url: '/trpc/auth.signIn',
      headers: { 'content-type': 'application/json' },
      payload: big,
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      error: expect.any(String),
      statusCode: 413,
      requestId: res.headers['x-request-id'],
    });
  });
});
