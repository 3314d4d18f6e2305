import { randomBytes, randomUUID } from 'node:crypto';
import { recordAuditEvent } from '@tessera/auth/audit';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import type { Principal, Role } from '../context.js';
import { createTestContext } from '../testing/index.js';
import { createCallerFactory, router } from '../trpc.js';
import { auditRouter } from './audit.js';

const db = useTestDatabase();
const callerOf = createCallerFactory(router({ audit: auditRouter }));

const session = (tenantId: string, role: Role): Principal => ({
  kind: 'session',
  tenantId,
  role,
  userId: randomUUID(),
  sessionId: 's-1',
  aal: 1,
  mfaVerifiedAt: null,
  mfaEnabled: false,
  enrollmentOnly: false,
  expiresAt: new Date(Date.now() + 3_600_000),
});
const key = (tenantId: string, scopes: string[]): Principal => ({
  kind: 'api_key',
  tenantId,
  keyId: randomUUID(),
  keyType: 'secret',
  scopes,
});
const as = (principal: Principal) => callerOf(createTestContext(db.app, { principal })).audit;

/** A tenant with two users and a key acting on each other. */
async function seed() {
  const tenantId = (await db.seedTenant()).id;
  const [alice, bob, keyId] = [randomUUID(), randomUUID(), randomUUID()];
  await db.withTenant(tenantId, async (tx) => {
    for (const [id, email, name] of [
      [alice, 'alice@names.example', 'Alice Admin'],
      [bob, 'bob@names.example', 'Bob Builder'],
    ] as const)
      await tx.client.query(
        `INSERT INTO users (id, tenant_id, email, display_name, role) VALUES ($1, $2, $3, $4, 'member')`,
        [id, tenantId, email, name],
      );
    await tx.client.query(
      `INSERT INTO api_keys (id, tenant_id, name, type, environment, prefix, key_hash, pepper_version)
       VALUES ($1, $2, 'Nightly export', 'secret', 'live', 'sk_live_abcd', $3, 'v1')`,
      [keyId, tenantId, randomBytes(32)],
    );
    const event = (actor: string, type: 'user' | 'api_key', action: string, target: string) =>
      recordAuditEvent(tx, {
        actor: { type, id: actor },
        action,
        target: { type: target === keyId ? 'api_key' : 'user', id: target },
        before: { role: 'member' },
        after: { role: 'admin' },
      });
    await event(alice, 'user', 'user.role.changed', bob);
    await event(keyId, 'api_key', 'user.disabled', alice);
    await event(alice, 'user', 'api_key.revoked', keyId);
  });
  return { tenantId, alice, bob, keyId };
}

describe('names in the audit log', () => {
  test('staff see actors and targets by e-mail, display name and key name', async () => {
    const { tenantId, alice, bob, keyId } = await seed();
    const page = await as(session(tenantId, 'admin')).list();
    expect(page.names).toEqual({
      [alice]: { kind: 'user', label: 'alice@names.example', detail: 'Alice Admin' },
      [bob]: { kind: 'user', label: 'bob@names.example', detail: 'Bob Builder' },
      [keyId]: { kind: 'api_key', label: 'Nightly export', detail: 'sk_live_abcd' },
    });
  });

  test('an API key sees names only for the records its scopes would show it', async () => {
    const { tenantId, alice, keyId } = await seed();
    expect(Object.keys((await as(key(tenantId, ['audit:read'])).list()).names)).toEqual([]);
    const withUsers = await as(key(tenantId, ['audit:read', 'users:read'])).list();
    expect(withUsers.names[alice]?.label).toBe('alice@names.example');
    expect(withUsers.names[keyId]).toBeUndefined();
  });

  test('an erased subject stays a pseudonym: the id is shown, the name is gone', async () => {
    const { tenantId, bob } = await seed();
    await db.withTenant(tenantId, (tx) =>
      tx.client.query('DELETE FROM users WHERE id = $1', [bob]),
    );
    const page = await as(session(tenantId, 'compliance')).list({ action: 'user.role.changed' });
    expect(page.items[0]?.target?.id).toBe(bob);
    expect(page.names[bob]).toBeUndefined();
  });
});

describe('searching and filtering', () => {
  test('free text finds events by the target’s e-mail, display name or key name', async () => {
    const { tenantId, bob, keyId } = await seed();
    const byEmail = await as(session(tenantId, 'owner')).list({ target: 'BOB@names' });
    expect(byEmail.items.map((e) => e.target?.id)).toEqual([bob]);
    const byName = await as(session(tenantId, 'owner')).list({ target: 'builder' });
    expect(byName.items.map((e) => e.target?.id)).toEqual([bob]);
    const byKey = await as(session(tenantId, 'owner')).list({ target: 'nightly' });
    expect(byKey.items.map((e) => e.target?.id)).toEqual([keyId]);
    expect((await as(session(tenantId, 'owner')).list({ target: 'nobody%' })).items).toEqual([]);
  });

  test("another tenant's names never match a search", async () => {
    const a = await seed();
    const b = await seed();
    const page = await as(session(b.tenantId, 'owner')).list({ target: a.bob });
    expect(page.items).toEqual([]);
  });

  test('the action list holds exactly the actions that occur, sorted', async () => {
    const { tenantId } = await seed();
    expect(await as(session(tenantId, 'admin')).actions()).toEqual({
      actions: ['api_key.revoked', 'user.disabled', 'user.role.changed'],
    });
  });

  test('one event comes with its names and its risk score explained', async () => {
    const { tenantId, alice, bob } = await seed();
    const detail = await as(session(tenantId, 'owner')).get({ seq: 1 });
    expect(detail.event).toMatchObject({
      seq: 1,
      before: { role: 'member' },
      after: { role: 'admin' },
    });
    expect(Object.keys(detail.names).sort()).toEqual([alice, bob].sort());
    expect(detail.risk).toEqual({
      basis: 'fixed',
      score: 60,
      summary: 'Fixed score for user.role.changed: 60.',
    });
    await expect(as(session(tenantId, 'owner')).get({ seq: 99 })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  test('members and API keys may not use the console-only reads', async () => {
    const { tenantId } = await seed();
    await expect(as(session(tenantId, 'member')).actions()).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(as(key(tenantId, ['audit:read'])).get({ seq: 1 })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  test('a search is recorded in the audit.log.listed event it causes', async () => {
    const { tenantId } = await seed();
    await as(session(tenantId, 'owner')).list({ target: 'alice' });
    const listed = await as(session(tenantId, 'owner')).list({
      action: 'audit.log.listed',
      limit: 1,
    });
    expect(listed.items[0]?.metadata).toMatchObject({ filter: { target: 'alice' } });
  });
});
