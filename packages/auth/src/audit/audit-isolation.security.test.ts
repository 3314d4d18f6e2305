// Attack: a tenant reads another tenant's audit trail (who signed in from where, which e-mail
// addresses changed), or writes into another tenant's chain to forge or bury events. docs/design.md rule 1:
// RLS on audit_logs, audit_chain_heads, audit_checkpoints and audit_settings, fail-closed without
// a tenant; every query here runs as the runtime role.
import { generateKeyPairSync } from 'node:crypto';
import { SQLSTATE, sqlStateOf, useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { loadCheckpoints, signAuditCheckpoint } from './checkpoints.js';
import { auditExportChunks } from './export-audit-log.js';
import { listAuditEvents } from './list-audit-events.js';
import { recordAuditEvent } from './record-audit-event.js';
import { verifyAuditChain } from './verify-audit-chain.js';

const db = useTestDatabase();
const { privateKey } = generateKeyPairSync('ed25519');
const alice = { type: 'user', id: 'alice' } as const;

test("a tenant never sees another tenant's events, chain head or checkpoints", async () => {
  const a = await db.seedTenant();
  const b = await db.seedTenant();
  await db.withTenant(a.id, async (tx) => {
    await recordAuditEvent(tx, {
      actor: alice,
      action: 'auth.sign_in.succeeded',
      ip: '203.0.113.5',
      after: { email: 'alice@a.example' },
    });
    await signAuditCheckpoint(tx, { signingKey: privateKey });
  });
  await db.withTenant(b.id, (tx) =>
    recordAuditEvent(tx, { actor: { type: 'user', id: 'bob' }, action: 'auth.sign_in.succeeded' }),
  );

  const seenByB = await db.withTenant(b.id, async (tx) => {
    let exported = '';
    for await (const chunk of auditExportChunks(tx, { format: 'jsonl' })) exported += chunk;
    const heads = await tx.client.query('SELECT tenant_id FROM audit_chain_heads');
    return {
      list: await listAuditEvents(tx),
      exported,
      heads: heads.rows,
      checkpoints: await loadCheckpoints(tx),
      verify: await verifyAuditChain(tx),
    };
  });
  expect(seenByB.list.items.map((item) => item.actor.id)).toEqual(['bob']);
  expect(seenByB.exported).not.toContain(a.id);
  expect(seenByB.exported).not.toContain('alice');
  expect(seenByB.heads).toEqual([{ tenant_id: b.id }]);
  expect(seenByB.checkpoints).toEqual([]);
  expect(seenByB.verify).toEqual({ valid: true, checked: 1 });
  expect(await db.withTenant(a.id, (tx) => verifyAuditChain(tx))).toEqual({
    valid: true,
    checked: 2,
  });
});

test("a tenant cannot write into another tenant's chain", async () => {
  const a = await db.seedTenant();
  const b = await db.seedTenant();
  await db.withTenant(a.id, (tx) =>
    recordAuditEvent(tx, { actor: alice, action: 'user.role.changed' }),
  );
  const head = await db.owner.pool.query<{ hash: Buffer }>(
    'SELECT hash FROM audit_chain_heads WHERE tenant_id = $1',
    [a.id],
  );
  const forged = db.withTenant(b.id, (tx) =>
    tx.client.query(
      `INSERT INTO audit_logs (tenant_id, seq, occurred_at, actor_type, action, risk_score, prev_hash, hash)
     VALUES ($1, 2, now(), 'system', 'user.deleted', 0, $2, $2)`,
      [a.id, head.rows[0]?.hash],
    ),
  );
  expect(await sqlStateOf(forged)).toBe(SQLSTATE.insufficientPrivilege);
  expect(await db.withTenant(a.id, (tx) => verifyAuditChain(tx))).toEqual({
    valid: true,
    checked: 1,
  });
});

test('with no tenant in context, audit rows are invisible and nothing can be appended', async () => {
  const a = await db.seedTenant();
  await db.withTenant(a.id, (tx) =>
    recordAuditEvent(tx, { actor: alice, action: 'user.role.changed' }),
  );
  expect((await db.app.pool.query('SELECT * FROM audit_logs')).rows).toEqual([]);
  expect((await db.app.pool.query('SELECT * FROM audit_checkpoints')).rows).toEqual([]);
  expect(await sqlStateOf(db.app.pool.query('SELECT * FROM audit_lock_head()'))).toBe(
    SQLSTATE.insufficientPrivilege,
  );
  expect(
    await sqlStateOf(db.app.pool.query("SELECT redact_audit_personal_data('alice', '{}')")),
  ).toBe(SQLSTATE.insufficientPrivilege);
});
