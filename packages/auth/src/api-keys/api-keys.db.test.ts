import { randomUUID } from 'node:crypto';
import { auditLogs, users } from '@tessera/db';
import { sqlStateOf, SQLSTATE, useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import { generateKeyringSpec } from '../crypto/keyring.js';
import type { ApiKeyActor } from './actor.js';
import { createApiKey, type CreateApiKeyParams } from './create-api-key.js';
import { listApiKeys } from './list-api-keys.js';
import { parsePepperRing } from './pepper-ring.js';
import { revokeApiKey, revokeOwnApiKey } from './revoke-api-key.js';
import { rotateApiKey } from './rotate-api-key.js';

const db = useTestDatabase();
const now = new Date('2026-03-01T12:00:00Z');
const deps = { peppers: parsePepperRing(generateKeyringSpec(1)) };
const aSecretKey = (overrides: Partial<CreateApiKeyParams> = {}): CreateApiKeyParams => ({
  name: 'CI deploy',
  type: 'secret',
  environment: 'live',
  scopes: ['users:read'],
  ...overrides,
});

async function tenantWithOwner(): Promise<{ tenantId: string; owner: ApiKeyActor }> {
  const tenant = await db.seedTenant();
  const id = randomUUID();
  await db.withTenant(tenant.id, (tx) =>
    tx
      .insert(users)
      .values({ id, tenantId: tenant.id, email: `o-${id.slice(0, 8)}@example.com`, role: 'owner' }),
  );
  return {
    tenantId: tenant.id,
    owner: { type: 'user', id, origin: { ip: '203.0.113.7', userAgent: 'vitest' } },
  };
}

async function auditActions(tenantId: string) {
  return db.withTenant(tenantId, (tx) =>
    tx
      .select({
        action: auditLogs.action,
        actorType: auditLogs.actorType,
        actorId: auditLogs.actorId,
        after: auditLogs.after,
        metadata: auditLogs.metadata,
      })
      .from(auditLogs)
      .orderBy(auditLogs.seq),
  );
}

describe('create and list', () => {
  test('a created key is shown once; the row holds its prefix and an HMAC, and the event is audited', async () => {
    const { tenantId, owner } = await tenantWithOwner();
    const { key, apiKey } = await db.withTenant(tenantId, (tx) =>
      createApiKey(
        tx,
        { actor: owner, deps, now },
        aSecretKey({ allowedCidrs: ['2001:DB8::/32'] }),
      ),
    );
    expect(apiKey).toMatchObject({
      name: 'CI deploy',
      type: 'secret',
      environment: 'live',
      prefix: key.slice(0, 12),
      scopes: ['users:read'],
      allowedCidrs: ['2001:db8::/32'],
      createdBy: owner.id,
      revokedAt: null,
    });
    const { rows } = await db.owner.pool.query<{ key_hash: Buffer; pepper_version: string }>(
      'SELECT key_hash, pepper_version FROM api_keys WHERE id = $1',
      [apiKey.id],
    );
    expect(rows[0]?.key_hash.equals(deps.peppers.hashCurrent(key))).toBe(true);
    expect(rows[0]?.pepper_version).toBe('v1');
    const events = await auditActions(tenantId);
    expect(events).toEqual([
      expect.objectContaining({
        action: 'api_key.created',
        actorType: 'user',
        actorId: owner.id,
        after: expect.objectContaining({ keyPrefix: apiKey.prefix }),
      }),
    ]);
    expect(JSON.stringify(events)).not.toContain(key);
    expect(await db.withTenant(tenantId, (tx) => listApiKeys(tx))).toEqual([apiKey]);
  });

  test('publishable keys carry no scopes; unknown scopes, past expiry and bad ranges are refused', async () => {
    const { tenantId, owner } = await tenantWithOwner();
    const create = (p: Partial<CreateApiKeyParams>) =>
      db.withTenant(tenantId, (tx) => createApiKey(tx, { actor: owner, deps, now }, aSecretKey(p)));
    await expect(create({ type: 'publishable' })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'scopes',
    });
    await expect(create({ scopes: ['root'] })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(create({ expiresAt: '2026-03-01T11:59:59Z' })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'expiresAt',
    });
    await expect(create({ allowedCidrs: ['10.0.0.1/8'] })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'allowedCidrs',
    });
    await expect(create({ rateLimit: { max: 0, windowSeconds: 60 } })).rejects.toMatchObject({
      code: 'invalid_input',
    });
    expect((await create({ type: 'publishable', scopes: [] })).key).toMatch(/^pk_live_/);
  });

  test('a key creating keys may hand out only scopes it holds, and is the audited actor', async () => {
    const { tenantId, owner } = await tenantWithOwner();
    const parent = await db.withTenant(tenantId, (tx) =>
      createApiKey(
        tx,
        { actor: owner, deps, now },
        aSecretKey({ scopes: ['api_keys:write', 'users:read'] }),
      ),
    );
    const asKey: ApiKeyActor = {
      type: 'api_key',
      id: parent.apiKey.id,
      scopes: parent.apiKey.scopes,
    };
    await expect(
      db.withTenant(tenantId, (tx) =>
        createApiKey(tx, { actor: asKey, deps, now }, aSecretKey({ scopes: ['users:write'] })),
      ),
    ).rejects.toMatchObject({ code: 'api_key_forbidden' });
    const child = await db.withTenant(tenantId, (tx) =>
      createApiKey(tx, { actor: asKey, deps, now }, aSecretKey({ scopes: ['users:read'] })),
    );
    expect(child.apiKey).toMatchObject({ createdBy: null, createdByKeyId: parent.apiKey.id });
    expect((await auditActions(tenantId)).at(-1)).toMatchObject({
      action: 'api_key.created',
      actorType: 'api_key',
      actorId: parent.apiKey.id,
    });
  });

  test('the step-up hook runs before a secret key is minted, not for a publishable one', async () => {
    const { tenantId, owner } = await tenantWithOwner();
    const stepUp = () => {
      throw new Error('step up first');
    };
    await expect(
      db.withTenant(tenantId, (tx) =>
        createApiKey(tx, { actor: owner, deps, now, assertMayMintSecret: stepUp }, aSecretKey()),
      ),
    ).rejects.toThrow('step up first');
    await db.withTenant(tenantId, (tx) =>
      createApiKey(
        tx,
        { actor: owner, deps, now, assertMayMintSecret: stepUp },
        aSecretKey({ type: 'publishable', scopes: [] }),
      ),
    );
    expect(await db.withTenant(tenantId, (tx) => listApiKeys(tx))).toHaveLength(1);
  });
});

describe('revoke and rotate', () => {
  test("one tenant cannot revoke or rotate another tenant's key", async () => {
    const a = await tenantWithOwner();
    const b = await tenantWithOwner();
    const { apiKey } = await db.withTenant(a.tenantId, (tx) =>
      createApiKey(tx, { actor: a.owner, deps, now }, aSecretKey()),
    );
    await expect(
      db.withTenant(b.tenantId, (tx) => revokeApiKey(tx, b.owner, apiKey.id, now)),
    ).rejects.toMatchObject({ code: 'api_key_not_found' });
    await expect(
      db.withTenant(b.tenantId, (tx) =>
        rotateApiKey(tx, { actor: b.owner, deps, now }, { id: apiKey.id, graceSeconds: 60 }),
      ),
    ).rejects.toMatchObject({ code: 'api_key_not_found' });
    expect(await db.withTenant(b.tenantId, (tx) => listApiKeys(tx))).toEqual([]);
    expect((await db.withTenant(a.tenantId, (tx) => listApiKeys(tx)))[0]?.revokedAt).toBeNull();
  });

  test('revocation is audited once; a second revoke is not found; self-revocation is for secret keys', async () => {
    const { tenantId, owner } = await tenantWithOwner();
    const { apiKey } = await db.withTenant(tenantId, (tx) =>
      createApiKey(tx, { actor: owner, deps, now }, aSecretKey()),
    );
    await db.withTenant(tenantId, (tx) => revokeApiKey(tx, owner, apiKey.id, now));
    await expect(
      db.withTenant(tenantId, (tx) => revokeApiKey(tx, owner, apiKey.id, now)),
    ).rejects.toMatchObject({ code: 'api_key_not_found' });
    const pk = await db.withTenant(tenantId, (tx) =>
      createApiKey(
        tx,
        { actor: owner, deps, now },
        aSecretKey({ type: 'publishable', scopes: [] }),
      ),
    );
    await expect(
      db.withTenant(tenantId, (tx) =>
        revokeOwnApiKey(
          tx,
          { id: pk.apiKey.id, type: 'publishable' },
          { ip: null, userAgent: null },
          now,
        ),
      ),
    ).rejects.toMatchObject({ code: 'api_key_forbidden' });
    const sk = await db.withTenant(tenantId, (tx) =>
      createApiKey(tx, { actor: owner, deps, now }, aSecretKey()),
    );
    await db.withTenant(tenantId, (tx) =>
      revokeOwnApiKey(
        tx,
        { id: sk.apiKey.id, type: 'secret' },
        { ip: '198.51.100.4', userAgent: null },
        now,
      ),
    );
    const revoked = (await auditActions(tenantId)).filter((e) => e.action === 'api_key.revoked');
    expect(revoked).toEqual([
      expect.objectContaining({ actorType: 'user', metadata: { self: false } }),
      expect.objectContaining({
        actorType: 'api_key',
        actorId: sk.apiKey.id,
        metadata: { self: true },
      }),
    ]);
  });

  test('rotation keeps the settings, links the new key, shortens the old expiry to the grace, and is audited', async () => {
    const { tenantId, owner } = await tenantWithOwner();
    const old = await db.withTenant(tenantId, (tx) =>
      createApiKey(
        tx,
        { actor: owner, deps, now },
        aSecretKey({ rateLimit: { max: 5, windowSeconds: 60 }, quota: { remaining: 10 } }),
      ),
    );
    const fresh = await db.withTenant(tenantId, (tx) =>
      rotateApiKey(tx, { actor: owner, deps, now }, { id: old.apiKey.id, graceSeconds: 300 }),
    );
    expect(fresh.key).not.toBe(old.key);
    expect(fresh.apiKey).toMatchObject({
      name: 'CI deploy',
      scopes: ['users:read'],
      rateLimit: { max: 5, windowSeconds: 60 },
      quota: { remaining: 10, refill: null },
      rotatedFromId: old.apiKey.id,
    });
    const listed = await db.withTenant(tenantId, (tx) => listApiKeys(tx));
    expect(listed.find((k) => k.id === old.apiKey.id)?.expiresAt).toBe('2026-03-01T12:05:00.000Z');
    expect((await auditActions(tenantId)).at(-1)).toMatchObject({
      action: 'api_key.rotated',
      after: { newKeyId: fresh.apiKey.id, graceEndsAt: '2026-03-01T12:05:00.000Z' },
    });
    const instant = await db.withTenant(tenantId, (tx) =>
      rotateApiKey(tx, { actor: owner, deps, now }, { id: fresh.apiKey.id, graceSeconds: 0 }),
    );
    expect(
      (await db.withTenant(tenantId, (tx) => listApiKeys(tx))).find((k) => k.id === fresh.apiKey.id)
        ?.revokedAt,
    ).toBe(now.toISOString());
    expect(instant.apiKey.rotatedFromId).toBe(fresh.apiKey.id);
  });
});

describe('storage', () => {
  test('no table holds a key in clear: every text, bytea and json column of every table is scanned', async () => {
    const { tenantId, owner } = await tenantWithOwner();
    const keys: string[] = [];
    for (const type of ['secret', 'publishable'] as const) {
      const minted = await db.withTenant(tenantId, (tx) =>
        createApiKey(
          tx,
          { actor: owner, deps, now },
          aSecretKey({ type, scopes: type === 'secret' ? ['users:read'] : [] }),
        ),
      );
      keys.push(
        minted.key,
        (
          await db.withTenant(tenantId, (tx) =>
            rotateApiKey(
              tx,
              { actor: owner, deps, now },
              { id: minted.apiKey.id, graceSeconds: 60 },
            ),
          )
        ).key,
      );
    }
    const { rows: columns } = await db.owner.pool.query<{
      table: string;
      column: string;
      type: string;
    }>(`
      SELECT c.table_name AS table, c.column_name AS column, c.data_type AS type FROM information_schema.columns c
      JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
      WHERE c.table_schema = 'public' AND c.data_type IN ('text', 'character varying', 'bytea', 'jsonb', 'json')`);
    expect(columns.length).toBeGreaterThan(20);
    for (const { table, column, type } of columns) {
      // Identifiers come from the catalog and are quoted server-side by format(%I).
      const template =
        type === 'bytea'
          ? "SELECT encode(%I, 'escape') AS v FROM public.%I"
          : 'SELECT %I::text AS v FROM public.%I';
      const built =
        (
          await db.owner.pool.query<{ q: string }>('SELECT format($1, $2::text, $3::text) AS q', [
            template,
            column,
            table,
          ])
        ).rows[0]?.q ?? '';
      const { rows } = await db.owner.pool.query<{ v: string | null }>(built);
      for (const { v } of rows)
        for (const key of keys)
          expect(v ?? '', `${table}.${column}`).not.toContain(key.slice(8, 40));
      if (table === 'api_keys' && column === 'prefix')
        expect(rows.map((r) => r.v)).toContain(keys[0]?.slice(0, 12)); // the scan sees rows
    }
  });

  test('the runtime role cannot read key hashes back, nor delete keys', async () => {
    const { tenantId, owner } = await tenantWithOwner();
    await db.withTenant(tenantId, (tx) =>
      createApiKey(tx, { actor: owner, deps, now }, aSecretKey()),
    );
    expect(
      await sqlStateOf(
        db.withTenant(tenantId, (tx) => tx.client.query('SELECT key_hash FROM api_keys')),
      ),
    ).toBe(SQLSTATE.insufficientPrivilege);
    expect(
      await sqlStateOf(db.withTenant(tenantId, (tx) => tx.client.query('DELETE FROM api_keys'))),
    ).toBe(SQLSTATE.insufficientPrivilege);
    expect(
      await sqlStateOf(
        db.withTenant(tenantId, (tx) => tx.client.query("UPDATE api_keys SET scopes = '[]'")),
      ),
    ).toBe(SQLSTATE.insufficientPrivilege);
    expect(await db.app.pool.query('SELECT id FROM api_keys')).toMatchObject({ rowCount: 0 }); // no tenant: no rows
  });
});
