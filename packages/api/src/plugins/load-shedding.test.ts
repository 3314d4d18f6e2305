import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, test, vi } from 'vitest';
import {
  loadSheddingPlugin,
  poolPressure,
  type LoadSheddingOptions,
  type ShedReason,
} from './load-shedding.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** A server shaped like build-server's: an async onSend hook, and a later hook that would query the database. */
async function build(
  options: Partial<LoadSheddingOptions>,
): Promise<{ app: FastifyInstance; downstream: { calls: number }; shed: ShedReason[] }> {
  const app = Fastify({ logger: false });
  apps.push(app);
  const downstream = { calls: 0 };
  const shed: ShedReason[] = [];
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-request-id', 'r1');
  });
  await app.register(loadSheddingPlugin, {
    maxEventLoopDelayMs: 1000,
    onShed: (reason) => shed.push(reason),
    ...options,
  });
  app.addHook('onRequest', async () => {
    downstream.calls += 1; // stands in for principal resolution (a database round trip)
  });
  app.get('/trpc/:path', async () => ({ ok: true }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async () => 'metrics');
  await app.ready();
  return { app, downstream, shed };
}

/** A pool whose estimated wait the test sets directly. */
function poolWaiting(ms: number): { wait: number; estimatedWaitMs: () => number } {
  const pool = { wait: ms, estimatedWaitMs: () => pool.wait };
  return pool;
}

describe('database pool: shed by how long a request would wait, not by how many wait', () => {
  test('a request that would wait longer than the bound gets 503, Retry-After and a JSON body, and touches nothing else', async () => {
    const { app, downstream, shed } = await build({
      pools: [poolWaiting(1500)],
      maxPoolWaitMs: 1000,
      retryAfterSeconds: 7,
    });
    const response = await app.inject({ method: 'GET', url: '/trpc/users.list' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('7');
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({
      error: 'service_unavailable',
      reason: 'database_pool',
      message: 'The server is busy. Try again shortly.',
      retryAfterSeconds: 7,
    });
    expect(downstream.calls).toBe(0);
    expect(shed).toEqual(['database_pool']);
  });

  test('requests are served again as soon as the estimated wait is back within the bound', async () => {
    const pool = poolWaiting(2000);
    const { app } = await build({ pools: [poolWaiting(0), pool], maxPoolWaitMs: 1000 });
    expect((await app.inject({ method: 'GET', url: '/trpc/users.list' })).statusCode).toBe(503);
    pool.wait = 1000;
    expect((await app.inject({ method: 'GET', url: '/trpc/users.list' })).statusCode).toBe(200);
  });

  test('liveness and metrics are never shed', async () => {
    const { app } = await build({ pools: [poolWaiting(60_000)], maxPoolWaitMs: 1 });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/metrics?x=1' })).statusCode).toBe(200);
  });

  test('the threshold is "longer than maxPoolWaitMs", and the first pool over it is reported', () => {
    expect(poolPressure([poolWaiting(1000)], 1000)).toBeNull();
    expect(poolPressure([poolWaiting(0), poolWaiting(1001)], 1000)).toBe(1001);
  });
});

describe('process pressure (under-pressure)', () => {
  test('a sampled limit above its threshold sheds with the same 503 answer, except on exempt paths', async () => {
    // Any heap is above 1 byte: this drives under-pressure's own sampling path deterministically,
    // where event-loop delay cannot be simulated without blocking the loop for real.
    const { app, downstream } = await build({
      maxEventLoopDelayMs: 0,
      maxHeapUsedBytes: 1,
      sampleIntervalMs: 20,
      retryAfterSeconds: 3,
    });
    await vi.waitFor(
      async () =>
        expect((await app.inject({ method: 'GET', url: '/trpc/users.list' })).statusCode).toBe(503),
      { timeout: 2000, interval: 20 },
    );
    const response = await app.inject({ method: 'GET', url: '/trpc/users.list' });
    expect(response.headers['retry-after']).toBe('3');
    expect(response.json()).toMatchObject({
      error: 'service_unavailable',
      reason: 'heap',
      retryAfterSeconds: 3,
    });
    const before = downstream.calls;
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(downstream.calls).toBe(before + 1);
  });

  test('without pressure every request is served', async () => {
    const { app } = await build({ pools: [poolWaiting(0)], maxPoolWaitMs: 1 });
    expect((await app.inject({ method: 'GET', url: '/trpc/users.list' })).statusCode).toBe(200);
    expect(app.isUnderPressure()).toBe(false);
  });
});
