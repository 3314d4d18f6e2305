// Attack: rewriting history. An attacker holding the runtime role tries to update, delete or
// truncate audit rows or fork the chain; an attacker with the owner's database access (triggers
// disabled) edits, deletes, swaps or truncates rows, recomputes the whole chain, and even rewrites
// the checkpoints. docs/design.md rule 6: append-only for every role, and every edit reported
// by verifyAuditChain at the first seq where the evidence breaks (OWASP ASVS 5.0 V16.4.2).
import { generateKeyPairSync, sign } from 'node:crypto';
import type { TenantTx } from '@tessera/db';
import { SQLSTATE, sqlStateOf, useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import { chainHash, GENESIS_HASH } from './canonical.js';
import { chainFieldsOf, readChainRows, type ChainRow } from './audit-rows.js';
import { auditKeyId, checkpointMessage, signAuditCheckpoint } from './checkpoints.js';
import { recordAuditEvent } from './record-audit-event.js';
import { verifyAuditChain } from './verify-audit-chain.js';

const db = useTestDatabase();
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const attackerKey = generateKeyPairSync('ed25519').privateKey;
const actor = { type: 'user', id: 'user-1' } as const;

async function seedChain(count: number): Promise<string> {
  const tenant = await db.seedTenant();
  await db.withTenant(tenant.id, async (tx) => {
    for (let i = 1; i <= count; i += 1)
      await recordAuditEvent(tx, {
        actor,
        action: 'user.role.changed',
        metadata: { i },
        ip: '198.51.100.4',
      });
  });
  return tenant.id;
}

const verify = (tenantId: string, withKey = false): ReturnType<typeof verifyAuditChain> =>
  db.withTenant(tenantId, (tx) => verifyAuditChain(tx, withKey ? { publicKey } : {}));

/** An attacker with superuser access: triggers (and foreign keys) off, as `pg_dump --disable-triggers` would. */
async function asDatabaseAttacker(
  work: (client: TenantTx['client']) => Promise<unknown>,
): Promise<void> {
  const client = await db.owner.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await work(client);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

async function readRows(tenantId: string): Promise<ChainRow[]> {
  return db.withTenant(tenantId, async (tx) => {
    const rows: ChainRow[] = [];
    for await (const row of readChainRows(tx)) rows.push(row);
    return rows;
  });
}

/** Edits the action of row `seq` and recomputes every later hash and the head, as a careful attacker would. */
async function rewriteFrom(tenantId: string, seq: number, action: string): Promise<string> {
  const rows = await readRows(tenantId);
  let prev = rows[seq - 2]?.hash ?? GENESIS_HASH.toString('hex');
  await asDatabaseAttacker(async (client) => {
    for (const row of rows.slice(seq - 1)) {
      const edited = row.seq === seq ? { ...row, action } : row;
      const hash = chainHash(Buffer.from(prev, 'hex'), chainFieldsOf(edited)).toString('hex');
      await client.query(
        `UPDATE audit_logs SET action = $1, prev_hash = decode($2, 'hex'), hash = decode($3, 'hex') WHERE tenant_id = $4 AND seq = $5`,
        [edited.action, prev, hash, tenantId, row.seq],
      );
      prev = hash;
    }
    await client.query(
      `UPDATE audit_chain_heads SET hash = decode($1, 'hex') WHERE tenant_id = $2`,
      [prev, tenantId],
    );
  });
  return prev;
}

describe('the runtime role', () => {
  test('cannot UPDATE, DELETE or TRUNCATE audit rows, checkpoints or chain heads', async () => {
    const tenantId = await seedChain(2);
    const attempts = [
      'UPDATE audit_logs SET action = $$user.renamed$$',
      'DELETE FROM audit_logs',
      'UPDATE audit_chain_heads SET seq = 0',
      'DELETE FROM audit_checkpoints',
      'UPDATE audit_checkpoints SET seq = 0',
    ];
    for (const statement of attempts) {
      expect(
        await sqlStateOf(db.withTenant(tenantId, (tx) => tx.client.query(statement))),
        statement,
      ).toBe(SQLSTATE.insufficientPrivilege);
    }
    for (const statement of [
      'TRUNCATE audit_logs',
      'TRUNCATE audit_checkpoints',
      'TRUNCATE audit_chain_heads',
    ]) {
      expect(await sqlStateOf(db.app.pool.query(statement)), statement).toBe(
        SQLSTATE.insufficientPrivilege,
      );
    }
    expect(await verify(tenantId)).toEqual({ valid: true, checked: 2 });
  });

  test('cannot insert rows of its choosing, even ones that would extend the head, nor a checkpoint the chain does not hold', async () => {
    const tenantId = await seedChain(3);
    const head = Buffer.from((await readRows(tenantId))[2]?.hash ?? '', 'hex');
    const direct = db.withTenant(tenantId, (tx) =>
      tx.client.query(
        `INSERT INTO audit_logs (tenant_id, seq, occurred_at, actor_type, action, risk_score, prev_hash, hash)
         VALUES ($1, 4, now(), 'system', 'user.deleted', 0, $2, $2)`,
        [tenantId, head],
      ),
    );
    expect(await sqlStateOf(direct)).toBe(SQLSTATE.insufficientPrivilege);
    const forged = db.withTenant(tenantId, (tx) =>
      tx.client.query(
        `INSERT INTO audit_checkpoints (tenant_id, seq, hash, kind, signed_at, key_id, signature) VALUES ($1, 3, $2, 'prune', now(), $3, $4)`,
        [tenantId, GENESIS_HASH, '0'.repeat(32), Buffer.alloc(64)],
      ),
    );
    expect(await sqlStateOf(forged)).toBe('23514');
  });
});

describe('the table owner, with triggers enabled', () => {
  test('is refused UPDATE, DELETE and TRUNCATE, and the redaction path cannot touch chained columns', async () => {
    const tenantId = await seedChain(2);
    const owner = db.owner.pool;
    expect(
      await sqlStateOf(
        owner.query(`UPDATE audit_logs SET action = 'user.renamed' WHERE tenant_id = $1`, [
          tenantId,
        ]),
      ),
    ).toBe(SQLSTATE.raiseException);
    expect(
      await sqlStateOf(owner.query('DELETE FROM audit_logs WHERE tenant_id = $1', [tenantId])),
    ).toBe(SQLSTATE.raiseException);
    expect(await sqlStateOf(owner.query('TRUNCATE audit_logs, audit_checkpoints'))).toBe(
      SQLSTATE.raiseException,
    );
    const client = await owner.connect();
    try {
      await client.query("BEGIN; SELECT set_config('tessera.audit_path', 'redact', true)");
      const viaRedaction = client.query(
        'UPDATE audit_logs SET ip = NULL, user_agent = NULL, pii = NULL, pii_salt = NULL, redacted_at = now(), risk_score = 0 WHERE tenant_id = $1',
        [tenantId],
      );
      expect(await sqlStateOf(viaRedaction)).toBe(SQLSTATE.raiseException);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
    expect(await verify(tenantId)).toEqual({ valid: true, checked: 2 });
  });
});

describe('verifyAuditChain against an attacker with database access', () => {
  test('an edited row is reported at its seq', async () => {
    const tenantId = await seedChain(6);
    await asDatabaseAttacker((c) =>
      c.query(`UPDATE audit_logs SET risk_score = 0 WHERE tenant_id = $1 AND seq = 4`, [tenantId]),
    );
    expect(await verify(tenantId)).toEqual({ valid: false, checked: 3, firstInvalidSeq: 4 });
  });

  test('an edited clear IP address is reported even though only its digest is chained', async () => {
    const tenantId = await seedChain(3);
    await asDatabaseAttacker((c) =>
      c.query(`UPDATE audit_logs SET ip = '192.0.2.66' WHERE tenant_id = $1 AND seq = 2`, [
        tenantId,
      ]),
    );
    expect(await verify(tenantId)).toMatchObject({ valid: false, firstInvalidSeq: 2 });
  });

  test('a deleted middle row is reported at the missing seq', async () => {
    const tenantId = await seedChain(6);
    await asDatabaseAttacker((c) =>
      c.query('DELETE FROM audit_logs WHERE tenant_id = $1 AND seq = 3', [tenantId]),
    );
    expect(await verify(tenantId)).toEqual({ valid: false, checked: 2, firstInvalidSeq: 3 });
  });

  test('two swapped rows are reported at the first of them', async () => {
    const tenantId = await seedChain(6);
    await asDatabaseAttacker(async (c) => {
      await c.query('UPDATE audit_logs SET seq = 1000 WHERE tenant_id = $1 AND seq = 3', [
        tenantId,
      ]);
      await c.query('UPDATE audit_logs SET seq = 3 WHERE tenant_id = $1 AND seq = 4', [tenantId]);
      await c.query('UPDATE audit_logs SET seq = 4 WHERE tenant_id = $1 AND seq = 1000', [
        tenantId,
      ]);
    });
    expect(await verify(tenantId)).toEqual({ valid: false, checked: 2, firstInvalidSeq: 3 });
  });

  test('a dropped tail is reported at the first missing seq, also when the head row is rewritten to match', async () => {
    const tenantId = await seedChain(8);
    await db.withTenant(tenantId, (tx) => signAuditCheckpoint(tx, { signingKey: privateKey })); // seq 8 signed, event 9
    const rows = await readRows(tenantId);
    await asDatabaseAttacker((c) =>
      c.query('DELETE FROM audit_logs WHERE tenant_id = $1 AND seq > 7', [tenantId]),
    );
    expect(await verify(tenantId)).toEqual({ valid: false, checked: 7, firstInvalidSeq: 8 });
    await asDatabaseAttacker((c) =>
      c.query(
        `UPDATE audit_chain_heads SET seq = 7, hash = decode($1, 'hex') WHERE tenant_id = $2`,
        [rows[6]?.hash, tenantId],
      ),
    );
    expect(await verify(tenantId)).toEqual({ valid: false, checked: 7, firstInvalidSeq: 8 });
  });

  test('recomputing the whole chain after a checkpoint is reported at the checkpoint', async () => {
    const tenantId = await seedChain(10);
    await db.withTenant(tenantId, (tx) => signAuditCheckpoint(tx, { signingKey: privateKey }));
    await rewriteFrom(tenantId, 3, 'user.role.viewed');
    expect(await verify(tenantId)).toEqual({ valid: false, checked: 9, firstInvalidSeq: 10 });
  });

  test('rewriting the checkpoint as well is caught by its Ed25519 signature, and only by it', async () => {
    const tenantId = await seedChain(10);
    const checkpoint = await db.withTenant(tenantId, (tx) =>
      signAuditCheckpoint(tx, { signingKey: privateKey }),
    );
    expect(await verify(tenantId, true)).toEqual({ valid: true, checked: 11 });
    await rewriteFrom(tenantId, 3, 'user.role.viewed');
    const newAt10 = (await readRows(tenantId))[9]?.hash ?? '';
    const forged = { ...checkpoint, hash: newAt10, keyId: auditKeyId(attackerKey) };
    await asDatabaseAttacker((c) =>
      c.query(
        `UPDATE audit_checkpoints SET hash = decode($1, 'hex'), key_id = $2, signature = $3 WHERE tenant_id = $4`,
        [newAt10, forged.keyId, sign(null, checkpointMessage(forged), attackerKey), tenantId],
      ),
    );
    expect(await verify(tenantId)).toEqual({ valid: true, checked: 11 }); // hashes alone prove nothing here
    expect(await verify(tenantId, true)).toEqual({ valid: false, checked: 9, firstInvalidSeq: 10 });
  });
});
