// Attacks on the key request path: guessing or mistyping keys (no oracle, no round trip for
// junk), replaying revoked or expired keys, using a stolen key from outside its allowlist (IPv4
// and IPv6), exhausting one key to starve another, overspending a quota by racing requests.
// docs/design.md rules 3-4 and "Failure bookkeeping"; ASVS V2.10, V11.1.
import { randomUUID } from 'node:crypto';
import { auditLogs, users } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { and, eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { generateKeyringSpec } from '../crypto/keyring.js';
import type { ApiKeyActor } from './actor.js';
import { createApiKey, type CreateApiKeyParams } from './create-api-key.js';
import { generateApiKey } from './key-format.js';
import { parsePepperRing } from './pepper-ring.js';
import { revokeApiKey } from './revoke-api-key.js';
import { createApiKeyVerifier, type ApiKeyVerifier } from './verify-api-key.js';

const db = useTestDatabase();
const now = new Date('2026-03-01T12:00:00Z');
const v1 = generateKeyringSpec(1);
const peppers = parsePepperRing(v1);
let pool: pg.Pool;
let verifier: ApiKeyVerifier;

beforeAll(() => {
  pool = new pg.Pool({ connectionString: db.appUrl, max: 4 });
  verifier = createApiKeyVerifier({ pool, peppers, cache: false, refusalAuditIntervalMs: 0 });
});
afterAll(async () => {
  await verifier.close();
  await pool.end();
});

let shared: { tenantId: string; owner: ApiKeyActor } | undefined;

/** Keys share one tenant (refusals are told apart by the key as actor): fewer round trips. */
async function seedKey(params: Partial<CreateApiKeyParams> = {}, ring = peppers) {
  if (shared === undefined) {
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
    shared = { tenantId: tenant.id, owner: { type: 'user', id: userId } };
  }
  const { tenantId, owner } = shared;
  const minted = await db.withTenant(tenantId, (tx) =>
    createApiKey(
      tx,
      { actor: owner, deps: { peppers: ring }, now },
      { name: 'server', type: 'secret', environment: 'live', scopes: ['users:read'], ...params },
    ),
  );
  return { tenantId, owner, ...minted };
}

async function refusals(of: { tenantId: string; apiKey: { id: string } }) {
  // A separate connection: what is read here was committed before verify() settled.
  return db.withTenant(of.tenantId, (tx) =>
    tx
      .select({ metadata: auditLogs.metadata, ip: auditLogs.ip, actorId: auditLogs.actorId })
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'api_key.refused'), eq(auditLogs.actorId, of.apiKey.id)))
      .orderBy(auditLogs.seq),
  );
}

const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);

describe('unknown, malformed, revoked and expired keys', () => {
  test('a checksum typo is refused without a database round trip; a well-formed unknown key costs one', async () => {
    const { key } = await seedKey();
    const spy = vi.spyOn(pool, 'query');
    const typo = key.slice(0, 20) + (key[20] === 'x' ? 'y' : 'x') + key.slice(21);
    expect(await verifier.verify(typo, { ip: '203.0.113.7', now })).toBeNull();
    expect(await verifier.verify('Bearer nonsense', { ip: '203.0.113.7', now })).toBeNull();
    expect(spy).not.toHaveBeenCalled();
    const other = generateApiKey('secret', 'live').key; // well-formed, never stored
    expect(await verifier.verify(other, { ip: '203.0.113.7', now })).toBeNull();
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });

  test('an address that keeps presenting unknown keys is braked before the database (429), others are not', async () => {
    const braking = createApiKeyVerifier({
      pool,
      peppers,
      cache: false,
      failedLookupLimit: { max: 2, windowSeconds: 60 },
    });
    const unknown = () => generateApiKey('secret', 'live').key;
    for (let i = 0; i < 2; i += 1)
      expect(await braking.verify(unknown(), { ip: '192.0.2.66', now })).toBeNull();
    const next = unknown();
    const spy = vi.spyOn(pool, 'query');
    await expect(braking.verify(next, { ip: '192.0.2.66', now: at(15) })).rejects.toMatchObject({
      code: 'api_key_rate_limited',
      retryAfterSeconds: 45,
    });
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(await braking.verify(next, { ip: '192.0.2.67', now })).toBeNull();
    expect(await braking.verify(next, { ip: '192.0.2.66', now: at(60) })).toBeNull(); // window over
    await braking.close();
  });

  test('a live key verifies to its tenant, type and scopes', async () => {
    const { key, apiKey, tenantId } = await seedKey();
    expect(await verifier.verify(key, { ip: '203.0.113.7', now })).toEqual({
      id: apiKey.id,
      tenantId,
      type: 'secret',
      environment: 'live',
      prefix: apiKey.prefix,
      scopes: ['users:read'],
    });
  });

  test('revoked and expired keys answer like unknown ones, and each refusal is audited without the key', async () => {
    const revoked = await seedKey();
    await db.withTenant(revoked.tenantId, (tx) =>
      revokeApiKey(tx, revoked.owner, revoked.apiKey.id, now),
    );
    expect(await verifier.verify(revoked.key, { ip: '203.0.113.7', now })).toBeNull();
    const expiring = await seedKey({ expiresAt: at(60) });
    expect(await verifier.verify(expiring.key, { ip: '203.0.113.7', now: at(59) })).not.toBeNull();
    expect(await verifier.verify(expiring.key, { ip: '2001:db8::7', now: at(60) })).toBeNull();
    expect(await refusals(revoked)).toEqual([
      {
        metadata: expect.objectContaining({ reason: 'revoked', keyPrefix: revoked.apiKey.prefix }),
        ip: '203.0.113.7',
        actorId: revoked.apiKey.id,
      },
    ]);
    expect(await refusals(expiring)).toEqual([
      expect.objectContaining({
        metadata: expect.objectContaining({ reason: 'expired' }),
        ip: '2001:db8::7',
      }),
    ]);
    const { rows } = await db.owner.pool.query<{ row: string }>(
      'SELECT a::text AS row FROM audit_logs a',
    );
    for (const { row } of rows)
      for (const key of [revoked.key, expiring.key]) expect(row).not.toContain(key.slice(12));
  });

  test('a flood of refusals of one key writes one audit event per interval, counting the ones it summarises', async () => {
    const throttled = createApiKeyVerifier({
      pool,
      peppers,
      cache: false,
      refusalAuditIntervalMs: 60_000,
    });
    const revoked = await seedKey();
    await db.withTenant(revoked.tenantId, (tx) =>
      revokeApiKey(tx, revoked.owner, revoked.apiKey.id, now),
    );
    for (let i = 0; i < 5; i += 1)
      expect(await throttled.verify(revoked.key, { ip: '203.0.113.7', now: at(i) })).toBeNull();
    expect(await throttled.verify(revoked.key, { ip: '203.0.113.7', now: at(60) })).toBeNull();
    expect((await refusals(revoked)).map((r) => r.metadata)).toEqual([
      expect.objectContaining({ reason: 'revoked', refusalsSinceLastEvent: 0 }),
      expect.objectContaining({ reason: 'revoked', refusalsSinceLastEvent: 4 }),
    ]);
    await throttled.close();
  });
});

describe('IP allowlists', () => {
  test('IPv4: a request from outside the ranges is forbidden and audited; inside passes', async () => {
    const seeded = await seedKey({ allowedCidrs: ['203.0.113.0/24', '198.51.100.7'] });
    const { key } = seeded;
    expect(await verifier.verify(key, { ip: '203.0.113.250', now })).not.toBeNull();
    expect(await verifier.verify(key, { ip: '198.51.100.7', now })).not.toBeNull();
    expect(await verifier.verify(key, { ip: '::ffff:203.0.113.9', now })).not.toBeNull(); // dual-stack socket
    await expect(verifier.verify(key, { ip: '198.51.100.8', now })).rejects.toMatchObject({
      code: 'api_key_forbidden',
    });
    await expect(verifier.verify(key, { ip: '2001:db8::1', now })).rejects.toMatchObject({
      code: 'api_key_forbidden',
    });
    expect(await refusals(seeded)).toEqual([
      expect.objectContaining({
        metadata: expect.objectContaining({ reason: 'ip_not_allowed' }),
        ip: '198.51.100.8',
      }),
      expect.objectContaining({
        metadata: expect.objectContaining({ reason: 'ip_not_allowed' }),
        ip: '2001:db8::1',
      }),
    ]);
  });

  test('IPv6: ranges match by prefix; IPv4 requests and neighbouring prefixes are refused', async () => {
    const { key } = await seedKey({ allowedCidrs: ['2001:db8:abcd::/48', '::ffff:192.0.2.0/120'] });
    expect(await verifier.verify(key, { ip: '2001:db8:abcd:12::1', now })).not.toBeNull();
    expect(await verifier.verify(key, { ip: '192.0.2.44', now })).not.toBeNull(); // mapped range stored as IPv4
    await expect(verifier.verify(key, { ip: '2001:db8:abce::1', now })).rejects.toMatchObject({
      code: 'api_key_forbidden',
    });
    await expect(verifier.verify(key, { ip: '203.0.113.7', now })).rejects.toMatchObject({
      code: 'api_key_forbidden',
    });
  });
});

describe('rate limits and quotas', () => {
  test('one key at its limit does not limit another key; each tRPC call in a batch counts', async () => {
    const a = await seedKey({ rateLimit: { max: 3, windowSeconds: 60 } });
    const b = await seedKey({ rateLimit: { max: 3, windowSeconds: 60 } });
    expect(await verifier.verify(a.key, { ip: '203.0.113.7', now, calls: 3 })).not.toBeNull();
    await expect(verifier.verify(a.key, { ip: '203.0.113.7', now: at(10) })).rejects.toMatchObject({
      code: 'api_key_rate_limited',
      retryAfterSeconds: 50,
    });
    for (let i = 0; i < 3; i += 1)
      expect(await verifier.verify(b.key, { ip: '203.0.113.7', now: at(10) })).not.toBeNull();
    expect(await verifier.verify(a.key, { ip: '203.0.113.7', now: at(61) })).not.toBeNull(); // next window
    expect(await refusals(a)).toEqual([
      expect.objectContaining({ metadata: expect.objectContaining({ reason: 'rate_limited' }) }),
    ]);
    expect(await refusals(b)).toEqual([]);
  });

  test('a quota is spent atomically under concurrency, refused with its own reason, and refills', async () => {
    const { key, apiKey } = await seedKey({
      quota: { remaining: 5, refill: { amount: 5, intervalSeconds: 3600 } },
    });
    // Refills are due by the database clock: the quota period starts now there, and ends when
    // the owner connection moves its start an hour back.
    const periodStartsAgo = (seconds: number) =>
      db.owner.pool.query(
        `UPDATE api_keys SET quota_refilled_at = now() - $2 * interval '1 second' WHERE id = $1`,
        [apiKey.id, seconds],
      );
    await periodStartsAgo(0);
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => verifier.verify(key, { ip: '203.0.113.7', now })),
    );
    expect(results.filter((r) => r.status === 'fulfilled' && r.value !== null)).toHaveLength(5);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(7);
    for (const r of rejected) {
      expect(r.reason).toMatchObject({ code: 'api_key_quota_exhausted' });
      expect((r.reason as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(3590);
      expect((r.reason as { retryAfterSeconds: number }).retryAfterSeconds).toBeLessThanOrEqual(
        3600,
      );
    }
    await periodStartsAgo(3600);
    expect(await verifier.verify(key, { ip: '203.0.113.7', now: at(3600) })).not.toBeNull();
    const { rows } = await db.owner.pool.query<{ quota_remaining: number }>(
      'SELECT quota_remaining FROM api_keys WHERE id = $1',
      [apiKey.id],
    );
    expect(rows[0]?.quota_remaining).toBe(4);
  });
});

describe('bookkeeping and pepper rotation', () => {
  test('last_used_at and last_used_ip are written at most once a minute per key', async () => {
    const { key, apiKey } = await seedKey();
    // Last use is stamped with the database clock when the batch is written.
    const lastUsed = async () =>
      (
        await db.owner.pool.query<{ at: Date | null; ip: string | null; fresh: boolean }>(
          `SELECT last_used_at AS at, last_used_ip::text AS ip, last_used_at > now() - interval '10 seconds' AS fresh FROM api_keys WHERE id = $1`,
          [apiKey.id],
        )
      ).rows[0];
    await verifier.verify(key, { ip: '203.0.113.7', now });
    await verifier.verify(key, { ip: '198.51.100.1', now: at(30) });
    await verifier.flush();
    const first = await lastUsed();
    expect(first).toMatchObject({ ip: '203.0.113.7/32', fresh: true });
    // Another process (its own once-a-minute memory) reports a use within the minute: not written.
    const other = createApiKeyVerifier({ pool, peppers, cache: false });
    await other.verify(key, { ip: '198.51.100.2', now: at(30) });
    await other.flush();
    expect(await lastUsed()).toEqual(first);
    // A minute later (the stored stamp moved back through the owner connection), it is.
    await db.owner.pool.query(
      `UPDATE api_keys SET last_used_at = last_used_at - interval '61 seconds' WHERE id = $1`,
      [apiKey.id],
    );
    await verifier.verify(key, { ip: '2001:db8::9', now: at(61) });
    await verifier.flush();
    expect(await lastUsed()).toMatchObject({ ip: '2001:db8::9/128', fresh: true });
    await other.close();
  });

  test('a key stored under a retired pepper verifies in one query and is re-hashed under the current one', async () => {
    const { key, apiKey } = await seedKey({}, peppers);
    const v2 = generateKeyringSpec(2);
    const rotated = parsePepperRing(`${v2},${v1}`);
    const next = createApiKeyVerifier({ pool, peppers: rotated, cache: false });
    const spy = vi.spyOn(pool, 'query');
    expect(await next.verify(key, { ip: '203.0.113.7', now })).toMatchObject({ id: apiKey.id });
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    await next.close();
    const { rows } = await db.owner.pool.query<{ pepper_version: string }>(
      'SELECT pepper_version FROM api_keys WHERE id = $1',
      [apiKey.id],
    );
    expect(rows[0]?.pepper_version).toBe('v2');
    const onlyV2 = createApiKeyVerifier({ pool, peppers: parsePepperRing(v2), cache: false }); // v1 retired
    expect(await onlyV2.verify(key, { ip: '203.0.113.7', now })).toMatchObject({ id: apiKey.id });
    await onlyV2.close();
  });
});
