// Attack: the runtime role (a compromised API process, an injected query) erases audit history.
// It inserts a `prune` checkpoint (the database checks its hash, never its signature), lowers the
// tenant's retention, and calls prune_audit_logs(). Only the owner role (the audit CLI) may
// anchor a prune, set retention or prune, and retention never goes under a floor of 365 days
// (docs/audit-log.md "Retention"). Queries run as the runtime role unless they say otherwise.
import { generateKeyPairSync } from 'node:crypto';
import { withTenant } from '@tessera/db';
import { SQLSTATE, sqlStateOf, useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import { createCheckpoint } from './checkpoints.js';
import { recordAuditEvent } from './record-audit-event.js';
import { setAuditRetention } from './retention.js';
import { verifyAuditChain } from './verify-audit-chain.js';

const db = useTestDatabase();
const { privateKey: signingKey, publicKey } = generateKeyPairSync('ed25519');
const admin = { type: 'user', id: 'admin-1' } as const;
const daysAgo = (days: number): Date => new Date(Date.now() - days * 86_400_000);

/** Four events 400 days old, two from yesterday; retention (if any) set through the owner. */
async function tenantWithOldHistory(retentionDays: number | null): Promise<string> {
  const tenant = await db.seedTenant();
  await db.withTenant(tenant.id, async (tx) => {
    for (let i = 0; i < 4; i += 1)
      await recordAuditEvent(tx, {
        actor: admin,
        action: 'user.role.changed',
        occurredAt: daysAgo(400),
      });
    for (let i = 0; i < 2; i += 1)
      await recordAuditEvent(tx, {
        actor: admin,
        action: 'user.role.changed',
        occurredAt: daysAgo(1),
      });
  });
  if (retentionDays !== null)
    await db.owner.pool.query(
      'INSERT INTO audit_settings (tenant_id, retention_days) VALUES ($1, $2)',
      [tenant.id, retentionDays],
    );
  return tenant.id;
}

async function hashAt(tenantId: string, seq: number): Promise<string> {
  const { rows } = await db.owner.pool.query<{ h: string }>(
    `SELECT encode(hash, 'hex') AS h FROM audit_logs WHERE tenant_id = $1 AND seq = $2`,
    [tenantId, seq],
  );
  return rows[0]?.h ?? '';
}

async function seqs(tenantId: string): Promise<number[]> {
  const { rows } = await db.owner.pool.query<{ seq: number }>(
    'SELECT seq::int FROM audit_logs WHERE tenant_id = $1 ORDER BY seq',
    [tenantId],
  );
  return rows.map((r) => r.seq);
}

describe('audit history and the runtime role', () => {
  test('the runtime role cannot anchor a prune, lower retention or prune: the history stays whole', async () => {
    const tenantId = await tenantWithOldHistory(3650);
    const hash = await hashAt(tenantId, 4);
    const inTenant = <T>(fn: Parameters<typeof db.withTenant<T>>[1]): Promise<T> =>
      db.withTenant(tenantId, fn);

    expect(
      await sqlStateOf(
        inTenant((tx) =>
          createCheckpoint(tx, { seq: 4, hash, kind: 'prune' }, signingKey, new Date()),
        ),
      ),
    ).toBe(SQLSTATE.insufficientPrivilege);
    expect(
      await sqlStateOf(
        inTenant((tx) => tx.client.query('UPDATE audit_settings SET retention_days = 30')),
      ),
    ).toBe(SQLSTATE.insufficientPrivilege);
    expect(await sqlStateOf(inTenant((tx) => setAuditRetention(tx, admin, 365)))).toBe(
      SQLSTATE.insufficientPrivilege,
    );
    const fresh = await tenantWithOldHistory(null);
    expect(
      await sqlStateOf(
        db.withTenant(fresh, (tx) =>
          tx.client.query(
            'INSERT INTO audit_settings (tenant_id, retention_days) VALUES ($1, 365)',
            [fresh],
          ),
        ),
      ),
    ).toBe(SQLSTATE.insufficientPrivilege);
    expect(
      await sqlStateOf(inTenant((tx) => tx.client.query('SELECT public.prune_audit_logs(4)'))),
    ).toBe(SQLSTATE.insufficientPrivilege);

    // Even behind a prune checkpoint the owner made, the runtime role cannot run the prune.
    await withTenant(db.owner, tenantId, (tx) =>
      createCheckpoint(tx, { seq: 4, hash, kind: 'prune' }, signingKey, new Date()),
    );
    await db.owner.pool.query(
      'UPDATE audit_settings SET retention_days = 365 WHERE tenant_id = $1',
      [tenantId],
    );
    expect(
      await sqlStateOf(inTenant((tx) => tx.client.query('SELECT public.prune_audit_logs(4)'))),
    ).toBe(SQLSTATE.insufficientPrivilege);

    expect(await seqs(tenantId)).toEqual([1, 2, 3, 4, 5, 6, 7]); // 7: the owner's checkpoint event
    expect(await inTenant((tx) => verifyAuditChain(tx, { publicKey }))).toMatchObject({
      valid: true,
    }); // from the owner's anchor
    expect(
      await db.withTenant(
        tenantId,
        async (tx) => (await tx.client.query('SELECT retention_days FROM audit_settings')).rows,
      ),
    ).toEqual([{ retention_days: 365 }]);
  });

  test('the runtime role may still sign head checkpoints', async () => {
    const tenantId = await tenantWithOldHistory(null);
    await db.withTenant(tenantId, async (tx) =>
      createCheckpoint(
        tx,
        { seq: 6, hash: await hashAt(tenantId, 6), kind: 'head' },
        signingKey,
        new Date(),
      ),
    );
    expect(
      await db.withTenant(tenantId, (tx) => verifyAuditChain(tx, { publicKey })),
    ).toMatchObject({ valid: true, checked: 7 });
  });

  test('retention has a floor of 365 days that not even the owner goes under', async () => {
    const tenantId = await tenantWithOldHistory(400);
    expect(
      await sqlStateOf(
        db.owner.pool.query('UPDATE audit_settings SET retention_days = 364 WHERE tenant_id = $1', [
          tenantId,
        ]),
      ),
    ).toBe('23514');
    await expect(
      withTenant(db.owner, tenantId, (tx) => setAuditRetention(tx, admin, 364)),
    ).rejects.toMatchObject({ code: 'invalid_input' });
    await withTenant(db.owner, tenantId, (tx) => setAuditRetention(tx, admin, 365));
    expect(
      (
        await db.owner.pool.query(
          'SELECT retention_days FROM audit_settings WHERE tenant_id = $1',
          [tenantId],
        )
      ).rows,
    ).toEqual([{ retention_days: 365 }]);
  });
});
