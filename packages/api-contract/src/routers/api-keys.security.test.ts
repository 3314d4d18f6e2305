// Attack: a secret key of tenant A (leaked, or held by a hostile integration) is used to reach
// tenant B: listing B's keys or users, revoking or rotating B's keys by id. The key's tenant
// binds ctx.withTenant and RLS hides B's rows, so every call sees only A or fails NOT_FOUND.
// docs/design.md rule 1; ASVS V4.2.1 (IDOR), V8.2.
import { randomUUID } from 'node:crypto';
import { generateKeyringSpec } from '@tessera/auth';
import { users } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
// WIRING: becomes '@tessera/auth/api-keys' once packages/auth/package.json exports it.
import { createApiKeyVerifier, parsePepperRing } from '@tessera/auth/api-keys';
import type { Principal } from '../context.js';
import { createTestContext, testServices } from '../testing/index.js';
import { createCallerFactory, router } from '../trpc.js';
import { apiKeysRouter } from './api-keys.js';
import { usersRouter } from './users.js';

const db = useTestDatabase();
const peppers = parsePepperRing(generateKeyringSpec(1));
const services = Object.assign(testServices(), { apiKeys: { peppers } });
const callerOf = createCallerFactory(router({ apiKeys: apiKeysRouter, users: usersRouter }));
const as = (principal: Principal) => callerOf(createTestContext(db.app, { principal, services }));
const allScopes = [
  'users:read',
  'users:write',
  'api_keys:read',
  'api_keys:write',
  'audit:read',
  'privacy:read',
  'privacy:write',
] as const;

async function tenantWithKey() {
  const tenant = await db.seedTenant();
  const userId = randomUUID();
  await db.withTenant(tenant.id, (tx) =>
    tx.insert(users).values({
      id: userId,
      tenantId: tenant.id,
      email: `o-${userId.slice(0, 8)}@example.com`,
      role: 'owner',
    }),
  );
  const session: Principal = {
    kind: 'session',
    tenantId: tenant.id,
    userId,
    role: 'owner',
    sessionId: randomUUID(),
    aal: 1,
    mfaVerifiedAt: null,
    mfaEnabled: false,
    enrollmentOnly: false,
    expiresAt: new Date(Date.now() + 3_600_000),
  };
  const { key, apiKey } = await as(session).apiKeys.create({
    name: 'everything',
    type: 'secret',
    environment: 'live',
    scopes: [...allScopes],
  });
  const verifier = createApiKeyVerifier({ pool: db.app.pool, peppers, cache: false });
  const verified = await verifier.verify(key, { ip: '203.0.113.7', now: new Date() });
  await verifier.close();
  if (!verified) throw new Error('key did not verify');
  const principal: Principal = {
    kind: 'api_key',
    tenantId: verified.tenantId,
    keyId: verified.id,
    keyType: verified.type,
    scopes: verified.scopes,
  };
  return { tenantId: tenant.id, userId, session, apiKey, principal };
}

test("a key of tenant A never reaches tenant B's keys or users", async () => {
  const a = await tenantWithKey();
  const b = await tenantWithKey();
  expect(a.principal.tenantId).toBe(a.tenantId);
  const asA = as(a.principal);
  expect((await asA.apiKeys.list()).map((k) => k.id)).toEqual([a.apiKey.id]);
  expect((await asA.users.list()).items.map((u) => u.id)).toEqual([a.userId]);
  await expect(asA.apiKeys.revoke({ id: b.apiKey.id })).rejects.toMatchObject({
    code: 'NOT_FOUND',
  });
  await expect(asA.apiKeys.rotate({ id: b.apiKey.id, graceSeconds: 0 })).rejects.toMatchObject({
    code: 'NOT_FOUND',
  });
  const bKeys = await as(b.session).apiKeys.list();
  expect(bKeys).toEqual([
    expect.objectContaining({ id: b.apiKey.id, revokedAt: null, expiresAt: null }),
  ]);
  const { rows } = await db.owner.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = $1 AND actor_id = $2',
    [b.tenantId, a.apiKey.id],
  );
  expect(rows[0]?.n).toBe(0);
});
