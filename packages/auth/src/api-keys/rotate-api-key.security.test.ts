// Attacks on key rotation: rotating a key again while it is in its grace period (or once it has a
// successor) to mint several live keys that each carry a copy of the remaining usage quota, so a
// quota of 2 becomes 2 per key; and later successors inheriting the old key's short grace expiry.
// A rotation moves the quota: the old key in its grace and every successor spend one counter.
// docs/design.md "Secrets" (rotation), docs/api-keys.md; ASVS V2.10, V11.1 (business limits).
import { randomUUID } from 'node:crypto';
import { users } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateKeyringSpec } from '../crypto/keyring.js';
import type { ApiKeyActor } from './actor.js';
import { createApiKey, type CreateApiKeyParams } from './create-api-key.js';
import { parsePepperRing } from './pepper-ring.js';
import { revokeApiKey } from './revoke-api-key.js';
import { rotateApiKey } from './rotate-api-key.js';
import { createApiKeyVerifier, type ApiKeyVerifier } from './verify-api-key.js';

const db = useTestDatabase();
const now = new Date('2026-03-01T12:00:00Z');
const deps = { peppers: parsePepperRing(generateKeyringSpec(1)) };
const ip = '203.0.113.7';
let pool: pg.Pool;
let verifier: ApiKeyVerifier;

beforeAll(() => {
  pool = new pg.Pool({ connectionString: db.appUrl, max: 6 });
  // The test database is dropped at teardown, which ends idle connections: without a listener
  // that 'error' would end the run as an unhandled error.
  pool.on('error', () => undefined);
  verifier = createApiKeyVerifier({
    pool,
    peppers: deps.peppers,
    cache: false,
    refusalAuditIntervalMs: 0,
  });
});
afterAll(async () => {
  await verifier.close();
  await pool.end();
});

const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);

async function seedKey(params: Partial<CreateApiKeyParams>) {
  const tenant = await db.seedTenant();
  const id = randomUUID();
  await db.withTenant(tenant.id, (tx) =>
    tx
      .insert(users)
      .values({ id, tenantId: tenant.id, email: `o-${id.slice(0, 8)}@example.com`, role: 'owner' }),
  );
  const owner: ApiKeyActor = { type: 'user', id };
  const minted = await db.withTenant(tenant.id, (tx) =>
    createApiKey(
      tx,
      { actor: owner, deps, now },
      { name: 'server', type: 'secret', environment: 'live', scopes: ['users:read'], ...params },
    ),
  );
  const rotate = (keyId: string, graceSeconds: number, when = now) =>
    db.withTenant(tenant.id, (tx) =>
      rotateApiKey(tx, { actor: owner, deps, now: when }, { id: keyId, graceSeconds }),
    );
  return { tenantId: tenant.id, owner, ...minted, rotate };
}

/** Tries one call with `key`; true when it was let through, false when the quota refused it. */
async function spend(key: string, when = now): Promise<boolean> {
  try {
    return (await verifier.verify(key, { ip, now: when })) !== null;
  } catch (error) {
    if ((error as { code?: string }).code === 'api_key_quota_exhausted') return false;
    throw error;
  }
}

async function spendAll(
  keys: readonly string[],
  attemptsPerKey: number,
  when = now,
): Promise<number> {
  let allowed = 0;
  for (const key of keys)
    for (let i = 0; i < attemptsPerKey; i += 1) if (await spend(key, when)) allowed += 1;
  return allowed;
}

describe('rotating a key again', () => {
  test('three rotations of one key cannot turn a quota of 2 into more than 2 calls', async () => {
    const seeded = await seedKey({ quota: { remaining: 2 } });
    const keys = [seeded.key];
    for (let i = 0; i < 3; i += 1) {
      const minted = await seeded.rotate(seeded.apiKey.id, 3600).catch(() => null);
      if (minted) keys.push(minted.key);
    }
    expect(keys).toHaveLength(2); // the first rotation happened; the two after it were refused
    expect(await spendAll(keys, 4)).toBe(2);
  });

  test('a key in its grace period, or one with a successor, is refused with a typed reason; its successor rotates', async () => {
    const seeded = await seedKey({ expiresAt: at(30 * 86_400).toISOString() });
    const first = await seeded.rotate(seeded.apiKey.id, 3600);
    await expect(seeded.rotate(seeded.apiKey.id, 3600, at(10))).rejects.toMatchObject({
      code: 'api_key_already_rotated',
      field: 'id',
    });
    await expect(seeded.rotate(seeded.apiKey.id, 0, at(10))).rejects.toMatchObject({
      code: 'api_key_already_rotated',
    });
    // The successor keeps the original expiry, not the old key's grace expiry, and rotates as usual.
    expect(first.apiKey.expiresAt).toBe(at(30 * 86_400).toISOString());
    const second = await seeded.rotate(first.apiKey.id, 60, at(20));
    expect(second.apiKey).toMatchObject({
      rotatedFromId: first.apiKey.id,
      expiresAt: at(30 * 86_400).toISOString(),
    });
    // A key whose grace has ended is expired and unknown; a revoked predecessor stays refused too.
    await expect(seeded.rotate(seeded.apiKey.id, 60, at(7200))).rejects.toMatchObject({
      code: 'api_key_not_found',
    });
    const { rows } = await db.owner.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM api_keys WHERE tenant_id = $1',
      [seeded.tenantId],
    );
    expect(rows[0]?.n).toBe(3);
  });
});

describe('the quota moves to the successor', () => {
  test('the old key in its grace and its successor spend one counter: never more than what was left', async () => {
    const seeded = await seedKey({ quota: { remaining: 5 } });
    expect(await spend(seeded.key)).toBe(true); // 4 left
    const next = await seeded.rotate(seeded.apiKey.id, 3600);
    expect(next.apiKey.quota).toEqual({ remaining: 4, refill: null });
    expect(await spend(seeded.key)).toBe(true);
    expect(await spend(next.key)).toBe(true);
    // Racing both keys at once still lets exactly what is left through.
    const raced = await Promise.all(
      Array.from({ length: 10 }, (_, i) => spend(i % 2 === 0 ? seeded.key : next.key)),
    );
    expect(raced.filter(Boolean)).toHaveLength(2);
    expect(await spend(seeded.key)).toBe(false);
    expect(await spend(next.key)).toBe(false);
  });

  test('revoking the successor does not hand the old key a fresh copy of the quota', async () => {
    const seeded = await seedKey({ quota: { remaining: 2 } });
    const next = await seeded.rotate(seeded.apiKey.id, 3600);
    expect(await spendAll([next.key], 2)).toBe(2);
    await db.withTenant(seeded.tenantId, (tx) =>
      revokeApiKey(tx, seeded.owner, next.apiKey.id, now),
    );
    expect(await spend(seeded.key)).toBe(false);
  });

  test('a chain of rotations shares one counter, and a refill fills it once, not once per key', async () => {
    const seeded = await seedKey({
      quota: { remaining: 3, refill: { amount: 3, intervalSeconds: 3600 } },
    });
    const second = await seeded.rotate(seeded.apiKey.id, 7 * 86_400);
    const third = await seeded.rotate(second.apiKey.id, 7 * 86_400);
    const keys = [seeded.key, second.key, third.key];
    expect(await spendAll(keys, 3)).toBe(3);
    // Definer functions read the database clock: an hour passes by moving the refill baseline back.
    await db.owner.pool.query(
      `UPDATE api_keys SET quota_refilled_at = quota_refilled_at - interval '3600 seconds' WHERE id = $1`,
      [third.apiKey.id],
    );
    expect(await spendAll(keys, 3, at(3600))).toBe(3);
    const { rows } = await db.owner.pool.query<{ id: string; quota_remaining: number }>(
      'SELECT id, quota_remaining FROM api_keys WHERE id = $1',
      [third.apiKey.id],
    );
    expect(rows[0]?.quota_remaining).toBe(0);
  });

  test('a key without a quota rotates into a key without a quota, and both keep working in the grace', async () => {
    const seeded = await seedKey({});
    const next = await seeded.rotate(seeded.apiKey.id, 3600);
    expect(next.apiKey.quota).toBeNull();
    expect(await spendAll([seeded.key, next.key], 5)).toBe(10);
  });
});
