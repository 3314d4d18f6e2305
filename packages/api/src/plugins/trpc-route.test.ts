import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { markTrpcRoutes, trpcCallOf } from './trpc-route.js';

let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify({ logger: false });
  const answer = async (request: Parameters<typeof trpcCallOf>[0]) => ({
    call: trpcCallOf(request),
  });
  await app.register(async (scope) => {
    markTrpcRoutes(scope);
    scope.all('/trpc/:path', answer);
  });
  // A second tRPC route with its own parameter name, as a faster single-call path would be.
  await app.register(async (scope) => {
    markTrpcRoutes(scope, 'procedure');
    scope.post('/fast/:procedure', answer);
  });
  app.get('/trpc-docs/:page', answer);
  await app.ready();
});
afterAll(async () => app.close());

const callOf = async (url: string, method: 'GET' | 'POST' = 'GET') =>
  (await app.inject({ method, url })).json<{ call: unknown }>().call;

test('the procedure list is the decoded route parameter; the batch flag is read as tRPC reads it', async () => {
  expect(await callOf('/trpc/a.b')).toEqual({ procedures: ['a.b'], batch: false });
  expect(await callOf('/%74rpc/a%2Eb%2Cc.d?batch=%31')).toEqual({
    procedures: ['a.b', 'c.d'],
    batch: true,
  });
  expect(await callOf('/trpc/a.b,c.d')).toEqual({ procedures: ['a.b,c.d'], batch: false }); // one (unknown) procedure for tRPC
  expect(await callOf('/trpc/a.b,c.d?batch=1&batch=0')).toEqual({
    procedures: ['a.b', 'c.d'],
    batch: true,
  });
  // tRPC decodes the parameter once more: a double-encoded comma is a comma to it, so to us.
  expect(await callOf('/trpc/a.b%252Cc.d?batch=1')).toEqual({
    procedures: ['a.b', 'c.d'],
    batch: true,
  });
  expect(await callOf('/trpc/a.b%25ZZ')).toEqual({ procedures: ['a.b%ZZ'], batch: false }); // tRPC: 400, nothing runs
  expect(await callOf('/fast/x.y', 'POST')).toEqual({ procedures: ['x.y'], batch: false });
});

test('a route outside a marked scope is no tRPC call, whatever its URL', async () => {
  expect(await callOf('/trpc-docs/intro')).toBeNull();
});
