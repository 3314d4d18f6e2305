import { randomBytes, randomUUID } from 'node:crypto';
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { pruneSpentAuthArtifacts } from './prune-auth-artifacts.js';

const db = useTestDatabase();
// The prune reads the database clock: rows are dated relative to the real time instead.
const NOW = new Date();
const ago = (hours: number): Date => new Date(NOW.getTime() - hours * 3_600_000);
const q = (text: string, values: unknown[]) => db.owner.pool.query(text, values);

async function userIn(): Promise<{ tenantId: string; userId: string }> {
  const { id: tenantId } = await db.seedTenant();
  const userId = randomUUID();
  await q(`INSERT INTO users (id, tenant_id, email) VALUES ($1, $2, $3)`, [
    userId,
    tenantId,
    `${userId}@example.com`,
  ]);
  return { tenantId, userId };
}

async function challenge(
  who: { tenantId: string; userId: string },
  expiresAt: Date,
): Promise<string> {
  const id = randomUUID();
  await q(
    'INSERT INTO mfa_challenges (id, tenant_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [id, who.tenantId, who.userId, randomBytes(32), expiresAt],
  );
  return id;
}

async function device(
  who: { tenantId: string; userId: string },
  expiresAt: Date,
  revokedAt: Date | null,
): Promise<string> {
  const id = randomUUID();
  await q(
    'INSERT INTO remembered_devices (id, tenant_id, user_id, token_hash, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [id, who.tenantId, who.userId, randomBytes(32), ago(24 * 90), expiresAt, revokedAt],
  );
  return id;
}

const left = async (table: string, ids: string[]): Promise<string[]> =>
  (await q(`SELECT id::text FROM ${table} WHERE id = ANY($1::uuid[]) ORDER BY id`, [ids])).rows
    .map((r: { id: string }) => r.id)
    .sort();

test('spent rows go in every tenant; live, recent and still-listed rows stay', async () => {
  const a = await userIn();
  const b = await userIn();
  const deadA = await challenge(a, ago(30));
  const deadB = await challenge(b, ago(25));
  const recent = await challenge(a, ago(2)); // expired two hours ago: kept for a day
  const live = await challenge(b, new Date(NOW.getTime() + 300_000));
  const oldRevoked = await device(a, new Date(NOW.getTime() + 3_600_000 * 24 * 10), ago(24 * 31));
  const recentRevoked = await device(b, new Date(NOW.getTime() + 3_600_000 * 24 * 10), ago(24 * 3));
  const longExpired = await device(b, ago(24 * 40), null);
  const active = await device(a, new Date(NOW.getTime() + 3_600_000 * 24 * 20), null);

  const removed = await pruneSpentAuthArtifacts(db.app);
  expect(removed).toMatchObject({ mfa_challenges: 2, remembered_devices: 2 });
  expect(await left('mfa_challenges', [deadA, deadB, recent, live])).toEqual([recent, live].sort());
  expect(
    await left('remembered_devices', [oldRevoked, recentRevoked, longExpired, active]),
  ).toEqual([recentRevoked, active].sort());
  expect(await pruneSpentAuthArtifacts(db.app)).toMatchObject({
    mfa_challenges: 0,
    remembered_devices: 0,
  }); // idempotent
});

test('the runtime role cannot delete across tenants by itself; only through the function', async () => {
  const a = await userIn();
  await challenge(a, ago(30));
  const direct = await db.app.pool.query('DELETE FROM mfa_challenges');
  expect(direct.rowCount).toBe(0); // RLS: no tenant context, nothing visible
});
