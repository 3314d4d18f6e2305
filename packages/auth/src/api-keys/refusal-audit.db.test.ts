// Refusals of an existing key that the audit log summarises (one event per key and reason per
// interval) must not vanish with the process that counted them (docs/design.md "Failure bookkeeping"): the
// count is committed with every refusal, a restarted verifier carries it into its next event, and
// the scheduled upkeep writes what no later refusal reported. The tally table keeps RLS (rule 1).
import { randomUUID } from 'node:crypto';
import { apiKeyRefusalTallies, auditLogs, users } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { and, eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { generateKeyringSpec } from '../crypto/keyring.js';
import { createApiKey } from './create-api-key.js';
import { parsePepperRing } from './pepper-ring.js';
import { flushApiKeyRefusalTallies } from './refusal-audit.js';
import { revokeApiKey } from './revoke-api-key.js';
import { createApiKeyVerifier } from './verify-api-key.js';

const db = useTestDatabase();
const now = new Date('2026-03-01T12:00:00Z');
const peppers = parsePepperRing(generateKeyringSpec(1));
const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);
let pool: pg.Pool;

beforeAll(() => {
  pool = new pg.Pool({ connectionString: db.appUrl, max: 4 });
});
afterAll(async () => pool.end());

async function revokedKey(): Promise<{ tenantId: string; keyId: string; key: string }> {
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
  const owner = { type: 'user', id: userId } as const;
  const { key, apiKey } = await db.withTenant(tenant.id, (tx) =>
    createApiKey(
      tx,
      { actor: owner, deps: { peppers }, now },
      { name: 'server', type: 'secret', environment: 'live', scopes: [] },
    ),
  );
  await db.withTenant(tenant.id, (tx) => revokeApiKey(tx, owner, apiKey.id, now));
  return { tenantId: tenant.id, keyId: apiKey.id, key };
}

const summaries = async (k: { tenantId: string; keyId: string }) =>
  (
    await db.withTenant(k.tenantId, (tx) =>
      tx
        .select({ metadata: auditLogs.metadata })
        .from(auditLogs)
        .where(and(eq(auditLogs.action, 'api_key.refused'), eq(auditLogs.actorId, k.keyId)))
        .orderBy(auditLogs.seq),
    )
  ).map((r) => r.metadata);

const verifierWith = (intervalMs: number) =>
  createApiKeyVerifier({ pool, peppers, cache: false, refusalAuditIntervalMs: intervalMs });

test('suppressed refusal counts survive a restart: the next process keeps suppressing and reports them', async () => {
  const k = await revokedKey();
  const first = verifierWith(60_000);
  for (let i = 0; i < 5; i += 1)
    expect(await first.verify(k.key, { ip: '203.0.113.7', now: at(i) })).toBeNull();
  await first.close(); // the process goes away with 4 refusals summarised by no event yet
  const second = verifierWith(60_000);
  expect(await second.verify(k.key, { ip: '203.0.113.7', now: at(10) })).toBeNull(); // still inside the interval
  expect(await second.verify(k.key, { ip: '203.0.113.7', now: at(60) })).toBeNull();
  await second.close();
  expect(await summaries(k)).toEqual([
    expect.objectContaining({ reason: 'revoked', refusalsSinceLastEvent: 0 }),
    expect.objectContaining({ reason: 'revoked', refusalsSinceLastEvent: 5 }),
  ]);
});

test('the upkeep flush audits counts that no later refusal reported, once', async () => {
  const k = await revokedKey();
  const verifier = verifierWith(60_000);
  for (let i = 0; i < 4; i += 1)
    expect(await verifier.verify(k.key, { ip: '203.0.113.7', now: at(i) })).toBeNull();
  await verifier.close();
  const flushed = await flushApiKeyRefusalTallies(db.app);
  expect(flushed).toBeGreaterThanOrEqual(1);
  expect(await summaries(k)).toEqual([
    expect.objectContaining({ reason: 'revoked', refusalsSinceLastEvent: 0 }),
    expect.objectContaining({
      reason: 'revoked',
      refusalsSinceLastEvent: 3,
      keyPrefix: expect.stringMatching(/^sk_live_/),
    }),
  ]);
  await flushApiKeyRefusalTallies(db.app);
  expect(await summaries(k)).toHaveLength(2);
});

test('tallies are tenant rows under RLS: no tenant context sees none, another tenant sees none', async () => {
  const k = await revokedKey();
  const other = await db.seedTenant();
  const verifier = verifierWith(60_000);
  expect(await verifier.verify(k.key, { ip: '203.0.113.7', now })).toBeNull();
  await verifier.close();
  expect((await db.app.pool.query('SELECT * FROM api_key_refusal_tallies')).rowCount).toBe(0);
  expect(await db.withTenant(other.id, (tx) => tx.select().from(apiKeyRefusalTallies))).toEqual([]);
  expect(
    await db.withTenant(k.tenantId, (tx) => tx.select().from(apiKeyRefusalTallies)),
  ).toHaveLength(1);
});
