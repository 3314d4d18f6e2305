// Attack: a key is revoked (leaked, employee gone) but API processes keep honouring it from an
// in-process cache. Revocation and rotation must reach every process within one second through
// Postgres LISTEN/NOTIFY, and a process that cannot hear notifications must stop caching.
// A revoked key must stop working everywhere at once; docs/design.md "Tests and CI"; ASVS V3.3.
import { randomUUID } from 'node:crypto';
import { users } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import pg from 'pg';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { generateKeyringSpec } from '../crypto/keyring.js';
import { createApiKey } from './create-api-key.js';
import { parsePepperRing } from './pepper-ring.js';
import { revokeApiKey } from './revoke-api-key.js';
import { rotateApiKey } from './rotate-api-key.js';
import { createApiKeyVerifier, type ApiKeyVerifier } from './verify-api-key.js';

const db = useTestDatabase();
const BOUND_MS = 1_000;
const MARGIN_MS = 250;
const peppers = parsePepperRing(generateKeyringSpec(1));
const now = new Date('2026-03-01T12:00:00Z');
const ip = '203.0.113.7';
const instances: { pool: pg.Pool; verifier: ApiKeyVerifier }[] = [];

async function instance(): Promise<{ pool: pg.Pool; verifier: ApiKeyVerifier }> {
  const pool = new pg.Pool({ connectionString: db.appUrl, max: 3 });
  // The tests terminate backends on purpose; an idle pooled client that loses its connection
  // emits 'error' on the pool, which would otherwise end the run (createDatabase does the same).
  pool.on('error', () => undefined);
  const verifier = createApiKeyVerifier({ pool, peppers, cache: { heartbeatMs: 500 } });
  await verifier.start();
  instances.push({ pool, verifier });
  return { pool, verifier };
}

let a: { pool: pg.Pool; verifier: ApiKeyVerifier };
let b: { pool: pg.Pool; verifier: ApiKeyVerifier };
beforeAll(async () => {
  a = await instance();
  b = await instance();
});
afterAll(async () => {
  for (const { pool, verifier } of instances) {
    await verifier.close();
    await pool.end();
  }
});

async function seedKey() {
  const tenant = await db.seedTenant();
  const id = randomUUID();
  await db.withTenant(tenant.id, (tx) =>
    tx
      .insert(users)
      .values({ id, tenantId: tenant.id, email: `o-${id.slice(0, 8)}@example.com`, role: 'owner' }),
  );
  const owner = { type: 'user', id } as const;
  const minted = await db.withTenant(tenant.id, (tx) =>
    createApiKey(
      tx,
      { actor: owner, deps: { peppers }, now },
      { name: 'srv', type: 'secret', environment: 'live', scopes: ['users:read'] },
    ),
  );
  return { tenantId: tenant.id, owner, ...minted };
}

/** Polls until `check` holds; returns the milliseconds it took, or throws after bound + margin. */
async function within(boundMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started <= boundMs + MARGIN_MS) {
    if (await check()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`not seen within ${boundMs} ms + ${MARGIN_MS} ms`);
}

async function servedFromCache(
  target: { pool: pg.Pool; verifier: ApiKeyVerifier },
  key: string,
  at = now,
): Promise<boolean> {
  const spy = vi.spyOn(target.pool, 'query');
  try {
    return (
      (await target.verifier.verify(key, { ip, now: at })) !== null && spy.mock.calls.length === 0
    );
  } finally {
    spy.mockRestore();
  }
}

test('a revocation committed through one instance is seen by a second instance within one second', async () => {
  const { key, apiKey, tenantId, owner } = await seedKey();
  for (const target of [a, b]) await target.verifier.verify(key, { ip, now });
  expect(await servedFromCache(b, key)).toBe(true); // the second instance really answers from its cache
  await db.withTenant(tenantId, (tx) => revokeApiKey(tx, owner, apiKey.id, now));
  const elapsed = await within(
    BOUND_MS,
    async () => (await b.verifier.verify(key, { ip, now })) === null,
  );
  expect(elapsed).toBeLessThanOrEqual(BOUND_MS);
  expect(await a.verifier.verify(key, { ip, now })).toBeNull();
});

test('rotation: the new key works at once everywhere, the old one until the grace ends (injected clock)', async () => {
  const { key, apiKey, tenantId, owner } = await seedKey();
  expect(await servedFromCache(b, key)).toBe(false);
  expect(await servedFromCache(b, key)).toBe(true);
  const rotated = await db.withTenant(tenantId, (tx) =>
    rotateApiKey(
      tx,
      { actor: owner, deps: { peppers }, now },
      { id: apiKey.id, graceSeconds: 300 },
    ),
  );
  expect(await b.verifier.verify(rotated.key, { ip, now })).toMatchObject({
    id: rotated.apiKey.id,
  });
  const graceEnd = new Date(now.getTime() + 300_000);
  const justBefore = new Date(graceEnd.getTime() - 1);
  expect(await b.verifier.verify(key, { ip, now: justBefore })).toMatchObject({ id: apiKey.id });
  // The cached entry had no expiry; the rotation's notification must replace it within the bound.
  await within(
    BOUND_MS,
    async () => (await b.verifier.verify(key, { ip, now: graceEnd })) === null,
  );
  expect(await b.verifier.verify(key, { ip, now: justBefore })).not.toBeNull();
  expect(await b.verifier.verify(rotated.key, { ip, now: graceEnd })).not.toBeNull();
});

test('an instance whose LISTEN connection dies stops serving from cache, reconnects, and honours revocations again', async () => {
  const { key, apiKey, tenantId, owner } = await seedKey();
  const c = await instance();
  await c.verifier.verify(key, { ip, now });
  expect(await servedFromCache(c, key)).toBe(true);
  const listeners = async () =>
    (
      await db.owner.pool.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'tessera-api-key-listener' AND datname = current_database()",
      )
    ).rows.map((r) => r.pid);
  const before = await listeners();
  await db.owner.pool.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [
    before,
  ]);
  await within(BOUND_MS, async () => !(await servedFromCache(c, key))); // cache bypassed while deaf
  await within(5_000, async () => (await listeners()).length >= before.length);
  await within(BOUND_MS, async () => {
    await c.verifier.verify(key, { ip, now });
    return servedFromCache(c, key);
  });
  await db.withTenant(tenantId, (tx) => revokeApiKey(tx, owner, apiKey.id, now));
  await within(BOUND_MS, async () => (await c.verifier.verify(key, { ip, now })) === null);
});
