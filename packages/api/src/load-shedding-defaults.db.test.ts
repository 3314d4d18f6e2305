// The shipped load-shedding defaults serve a modest load: 50 concurrent clients on a pool of 20
// get no 503. A queue longer than the pool is normal under load; only a queue that would keep a
// request waiting longer than the bound is overload (docs/deployment.md "Load shedding").
import { signUpOwner, testServices } from '@tessera/api-contract/testing';
import { useTestDatabase } from '@tessera/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildServer } from './build-server.js';
import { defaultApiConfig } from './config.js';

const CLIENTS = 50;
const REQUESTS_PER_CLIENT = 8;

const db = useTestDatabase({ poolSize: 20 }); // apps/server's DATABASE_POOL_MAX default
const services = testServices({ callLimit: { max: 1_000_000, windowMs: 60_000 } });
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  // Only the global per-IP limit is raised: all the load comes from one address.
  app = await buildServer(
    { ...defaultApiConfig, logLevel: 'silent', rateLimit: { max: 1_000_000, windowMs: 60_000 } },
    { database: db.app, services },
  );
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => app.close());

test('50 concurrent clients of session reads on a pool of 20 get no 503 with the shipped thresholds', async () => {
  const owner = await signUpOwner(db.app, { services });
  const statuses: number[] = [];
  let maxWaiting = 0;
  const client = async (): Promise<void> => {
    for (let i = 0; i < REQUESTS_PER_CLIENT; i += 1) {
      const response = await fetch(`${base}/trpc/sessions.list`, {
        headers: { cookie: `tessera_session=${owner.token}` },
      });
      await response.arrayBuffer();
      statuses.push(response.status);
      maxWaiting = Math.max(maxWaiting, db.app.pool.waitingCount);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  expect(statuses).toHaveLength(CLIENTS * REQUESTS_PER_CLIENT);
  expect(statuses.filter((status) => status !== 200)).toEqual([]);
  // The load really queued for connections (else the test proves nothing about the threshold).
  expect(maxWaiting).toBeGreaterThan(0);
});
