import { randomUUID } from 'node:crypto';
import { generateKeyringSpec } from '@tessera/auth';
import { users } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
// WIRING: becomes '@tessera/auth/api-keys' once packages/auth/package.json exports it.
import { createApiKeyVerifier, parsePepperRing } from '@tessera/auth/api-keys';
import type { ApiKeyPrincipal, Principal, SessionPrincipal } from '../context.js';
import type { CreateApiKeyInput } from '../inputs/api-keys.js';
import { createTestContext, testServices } from '../testing/index.js';
import { createCallerFactory, router } from '../trpc.js';
import { apiKeysRouter } from './api-keys.js';

const db = useTestDatabase();
const peppers = parsePepperRing(generateKeyringSpec(1));
const services = Object.assign(testServices(), { apiKeys: { peppers } });
const callerOf = createCallerFactory(router({ apiKeys: apiKeysRouter }));
const now = new Date('2026-03-01T12:00:00Z');
const as = (principal: Principal) =>
  callerOf(createTestContext(db.app, { principal, services, now: () => now })).apiKeys;
const secretInput: CreateApiKeyInput = {
  name: 'deploy',
  type: 'secret',
  environment: 'live',
  scopes: ['users:read', 'api_keys:read'],
};

/** A tenant and its owner, seeded directly (sign-up's password hashing is not under test here). */
async function owner(): Promise<SessionPrincipal> {
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
  return {
    kind: 'session',
    tenantId: tenant.id,
    userId,
    role: 'owner',
    sessionId: randomUUID(),
    aal: 1,
    mfaVerifiedAt: null,
    mfaEnabled: false,
    enrollmentOnly: false,
    expiresAt: new Date(now.getTime() + 3_600_000),
  };
}

async function keyPrincipal(key: string): Promise<ApiKeyPrincipal> {
  const verifier = createApiKeyVerifier({ pool: db.app.pool, peppers, cache: false });
  const verified = await verifier.verify(key, { ip: '203.0.113.7', now });
  await verifier.close();
  if (!verified) throw new Error('key did not verify');
  return {
    kind: 'api_key',
    tenantId: verified.tenantId,
    keyId: verified.id,
    keyType: verified.type,
    scopes: verified.scopes,
  };
}

async function auditRows(tenantId: string) {
  const { rows } = await db.owner.pool.query<{
    action: string;
    actor_type: string;
    actor_id: string;
  }>(
    'SELECT action, actor_type, actor_id FROM audit_logs WHERE tenant_id = $1 AND action LIKE $2 ORDER BY seq',
    [tenantId, 'api_key.%'],
  );
  return rows;
}

describe('as a signed-in owner', () => {
  test('create shows the key once; list, rotate and revoke never show it again, and each change is audited', async () => {
    const user = await owner();
    const created = await as(user).create(secretInput);
    expect(created.key).toMatch(/^sk_live_[A-Za-z0-9]{49}$/);
    const listed = await as(user).list();
    expect(listed).toEqual([created.apiKey]);
    expect(JSON.stringify(listed)).not.toContain(created.key.slice(12));
    const rotated = await as(user).rotate({ id: created.apiKey.id, graceSeconds: 60 });
    expect(rotated.apiKey.rotatedFromId).toBe(created.apiKey.id);
    await expect(
      as(user).rotate({ id: created.apiKey.id, graceSeconds: 60 }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
      cause: { code: 'api_key_already_rotated', field: 'id' },
    });
    expect(await as(user).revoke({ id: rotated.apiKey.id })).toEqual({ ok: true });
    await expect(as(user).revoke({ id: rotated.apiKey.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await auditRows(user.tenantId)).toEqual(
      ['api_key.created', 'api_key.rotated', 'api_key.revoked'].map((action) => ({
        action,
        actor_type: 'user',
        actor_id: user.userId,
      })),
    );
  });

  test('inputs are strict: publishable keys with scopes, unknown scopes and extra fields are refused', async () => {
    const user = await owner();
    await expect(as(user).create({ ...secretInput, type: 'publishable' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(
      as(user).create({ ...secretInput, scopes: ['admin'] } as never),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      as(user).create({ ...secretInput, tenantId: user.tenantId } as never),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      as(user).rotate({ id: '00000000-0000-4000-8000-000000000000', graceSeconds: 604_801 }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  test('a secret key needs a recent second factor from users who have MFA; a publishable key does not', async () => {
    const user = await owner();
    const stale: SessionPrincipal = {
      ...user,
      mfaEnabled: true,
      aal: 2,
      mfaVerifiedAt: new Date(now.getTime() - 11 * 60_000),
    };
    await expect(as(stale).create(secretInput)).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      cause: { code: 'step_up_required' },
    });
    const pk = await as(stale).create({ ...secretInput, type: 'publishable', scopes: [] });
    await expect(
      as(stale).rotate({ id: (await as(user).create(secretInput)).apiKey.id, graceSeconds: 0 }),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect(await as(stale).rotate({ id: pk.apiKey.id, graceSeconds: 0 })).toMatchObject({
      apiKey: { type: 'publishable' },
    });
    expect(
      await as({ ...stale, mfaVerifiedAt: new Date(now.getTime() - 60_000) }).create(secretInput),
    ).toMatchObject({ apiKey: { type: 'secret' } });
  });

  test('members may not manage keys', async () => {
    const user = await owner();
    await expect(as({ ...user, role: 'member' }).list()).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(as({ ...user, role: 'compliance' }).create(secretInput)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });
});

describe('as an API key', () => {
  test('a key with api_keys:write creates keys within its own scopes only, and is the audited actor', async () => {
    const user = await owner();
    const parent = await as(user).create({
      ...secretInput,
      scopes: ['api_keys:write', 'users:read'],
    });
    const asKey = as(await keyPrincipal(parent.key));
    const child = await asKey.create({ ...secretInput, scopes: ['users:read'] });
    expect(child.apiKey.createdByKeyId).toBe(parent.apiKey.id);
    await expect(asKey.create({ ...secretInput, scopes: ['users:write'] })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      cause: { code: 'api_key_forbidden' },
    });
    expect((await auditRows(user.tenantId)).at(-1)).toEqual({
      action: 'api_key.created',
      actor_type: 'api_key',
      actor_id: parent.apiKey.id,
    });
    const wide = await as(user).create({ ...secretInput, scopes: ['audit:read'] });
    await expect(asKey.rotate({ id: wide.apiKey.id, graceSeconds: 0 })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  test('scopes gate each procedure; publishable keys carry none', async () => {
    const user = await owner();
    const reader = as(
      await keyPrincipal(
        (await as(user).create({ ...secretInput, scopes: ['api_keys:read'] })).key,
      ),
    );
    expect(await reader.list()).toHaveLength(1);
    await expect(reader.create(secretInput)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const publishable = as(
      await keyPrincipal(
        (await as(user).create({ ...secretInput, type: 'publishable', scopes: [] })).key,
      ),
    );
    await expect(publishable.list()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  test('revokeSelf: a secret key kills itself (audited as itself); publishable keys and sessions may not', async () => {
    const user = await owner();
    const leaked = await as(user).create({ ...secretInput, scopes: [] });
    const principal = await keyPrincipal(leaked.key);
    expect(await as(principal).revokeSelf()).toEqual({ revoked: true });
    expect((await as(user).list())[0]?.revokedAt).toBe(now.toISOString());
    expect((await auditRows(user.tenantId)).at(-1)).toEqual({
      action: 'api_key.revoked',
      actor_type: 'api_key',
      actor_id: leaked.apiKey.id,
    });
    const pk = await keyPrincipal(
      (await as(user).create({ ...secretInput, type: 'publishable', scopes: [] })).key,
    );
    await expect(as(pk).revokeSelf()).rejects.toMatchObject({
      code: 'FORBIDDEN',
      cause: { code: 'api_key_forbidden' },
    });
    await expect(as(user).revokeSelf()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
