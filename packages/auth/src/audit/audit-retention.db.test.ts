import { generateKeyPairSync } from 'node:crypto';
import { withTenant } from '@tessera/db';
import { SQLSTATE, sqlStateOf, useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import {
  createCheckpoint,
  loadCheckpoints,
  signAuditCheckpoint,
  signDueAuditCheckpoints,
} from './checkpoints.js';
import { recordAuditEvent } from './record-audit-event.js';
import {
  AuditChainBrokenError,
  pruneAuditLog,
  runAuditRetention,
  setAuditRetention,
} from './retention.js';
import { verifyAuditChain } from './verify-audit-chain.js';

const db = useTestDatabase();
const { privateKey: signingKey, publicKey } = generateKeyPairSync('ed25519');
const admin = { type: 'user', id: 'admin-1' } as const;
const DAY = 86_400_000;
const daysAgo = (days: number): Date => new Date(Date.now() - days * DAY);
/** Retention is the owner's (the audit CLI): the runtime role reads, verifies and archives. */
const databases = () => ({ runtime: db.app, owner: db.owner });

/** A tenant with `old` events 400 days old, then `recent` events from yesterday, and 365-day retention. */
async function tenantWithHistory(
  old: number,
  recent: number,
  retentionDays: number | null = 365,
): Promise<string> {
  const tenant = await db.seedTenant();
  await db.withTenant(tenant.id, async (tx) => {
    for (let i = 0; i < old; i += 1)
      await recordAuditEvent(tx, {
        actor: admin,
        action: 'user.role.changed',
        occurredAt: daysAgo(400),
        ip: '203.0.113.1',
      });
    for (let i = 0; i < recent; i += 1)
      await recordAuditEvent(tx, {
        actor: admin,
        action: 'user.role.changed',
        occurredAt: daysAgo(1),
      });
  });
  if (retentionDays !== null)
    await withTenant(db.owner, tenant.id, (tx) => setAuditRetention(tx, admin, retentionDays));
  return tenant.id;
}

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  return text;
}

describe('retention', () => {
  test('a retention under 365 days is refused', async () => {
    const tenant = await db.seedTenant();
    await expect(
      withTenant(db.owner, tenant.id, (tx) => setAuditRetention(tx, admin, 7)),
    ).rejects.toMatchObject({ code: 'invalid_input' });
  });

  test('pruning archives the expired prefix first, anchors it with a signed checkpoint, and the rest still verifies', async () => {
    const tenantId = await tenantWithHistory(5, 3);
    let archived = '';
    const result = await pruneAuditLog(databases(), tenantId, {
      signingKey,
      publicKey,
      archive: async (chunks) => void (archived = await collect(chunks)),
    });
    expect(result).toEqual({ pruned: 5, throughSeq: 5 });
    expect(
      archived
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { seq: number }).seq),
    ).toEqual([1, 2, 3, 4, 5]);
    const { rows } = await db.owner.pool.query<{ lo: number; hi: number }>(
      'SELECT min(seq)::int AS lo, max(seq)::int AS hi FROM audit_logs WHERE tenant_id = $1',
      [tenantId],
    );
    expect(rows[0]).toEqual({ lo: 6, hi: 11 }); // 3 recent, retention.updated, checkpoint.signed, retention.pruned
    expect(await db.withTenant(tenantId, (tx) => verifyAuditChain(tx, { publicKey }))).toEqual({
      valid: true,
      checked: 6,
    });
    const checkpoints = await db.withTenant(tenantId, (tx) => loadCheckpoints(tx));
    expect(checkpoints).toEqual([expect.objectContaining({ kind: 'prune', seq: 5 })]);
  });

  test('an archive that fails leaves every row in place', async () => {
    const tenantId = await tenantWithHistory(3, 1);
    await expect(
      pruneAuditLog(databases(), tenantId, {
        signingKey,
        archive: async () => Promise.reject(new Error('disk full')),
      }),
    ).rejects.toThrow('disk full');
    expect(await db.withTenant(tenantId, (tx) => verifyAuditChain(tx))).toEqual({
      valid: true,
      checked: 5,
    });
  });

  test('a chain that does not verify is not pruned: that would destroy the evidence', async () => {
    const tenantId = await tenantWithHistory(3, 1);
    const client = await db.owner.pool.connect();
    try {
      await client.query('BEGIN; SET LOCAL session_replication_role = replica');
      await client.query('UPDATE audit_logs SET risk_score = 0 WHERE tenant_id = $1 AND seq = 2', [
        tenantId,
      ]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await expect(
      pruneAuditLog(databases(), tenantId, { signingKey, archive: async () => undefined }),
    ).rejects.toBeInstanceOf(AuditChainBrokenError);
  });

  test('the prune path refuses without retention, without a prune checkpoint, and inside the retention period', async () => {
    const unset = await tenantWithHistory(2, 0, null);
    // As the owner: the runtime role may not call it at all (audit-prune.security.test.ts).
    const prune = (tenantId: string, seq: number): Promise<unknown> =>
      withTenant(db.owner, tenantId, (tx) => tx.client.query('SELECT prune_audit_logs($1)', [seq]));
    expect(await sqlStateOf(prune(unset, 1))).toBe(SQLSTATE.raiseException);
    const tenantId = await tenantWithHistory(2, 2);
    expect(await sqlStateOf(prune(tenantId, 2))).toBe(SQLSTATE.raiseException); // no checkpoint at 2
    const recentHash =
      (
        await db.owner.pool.query<{ h: string }>(
          `SELECT encode(hash, 'hex') AS h FROM audit_logs WHERE tenant_id = $1 AND seq = 4`,
          [tenantId],
        )
      ).rows[0]?.h ?? '';
    expect(
      await sqlStateOf(
        withTenant(db.owner, tenantId, async (tx) => {
          await createCheckpoint(
            tx,
            { seq: 4, hash: recentHash, kind: 'prune' },
            signingKey,
            new Date(),
          );
          await tx.client.query('SELECT prune_audit_logs(4)');
        }),
      ),
    ).toBe(SQLSTATE.raiseException);
    expect(await db.withTenant(tenantId, (tx) => verifyAuditChain(tx))).toEqual({
      valid: true,
      checked: 5,
    });
  });

  test('the retention job prunes only tenants with rows past their retention, archiving each first', async () => {
    const due = await tenantWithHistory(2, 1);
    const notDue = await tenantWithHistory(0, 2);
    const archivedFor: string[] = [];
    const result = await runAuditRetention(databases(), {
      signingKey,
      archive: async (tenantId, chunks) => void (await collect(chunks), archivedFor.push(tenantId)),
    });
    expect(archivedFor).toContain(due);
    expect(archivedFor).not.toContain(notDue);
    expect(result.pruned[due]).toBe(2);
    expect(result.failedTenantIds).not.toContain(due); // (the tampered tenant above does fail, as it should)
  });
});

describe('periodic checkpoints', () => {
  test('the job signs every tenant whose chain moved since its last checkpoint, and only those', async () => {
    const moved = await tenantWithHistory(0, 3, null);
    const quiet = await tenantWithHistory(0, 2, null);
    await db.withTenant(quiet, (tx) => signAuditCheckpoint(tx, { signingKey })); // signs seq 2, records seq 3
    await signDueAuditCheckpoints(db.app, { signingKey });
    await signDueAuditCheckpoints(db.app, { signingKey }); // nothing new: nothing signed twice
    const seqs = async (tenantId: string): Promise<number[]> =>
      (await db.withTenant(tenantId, (tx) => loadCheckpoints(tx))).map((cp) => cp.seq);
    expect(await seqs(moved)).toEqual([3]);
    expect(await db.withTenant(moved, (tx) => verifyAuditChain(tx, { publicKey }))).toEqual({
      valid: true,
      checked: 4,
    });
    expect(await seqs(quiet)).toEqual([2]);
  });
});
