// Attack: a secret key of tenant A holding every scope walks every REST route (/api/v1) with
// tenant B's real ids (users, privacy requests, API keys, webhook deliveries) in paths and bodies.
// RLS must make B's rows invisible: each call answers exactly what it answers for an id that
// exists nowhere (no oracle), lists show none of B's ids, and B's rows do not change. The route
// list is the REST table itself: a new route without a check here fails the coverage test.
// docs/design.md rule 1; ASVS V4.2.1 (IDOR), V8.2.
import { randomUUID } from 'node:crypto';
import {
  createCaller,
  createTestContext,
  signUpOwner,
  testServices,
} from '@tessera/api-contract/testing';
import type { Principal } from '@tessera/api-contract';
import { createApiKey } from '@tessera/auth/api-keys';
import { recordPrivacyWebhookEvent } from '@tessera/auth/privacy';
import { useTestDatabase } from '@tessera/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';
import { REST_PREFIX, restRoutes } from '../rest/rest-routes.js';

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
let app: FastifyInstance;

interface Victim {
  tenantId: string;
  key: string;
  ids: { userId: string; keyId: string; requestId: string; endpointId: string; deliveryId: string };
}
let victim: Victim;
let attackerKeys: string[];

const owner = (tenantId: string, userId: string): Principal => ({
  kind: 'session',
  tenantId,
  userId,
  role: 'owner',
  sessionId: randomUUID(),
  aal: 1,
  mfaVerifiedAt: null,
  mfaEnabled: false,
  enrollmentOnly: false,
  expiresAt: new Date(Date.now() + 3_600_000),
});

async function mint(tenantId: string, userId: string): Promise<{ key: string; id: string }> {
  const minted = await db.withTenant(tenantId, (tx) =>
    createApiKey(
      tx,
      { actor: { type: 'user', id: userId }, deps: services.apiKeys, now: new Date() },
      { name: 'srv', type: 'secret', environment: 'live', scopes: ALL_SCOPES },
    ),
  );
  return { key: minted.key, id: minted.apiKey.id };
}

beforeAll(async () => {
  app = await buildServer(
    { ...defaultApiConfig, logLevel: 'silent', rateLimit: { max: 10_000, windowMs: 60_000 } },
    { database: db.app, services },
  );
  await app.ready();
  const b = await signUpOwner(db.app, { services });
  const asOwner = createCaller(
    createTestContext(db.app, { principal: owner(b.tenant.id, b.user.id), services }),
  );
  const key = await mint(b.tenant.id, b.user.id);
  const request = (await asOwner.privacy.requestExport({ format: 'json' })).request;
  const endpoint = (
    await asOwner.privacy.webhooks.create({ url: 'http://127.0.0.1:9/hooks', requireAck: true })
  ).endpoint;
  await db.withTenant(b.tenant.id, (tx) =>
    recordPrivacyWebhookEvent(
      tx,
      { id: request.id, userId: b.user.id },
      'privacy.export.started',
      new Date(),
    ),
  );
  const deliveries = await asOwner.privacy.webhooks.deliveries({});
  const deliveryId = deliveries.items[0]?.id ?? '';
  victim = {
    tenantId: b.tenant.id,
    key: key.key,
    ids: {
      userId: b.user.id,
      keyId: key.id,
      requestId: request.id,
      endpointId: endpoint.id,
      deliveryId,
    },
  };
  const a = await signUpOwner(db.app, { services });
  attackerKeys = [
    (await mint(a.tenant.id, a.user.id)).key,
    (await mint(a.tenant.id, a.user.id)).key,
  ];
});
afterAll(async () => app.close());

async function call(method: 'GET' | 'POST', path: string, key: string, body?: unknown) {
  const response = await app.inject({
    method,
    url: `${REST_PREFIX}${path}`,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  const json = JSON.parse(response.body) as Record<string, unknown>;
  // The request id differs per answer; everything else must not.
  delete json.requestId;
  return { status: response.statusCode, json };
}

/** Same answer for B's real id as for an id that exists nowhere, and it is a refusal. */
async function sameAsNowhere(
  method: 'GET' | 'POST',
  path: (id: string) => string,
  realId: string,
  body?: (id: string) => unknown,
): Promise<void> {
  const key = attackerKeys[0] ?? '';
  const real = await call(method, path(realId), key, body?.(realId));
  const nowhere = await call(method, path(randomUUID()), key, body?.(randomUUID()));
  expect(real.status, path(realId)).toBeGreaterThanOrEqual(400);
  expect(real.status, path(realId)).toBeLessThan(500);
  expect(real).toEqual(nowhere);
}

/** A list answered to A holds none of B's ids. */
async function listsNothingOfB(path: string): Promise<void> {
  const answer = await call('GET', path, attackerKeys[0] ?? '');
  expect(answer.status, path).toBe(200);
  const text = JSON.stringify(answer.json);
  for (const id of Object.values(victim.ids)) expect(text, path).not.toContain(id);
}

const checks: Record<string, () => Promise<void>> = {
  'users.list': () => listsNothingOfB('/users'),
  'audit.list': () => listsNothingOfB('/audit/events?limit=100'),
  'audit.verify': () => listsNothingOfB('/audit/verify'),
  'compliance.listRequests': () => listsNothingOfB('/privacy/requests'),
  'compliance.createRequest': () =>
    sameAsNowhere(
      'POST',
      () => '/privacy/requests',
      victim.ids.userId,
      (userId) => ({ userId, type: 'export', format: 'json' }),
    ),
  'privacy.exportDownload': () =>
    sameAsNowhere('GET', (id) => `/privacy/requests/${id}/download`, victim.ids.requestId),
  'privacy.webhooks.list': () => listsNothingOfB('/privacy/webhooks'),
  'privacy.webhooks.deliveries': async () => {
    await listsNothingOfB('/privacy/webhook-deliveries');
    await listsNothingOfB(
      `/privacy/webhook-deliveries?endpointId=${victim.ids.endpointId}&requestId=${victim.ids.requestId}`,
    );
  },
  'privacy.webhooks.acknowledge': () =>
    sameAsNowhere(
      'POST',
      (id) => `/privacy/webhook-deliveries/${id}/acknowledge`,
      victim.ids.deliveryId,
      () => ({}),
    ),
  'apiKeys.list': () => listsNothingOfB('/api-keys'),
  'apiKeys.create': async () => {
    const created = await call('POST', '/api-keys', attackerKeys[0] ?? '', {
      name: 'x',
      type: 'secret',
      environment: 'live',
      scopes: ['users:read'],
    });
    expect(created.status).toBe(200);
    const seenByB = await call('GET', '/api-keys', victim.key);
    expect(JSON.stringify(seenByB.json)).not.toContain((created.json.apiKey as { id: string }).id);
  },
  'apiKeys.revoke': () =>
    sameAsNowhere(
      'POST',
      (id) => `/api-keys/${id}/revoke`,
      victim.ids.keyId,
      () => ({}),
    ),
  'apiKeys.rotate': () =>
    sameAsNowhere(
      'POST',
      (id) => `/api-keys/${id}/rotate`,
      victim.ids.keyId,
      () => ({ graceSeconds: 0 }),
    ),
  'apiKeys.revokeSelf': async () => {
    // The second attacker key revokes itself; B's key is untouched.
    expect((await call('POST', '/api-keys/self/revoke', attackerKeys[1] ?? '', {})).status).toBe(
      200,
    );
    // Revocation reaches the key cache through LISTEN/NOTIFY: polled, as for /trpc.
    await expect
      .poll(async () => (await call('GET', '/users', attackerKeys[1] ?? '')).status, {
        timeout: 2_000,
      })
      .toBe(401);
  },
};

test('every REST route has a cross-tenant check', () => {
  expect(Object.keys(checks).sort()).toEqual(restRoutes.map((route) => route.procedure).sort());
});

test("a key of tenant A never sees or touches tenant B's rows through any REST route", async () => {
  expect(victim.ids.deliveryId).not.toBe('');
  for (const route of restRoutes) await checks[route.procedure]?.();
  // B's key still works, its request and delivery are still there, untouched.
  const keys = await call('GET', '/api-keys', victim.key);
  expect(keys.status).toBe(200);
  expect(keys.json).toEqual(
    expect.arrayContaining([expect.objectContaining({ id: victim.ids.keyId, revokedAt: null })]),
  );
  const requests = await call('GET', '/privacy/requests', victim.key);
  expect(JSON.stringify(requests.json)).toContain(victim.ids.requestId);
  const deliveries = await call('GET', '/privacy/webhook-deliveries', victim.key);
  expect(
    (deliveries.json.items as { id: string; status: string }[]).find(
      (item) => item.id === victim.ids.deliveryId,
    )?.status,
  ).not.toBe('acknowledged');
});
