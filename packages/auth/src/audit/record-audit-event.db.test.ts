import { users } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import { listAuditEvents } from './list-audit-events.js';
import { recordAuditEvent, type AuditEventInput } from './record-audit-event.js';
import { isUnusualSignInHour } from './risk-score.js';
import { verifyAuditChain } from './verify-audit-chain.js';

const db = useTestDatabase();
const now = new Date('2026-03-01T12:00:00Z');
const admin = { type: 'user', id: '6f1c2b9e-4d0a-4f7e-9a51-000000000001' } as const;

function roleChange(overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    actor: admin,
    action: 'user.role.changed',
    target: { type: 'user', id: 'u-2' },
    before: { role: 'member' },
    after: { role: 'admin' },
    occurredAt: now,
    ...overrides,
  };
}

describe('recordAuditEvent', () => {
  test('events of a tenant get seq 1, 2, 3 and each hash links to the previous one', async () => {
    const tenant = await db.seedTenant();
    const recorded = [];
    for (let i = 0; i < 3; i += 1)
      recorded.push(await db.withTenant(tenant.id, (tx) => recordAuditEvent(tx, roleChange())));
    expect(recorded.map((r) => r.seq)).toEqual([1, 2, 3]);
    const { rows } = await db.owner.pool.query<{ seq: string; prev: string; hash: string }>(
      `SELECT seq, encode(prev_hash, 'hex') AS prev, encode(hash, 'hex') AS hash FROM audit_logs WHERE tenant_id = $1 ORDER BY seq`,
      [tenant.id],
    );
    expect(rows.map((r) => r.prev)).toEqual(['0'.repeat(64), recorded[0]?.hash, recorded[1]?.hash]);
    expect(rows.map((r) => r.hash)).toEqual(recorded.map((r) => r.hash));
    expect(await db.withTenant(tenant.id, (tx) => verifyAuditChain(tx))).toEqual({
      valid: true,
      checked: 3,
    });
  });

  test('an audit failure rolls back the change it records, and leaves no gap in seq', async () => {
    const tenant = await db.seedTenant();
    await expect(
      db.withTenant(tenant.id, async (tx) => {
        await tx.insert(users).values({ tenantId: tenant.id, email: 'rolled@example.com' });
        await recordAuditEvent(tx, roleChange({ action: 'Not A Dotted Action' }));
      }),
    ).rejects.toThrow(TypeError);
    await expect(
      db.withTenant(tenant.id, async (tx) => {
        await recordAuditEvent(tx, roleChange());
        throw new Error('the change failed after its audit event');
      }),
    ).rejects.toThrow('the change failed');
    expect(await db.withTenant(tenant.id, (tx) => tx.select().from(users))).toEqual([]);
    expect((await db.withTenant(tenant.id, (tx) => recordAuditEvent(tx, roleChange()))).seq).toBe(
      1,
    );
  });

  test('secrets in before/after/metadata are stored as [redacted]', async () => {
    const tenant = await db.seedTenant();
    await db.withTenant(tenant.id, (tx) =>
      recordAuditEvent(
        tx,
        roleChange({
          before: { passwordHash: '$argon2id$v=19$secret-hash' },
          after: { password: 'hunter2', session: { token: 'tok-123' }, keyPrefix: 'sk_live_ab12' },
          metadata: { mfaCode: '123456' },
        }),
      ),
    );
    const { rows } = await db.owner.pool.query<{ row: string }>(
      'SELECT row_to_json(a)::text AS row FROM audit_logs a WHERE tenant_id = $1',
      [tenant.id],
    );
    const stored = rows[0]?.row ?? '';
    for (const secret of ['secret-hash', 'hunter2', 'tok-123', '123456'])
      expect(stored).not.toContain(secret);
    expect(stored).toContain('sk_live_ab12');
  });

  test('ip, user agent and e-mail addresses are chained as salted digests and listed in the clear', async () => {
    const tenant = await db.seedTenant();
    await db.withTenant(tenant.id, (tx) =>
      recordAuditEvent(
        tx,
        roleChange({
          ip: '203.0.113.7',
          userAgent: 'Mozilla/5.0',
          after: { email: 'bob@example.com' },
        }),
      ),
    );
    const { rows } = await db.owner.pool.query<{
      after: { email: string };
      pii: Record<string, string>;
    }>('SELECT after, pii FROM audit_logs WHERE tenant_id = $1', [tenant.id]);
    const token = rows[0]?.after.email ?? '';
    expect(token).toMatch(/^pii:[0-9a-f]{64}$/);
    expect(rows[0]?.pii).toEqual({ [token]: 'bob@example.com' });
    const { items } = await db.withTenant(tenant.id, (tx) => listAuditEvents(tx));
    expect(items[0]).toMatchObject({
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0',
      after: { email: 'bob@example.com' },
      riskScore: 60,
    });
  });

  test('the risk score defaults from the per-action table and an explicit score wins', async () => {
    const tenant = await db.seedTenant();
    await db.withTenant(tenant.id, (tx) =>
      recordAuditEvent(tx, { actor: admin, action: 'mfa.disabled' }),
    );
    await db.withTenant(tenant.id, (tx) =>
      recordAuditEvent(tx, { actor: admin, action: 'auth.sign_in.succeeded', riskScore: 55 }),
    );
    const { items } = await db.withTenant(tenant.id, (tx) => listAuditEvents(tx));
    expect(items.map((i) => [i.action, i.riskScore])).toEqual([
      ['auth.sign_in.succeeded', 55],
      ['mfa.disabled', 60],
    ]);
    await expect(
      db.withTenant(tenant.id, (tx) =>
        recordAuditEvent(tx, { actor: admin, action: 'mfa.disabled', riskScore: 101 }),
      ),
    ).rejects.toThrow(TypeError);
  });

  test("an hour is unusual when under 2% of the tenant's recent sign-ins fell in it", async () => {
    const tenant = await db.seedTenant();
    const at = (hour: number): Date => new Date(Date.UTC(2026, 2, 1, hour, 30));
    await db.withTenant(tenant.id, async (tx) => {
      for (let i = 0; i < 60; i += 1)
        await recordAuditEvent(tx, {
          actor: admin,
          action: 'auth.sign_in.succeeded',
          occurredAt: at(9 + (i % 8)),
        });
    });
    expect(await db.withTenant(tenant.id, (tx) => isUnusualSignInHour(tx, at(3)))).toBe(true);
    expect(await db.withTenant(tenant.id, (tx) => isUnusualSignInHour(tx, at(10)))).toBe(false);
  });
});
