// Rate limits must hold across API processes (docs/design.md "Runtime and configuration"):
// two clients stand in for two processes against one real redis-server (Debian's), started here
// on a free loopback port with persistence off. Without redis-server this file skips locally
// ("skipped: install redis-server") and fails under CI=true (docs/design.md "Tests and CI").
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import rateLimit from '@fastify/rate-limit';
import { createRateLimiter } from '@tessera/auth/rate-limit';
import Fastify from 'fastify';
import type { Redis } from 'ioredis';
import { findExecutable, freePort, startRedisServer, type RedisServer } from '@tessera/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedisClient, RedisRateLimitStore } from './redis-rate-limit-store.js';

const binary = findExecutable('redis-server', process.env.PATH ?? '');
if (!binary) {
  if (process.env.CI === 'true') {
    test('redis-server is installed', () => {
      throw new Error('redis-server is missing: add it to .ci/apt-packages');
    });
  } else {
    process.stdout.write('skipped: install redis-server\n');
  }
}

describe.skipIf(!binary)('RedisRateLimitStore', () => {
  let server: RedisServer;
  let dir: string;
  const clients: Redis[] = [];
  const client = async (): Promise<Redis> => {
    const redis = createRedisClient(server.url);
    clients.push(redis);
    await new Promise<void>((resolve) =>
      redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve()),
    );
    return redis;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-redis-'));
    server = await startRedisServer(binary ?? 'redis-server', dir);
  });
  afterAll(async () => {
    for (const redis of clients) redis.disconnect();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('two processes count into one window', async () => {
    const a = new RedisRateLimitStore(await client());
    const b = new RedisRateLimitStore(await client());
    const now = 1_800_000_000_123;
    for (let i = 0; i < 3; i += 1) await a.increment('sign-in:t1:ana@example.com', 60_000, now + i);
    const result = await b.increment('sign-in:t1:ana@example.com', 60_000, now + 10);
    expect(result).toEqual({ count: 4, resetAt: Math.floor(now / 60_000) * 60_000 + 60_000 });
    expect((await a.increment('sign-in:t1:ana@example.com', 60_000, result.resetAt)).count).toBe(1); // next window
  });

  test('concurrent hits from both processes are counted exactly once each', async () => {
    const a = new RedisRateLimitStore(await client());
    const b = new RedisRateLimitStore(await client());
    const counts = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (i % 2 ? b : a).increment('burst', 10_000, 1_800_000_005_000),
      ),
    );
    expect(counts.map((c) => c.count).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  });

  test('keys expire with their window and never hold the limiter key in the clear', async () => {
    const redis = await client();
    const store = new RedisRateLimitStore(redis, { prefix: 'ttl-test:' });
    await store.increment('sign-in:t1:bob@example.com', 30_000, Date.now());
    const keys = await redis.keys('ttl-test:*');
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain('bob@example.com');
    const ttl = await redis.pttl(keys[0] ?? '');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(31_000);
  });

  test('a limit enforced by createRateLimiter holds across both processes', async () => {
    const first = createRateLimiter(new RedisRateLimitStore(await client()));
    const second = createRateLimiter(new RedisRateLimitStore(await client()));
    const rule = { max: 3, windowMs: 60_000 };
    const now = 1_800_000_010_000;
    const results = [
      await first.hit('ip:203.0.113.9', rule, now),
      await second.hit('ip:203.0.113.9', rule, now),
      await first.hit('ip:203.0.113.9', rule, now),
      await second.hit('ip:203.0.113.9', rule, now),
    ];
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3]?.retryAfterSeconds).toBeGreaterThan(0);
  });

  test('forget drops a key counted by another process (erasure of a key that names an address)', async () => {
    const first = createRateLimiter(new RedisRateLimitStore(await client()));
    const second = createRateLimiter(new RedisRateLimitStore(await client()));
    const rule = { max: 5, windowMs: 60_000 };
    const now = 1_800_000_070_000;
    const key = 'sign_in:account:acme:sam@example.com';
    for (let i = 0; i < 3; i += 1) await first.hit(key, rule, now);
    await second.forget(key, rule, now + 1_000);
    expect((await first.hit(key, rule, now + 2_000)).remaining).toBe(4);
  });

  test('@fastify/rate-limit shares its global per-IP limit through the same client', async () => {
    const apps = await Promise.all(
      [0, 1].map(async () => {
        const app = Fastify({ logger: false });
        await app.register(rateLimit, {
          global: true,
          max: 2,
          timeWindow: 60_000,
          redis: await client(),
          nameSpace: 'tessera:http-rl:',
          skipOnError: true,
        });
        app.get('/x', async () => 'ok');
        await app.ready();
        return app;
      }),
    );
    const statuses = [];
    for (const app of [apps[0], apps[1], apps[0]])
      statuses.push(
        (await app?.inject({ method: 'GET', url: '/x', remoteAddress: '198.51.100.4' }))
          ?.statusCode,
      );
    expect(statuses).toEqual([200, 200, 429]);
    await Promise.all(apps.map((app) => app?.close()));
  });

  test('while Redis is unreachable the store falls back to per-process counting and reports it', async () => {
    const errors: unknown[] = [];
    const down = createRedisClient(`redis://127.0.0.1:${await freePort()}`, {
      retryStrategy: () => null,
    });
    clients.push(down);
    const store = new RedisRateLimitStore(down, { onError: (error) => errors.push(error) });
    expect((await store.increment('k', 60_000, 1_800_000_000_000)).count).toBe(1);
    expect((await store.increment('k', 60_000, 1_800_000_000_001)).count).toBe(2);
    expect(errors).toHaveLength(2);
  });
});
