// Attacks on the REST face (/api/v1): riding a browser's session cookie into it (CSRF, or a
// cookie alone authenticating), a key reaching past its scopes, a key of tenant A reading or
// changing tenant B's users, requests, keys and webhooks through any REST route, and REST calls
// slipping past a key's call limit. It must answer exactly as /trpc does (status and reason),
// as RFC 9457 problems. A Python client (standard library) drives it over a real socket.
// docs/design.md rules 1 and 5, "Requests", "Public contract"; ASVS V4.1.1, V4.2.1 (IDOR), V13.2.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { signUpOwner, testServices } from '@tessera/api-contract/testing';
import { createApiKey, type CreateApiKeyParams } from '@tessera/auth/api-keys';
import { findExecutable, useTestDatabase } from '@tessera/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';

const db = useTestDatabase();
const services = testServices({
  sso: { outbound: { mode: 'development' }, platformProviders: [] },
});
const ALL_SCOPES = [
  'users:read',
  'users:write',
  'api_keys:read',
  'api_keys:write',
  'audit:read',
  'privacy:read',
  'privacy:write',
];
const CLIENT = fileURLToPath(new URL('./fixtures/rest_client.py', import.meta.url));
const python = findExecutable('python3', process.env.PATH ?? '');
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  app = await buildServer(
    { ...defaultApiConfig, logLevel: 'silent', rateLimit: { max: 10_000, windowMs: 60_000 } },
    { database: db.app, services },
  );
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => app.close());

type Owner = Awaited<ReturnType<typeof signUpOwner>>;

async function keyOf(
  owner: Owner,
  params: Partial<CreateApiKeyParams> = {},
): Promise<{ key: string; id: string }> {
  const minted = await db.withTenant(owner.tenant.id, (tx) =>
    createApiKey(
      tx,
      { actor: { type: 'user', id: owner.user.id }, deps: services.apiKeys, now: new Date() },
      { name: 'srv', type: 'secret', environment: 'live', scopes: ALL_SCOPES, ...params },
    ),
  );
  return { key: minted.key, id: minted.apiKey.id };
}

async function call(
  method: 'GET' | 'POST',
  url: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text,
    json: JSON.parse(text) as Record<string, unknown>,
  };
}
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('auth and errors', () => {
  test('a session cookie alone never authenticates a REST call, and a cookie next to a key is refused', async () => {
    const owner = await signUpOwner(db.app, { services });
    const cookie = { cookie: `tessera_session=${owner.token}` };
    // The same cookie works on /trpc (positive control).
    expect((await call('GET', '/trpc/users.list', cookie)).status).toBe(200);
    const alone = await call('GET', '/api/v1/users', cookie);
    expect(alone.status).toBe(401);
    expect(alone.type).toBe('application/problem+json');
    expect(alone.json).toMatchObject({
      type: 'about:blank',
      status: 401,
      reason: 'unauthenticated',
      code: 'UNAUTHORIZED',
    });
    const { key } = await keyOf(owner);
    const both = await call('GET', '/api/v1/users', { ...cookie, ...bearer(key) });
    expect(both.status).toBe(401);
    expect(both.json).toMatchObject({ reason: 'api_key_invalid' });
    const post = await call('POST', '/api/v1/privacy/requests', cookie, {
      userId: owner.user.id,
      type: 'export',
      format: 'json',
    });
    expect(post.status).toBe(401);
  });

  test('scope refusal and bad input answer the status and reason /trpc answers, as problem+json', async () => {
    const owner = await signUpOwner(db.app, { services });
    const { key } = await keyOf(owner, { scopes: ['audit:read'] });
    const rest = await call('GET', '/api/v1/users', bearer(key));
    const trpc = await call('GET', '/trpc/users.list', bearer(key));
    const wire = (trpc.json.error as { data: { httpStatus: number; reason: string; code: string } })
      .data;
    expect(rest.status).toBe(403);
    expect(rest.type).toBe('application/problem+json');
    expect(rest.json).toMatchObject({
      status: wire.httpStatus,
      reason: wire.reason,
      code: wire.code,
      detail: (trpc.json.error as { message: string }).message,
    });
    expect(wire.reason).toBe('api_key_forbidden');
    const { key: full } = await keyOf(owner);
    const bad = await call('GET', '/api/v1/users?limit=1000', bearer(full));
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({
      code: 'BAD_REQUEST',
      fieldErrors: { limit: [expect.any(String)] },
    });
    const unknown = await call('GET', '/api/v1/nothing-here', bearer(full));
    expect(unknown).toMatchObject({ status: 404, type: 'application/problem+json' });
  });

  test("REST calls count against the key's call limit like tRPC calls, and the refusal carries Retry-After", async () => {
    const owner = await signUpOwner(db.app, { services });
    const { key } = await keyOf(owner, { rateLimit: { max: 2, windowSeconds: 60 } });
    expect((await call('GET', '/api/v1/users', bearer(key))).status).toBe(200);
    expect((await call('GET', '/trpc/users.list', bearer(key))).status).toBe(200);
    const limited = await fetch(`${base}/api/v1/users`, { headers: bearer(key) });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toBe('application/problem+json');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await limited.json()).toMatchObject({ status: 429, reason: 'api_key_rate_limited' });
  });

  test('the OpenAPI document is served at /api/openapi.json', async () => {
    const document = await call('GET', '/api/openapi.json', {});
    expect(document.status).toBe(200);
    expect(document.json).toMatchObject({ openapi: '3.1.0' });
    expect(Object.keys(document.json.paths as object)).toContain('/api/v1/users');
  });
});

describe.skipIf(!python)('a Python client (standard library)', () => {
  test('mints a scoped key, lists users and starts an export through the REST face', async () => {
    const owner = await signUpOwner(db.app, { services });
    const { key } = await keyOf(owner);
    const run = await promisify(execFile)(python ?? 'python3', [CLIENT, base], {
      env: { ...process.env, TESSERA_API_KEY: key },
      timeout: 30_000,
    });
    const seen = JSON.parse(run.stdout) as {
      mintedScopes: string[];
      userIds: string[];
      request: { userId: string; type: string; format: string; status: string };
      created: boolean;
      refused: { status: number; contentType: string; body: { reason: string } };
    };
    expect(seen.mintedScopes).toEqual(['users:read', 'privacy:write']);
    expect(seen.userIds).toEqual([owner.user.id]);
    expect(seen.request).toMatchObject({
      userId: owner.user.id,
      type: 'export',
      format: 'json',
      status: 'pending',
    });
    expect(seen.created).toBe(true);
    expect(seen.refused).toMatchObject({
      status: 403,
      contentType: 'application/problem+json',
      body: { reason: 'api_key_forbidden' },
    });
    // The export was started by the key, and audited as such, in the owner's tenant.
    const started = await db.withTenant(owner.tenant.id, (tx) =>
      tx.execute<{ action: string; actor_type: string }>(
        "select action, actor_type from audit_logs where action like 'privacy.request.%' order by seq",
      ),
    );
    expect(started.rows).toContainEqual(expect.objectContaining({ actor_type: 'api_key' }));
  });
});
if (!python) {
  if (process.env.CI === 'true')
    test('python3 is installed', () => {
      throw new Error('python3 is missing: add it to .ci/apt-packages');
    });
  else process.stdout.write('skipped: install python3\n');
}
