// Export contents, erasure and the registry of personal-data sources, on real Postgres as the
// runtime role (RLS applies). The rich fixture gives the subject a row in every source plus
// secrets that must never leave (password hash, TOTP secret, backup-code and token hashes).
import { randomBytes, randomUUID } from 'node:crypto';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import { verifyAuditChain } from '../audit/verify-audit-chain.js';
import { generateKeyringSpec, parseKeyring } from '../crypto/keyring.js';
import { availableSources, sourceRecords } from './collect-user-data.js';
import { processDeletionRequest } from './erase-user-data.js';
import { readErasureLedger, replayErasureLedger } from './erasure-ledger.js';
import { runPrivacyMaintenance } from './maintenance.js';
import { claimPrivacyRequest } from './processing.js';
import { createPrivacyRequest } from './requests.js';
import { personalDataSources, type ExportRecord } from './sources/index.js';

const db = useTestDatabase();
const keyring = parseKeyring(generateKeyringSpec());
const now = new Date('2026-03-01T12:00:00Z');
const SECRET = {
  passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0LXNhbHQ$secret-password-hash',
  totp: 'v1.totp-secret-ciphertext',
  backup: '$argon2id$backup-code-hash',
};

interface Fixture {
  tenantId: string;
  ownerId: string;
  subjectId: string;
  email: string;
  otherId: string;
  keyId: string;
  tokenHash: Buffer;
}

async function seed(): Promise<Fixture> {
  const tenant = await db.seedTenant();
  const [ownerId, subjectId, otherId, keyId] = [
    randomUUID(),
    randomUUID(),
    randomUUID(),
    randomUUID(),
  ];
  const email = `subject-${randomBytes(3).toString('hex')}@example.com`;
  const tokenHash = randomBytes(32);
  await db.withTenant(tenant.id, async (tx) => {
    const q = (text: string, values: unknown[]) => tx.client.query(text, values);
    await q(
      `INSERT INTO users (id, tenant_id, email, role, display_name) VALUES ($1, $2, 'owner@example.com', 'owner', 'Olga Owner'), ($3, $2, 'other@example.com', 'member', 'Otto')`,
      [ownerId, tenant.id, otherId],
    );
    await q(
      `INSERT INTO users (id, tenant_id, email, role, display_name, password_hash, password_algorithm, last_login_ip) VALUES ($1, $2, $3, 'member', 'Sam Subject', $4, 'argon2id', '198.51.100.23')`,
      [subjectId, tenant.id, email, SECRET.passwordHash],
    );
    await q(
      `INSERT INTO sessions (tenant_id, user_id, token_hash, ip_address, user_agent) VALUES ($1, $2, $3, '198.51.100.23', 'SubjectBrowser/1.0'), ($1, $4, $5, '203.0.113.99', 'OtherBrowser/2.0')`,
      [tenant.id, subjectId, tokenHash, otherId, randomBytes(32)],
    );
    await q(
      `INSERT INTO known_devices (tenant_id, user_id, ip_address, user_agent_hash) VALUES ($1, $2, '198.51.100.23', $3)`,
      [tenant.id, subjectId, randomBytes(32)],
    );
    await q(`INSERT INTO login_throttles (tenant_id, email, failures) VALUES ($1, $2, 2)`, [
      tenant.id,
      email,
    ]);
    await q(
      `INSERT INTO user_tokens (tenant_id, kind, user_id, token_hash, created_by, expires_at) VALUES ($1, 'invite', $2, $3, $4, $5), ($1, 'invite', $4, $6, $2, $5)`,
      [tenant.id, subjectId, randomBytes(32), ownerId, now, randomBytes(32)],
    );
    await q(
      `INSERT INTO mfa_totp (tenant_id, user_id, secret_ciphertext, enabled_at) VALUES ($1, $2, $3, $4)`,
      [tenant.id, subjectId, SECRET.totp, now],
    );
    await q(
      `INSERT INTO mfa_backup_codes (tenant_id, user_id, code_hash) VALUES ($1, $2, $3), ($1, $2, $3)`,
      [tenant.id, subjectId, SECRET.backup],
    );
    await q(
      `INSERT INTO api_keys (id, tenant_id, name, type, environment, prefix, key_hash, pepper_version, created_by) VALUES ($1, $2, 'Sam CI', 'secret', 'live', 'sk_live_AbCd', $3, 'v1', $4)`,
      [keyId, tenant.id, randomBytes(32), subjectId],
    );
    await q(
      `INSERT INTO email_outbox (tenant_id, user_id, to_address, template, subject, body) VALUES ($1, $2, $3, 'new_sign_in', 'New sign-in', 'v1.sealed')`,
      [tenant.id, subjectId, email],
    );
    await q(
      `INSERT INTO user_identities (tenant_id, user_id, provider, issuer, subject) VALUES ($1, $2, 'tenant', 'https://idp.example.com', 'sam-at-idp')`,
      [tenant.id, subjectId],
    );
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: subjectId },
      action: 'auth.sign_in.succeeded',
      ip: '198.51.100.23',
      userAgent: 'SubjectBrowser/1.0',
      occurredAt: now,
    });
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: ownerId },
      action: 'user.role.changed',
      target: { type: 'user', id: subjectId },
      ip: '203.0.113.1',
      after: { email, role: 'member' },
      occurredAt: now,
    });
    await recordAuditEvent(tx, {
      actor: { type: 'system', id: null },
      action: 'auth.sign_in.failed',
      target: { type: 'email', id: email },
      ip: '192.0.2.4',
      occurredAt: now,
    });
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: otherId },
      action: 'auth.sign_in.succeeded',
      ip: '203.0.113.99',
      occurredAt: now,
    });
  });
  return { tenantId: tenant.id, ownerId, subjectId, email, otherId, keyId, tokenHash };
}

async function exportOf(f: Fixture): Promise<Record<string, ExportRecord[]>> {
  return db.withTenant(f.tenantId, async (tx) => {
    const out: Record<string, ExportRecord[]> = {};
    for (const source of await availableSources(tx)) {
      out[source.name] = [];
      for await (const record of sourceRecords(
        tx,
        source,
        { userId: f.subjectId, email: f.email },
        2,
      ))
        out[source.name]?.push(record);
    }
    return out;
  });
}

async function eraseNow(f: Fixture, afterStep?: (source: string) => void): Promise<string> {
  const requestId = await db.withTenant(
    f.tenantId,
    async (tx) =>
      (
        await createPrivacyRequest(
          tx,
          { type: 'user', id: f.subjectId },
          { userId: f.subjectId, type: 'deletion' },
          { keyring, now },
        )
      ).request.id,
  );
  await db.withTenant(f.tenantId, (tx) => claimPrivacyRequest(tx, requestId, now));
  const run = () =>
    db.withTenant(f.tenantId, (tx) =>
      processDeletionRequest(tx, requestId, { keyring, now, ...(afterStep ? { afterStep } : {}) }),
    );
  if (afterStep) {
    await expect(run()).rejects.toThrow(/simulated crash/);
    expect(await run()).toBe('completed');
  } else {
    expect(await run()).toBe('completed');
  }
  return requestId;
}

async function dump(tenantId: string): Promise<string> {
  // Every table of the tenant, as JSON; the erasure confirmation is the one row allowed to name
  // the address, until it is delivered.
  const { rows } = await db.owner.pool.query<{ r: string }>(
    `
    SELECT row_to_json(x)::text AS r FROM users x WHERE tenant_id = $1 UNION ALL SELECT row_to_json(x)::text FROM sessions x WHERE tenant_id = $1
    UNION ALL SELECT row_to_json(x)::text FROM known_devices x WHERE tenant_id = $1 UNION ALL SELECT row_to_json(x)::text FROM login_throttles x WHERE tenant_id = $1
    UNION ALL SELECT row_to_json(x)::text FROM user_tokens x WHERE tenant_id = $1 UNION ALL SELECT row_to_json(x)::text FROM mfa_totp x WHERE tenant_id = $1
    UNION ALL SELECT row_to_json(x)::text FROM mfa_backup_codes x WHERE tenant_id = $1 UNION ALL SELECT row_to_json(x)::text FROM api_keys x WHERE tenant_id = $1
    UNION ALL SELECT row_to_json(x)::text FROM email_outbox x WHERE tenant_id = $1 UNION ALL SELECT row_to_json(x)::text FROM user_identities x WHERE tenant_id = $1
    UNION ALL SELECT row_to_json(x)::text FROM audit_logs x WHERE tenant_id = $1 UNION ALL SELECT row_to_json(x)::text FROM privacy_requests x WHERE tenant_id = $1
    UNION ALL SELECT row_to_json(x)::text FROM privacy_legal_holds x WHERE tenant_id = $1`,
    [tenantId],
  );
  return rows
    .map((row) => row.r)
    .filter((r) => !r.includes('"template":"privacy_erasure_completed"'))
    .join('\n');
}

/**
 * Tables whose columns look like personal data by name but hold none. Each entry says why; a new
 * table with such a column fails the test below until a source covers it or it is listed here.
 * (erasure-reach.db.test.ts finds tables by content as well: a table holding the subject's
 * address or a digest of it must be covered, whatever its columns are called.)
 */
const NOT_PERSONAL_DATA: Readonly<Record<string, string>> = {
  tenants: "the organisation's name",
  sso_settings: "the label of the tenant's identity provider",
  saml_connections: "the label of the tenant's identity provider and the names of its attributes",
  audit_checkpoints: 'signing-key ids and chain hashes',
  schema_migrations: 'migration file names',
  scim_groups: "the names of the tenant's directory groups",
  tenant_roles: "the names and descriptions of the tenant's own roles",
};

test('every table that references users or has a column that can hold personal data is covered by a registered source', async () => {
  // By name: addresses, IPs, user agents, phones, names, subjects and keys, in any column that can
  // hold text or bytes (timestamps such as email_verified_at and ids such as api_key_id hold none).
  const { rows } = await db.owner.pool.query<{ table: string }>(`
    SELECT DISTINCT c.table_name AS table FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
    WHERE c.table_schema = 'public' AND (c.column_name ~ '(^|_)(user_id|actor_id|target_id)$' OR c.column_name ~ '_by$'
      OR (c.udt_name IN ('text', 'varchar', 'citext', 'inet', 'cidr', 'bytea', 'jsonb', 'json', 'bpchar')
          AND c.column_name ~ '(^|_)(e?mails?|address(es)?|ips?|user_agents?|phones?|mobile|name|names|subject|keys?)($|_)'))
    UNION
    SELECT DISTINCT cl.relname FROM pg_constraint k JOIN pg_class cl ON cl.oid = k.conrelid
    WHERE k.contype = 'f' AND k.confrelid = 'public.users'::regclass`);
  const covered = new Set(personalDataSources.flatMap((s) => s.tables));
  const tables = rows.map((r) => r.table);
  expect(tables).toEqual(
    expect.arrayContaining([
      'login_throttles',
      'known_devices',
      'sessions',
      'email_outbox',
      'user_tokens',
    ]),
  );
  expect(
    tables.filter((t) => !covered.has(t) && !Object.hasOwn(NOT_PERSONAL_DATA, t)).sort(),
  ).toEqual([]);
  // A table listed as holding none must still exist (a stale entry would hide a renamed table).
  expect(Object.keys(NOT_PERSONAL_DATA).filter((t) => !tables.includes(t))).toEqual([]);
});

describe('export', () => {
  test("holds the subject's data from every source and nothing of other users or any secret", async () => {
    const f = await seed();
    const data = await exportOf(f);
    expect(Object.keys(data).sort()).toEqual(personalDataSources.map((s) => s.name).sort());
    expect(data['profile']).toEqual([
      expect.objectContaining({
        id: f.subjectId,
        email: f.email,
        displayName: 'Sam Subject',
        passwordSet: true,
        lastLoginIp: '198.51.100.23',
      }),
    ]);
    expect(data['sessions']).toEqual([
      expect.objectContaining({ ipAddress: '198.51.100.23', userAgent: 'SubjectBrowser/1.0' }),
    ]);
    expect(data['known_devices']).toHaveLength(1);
    expect(data['login_throttles']).toEqual([
      expect.objectContaining({ email: f.email, failures: 2 }),
    ]);
    expect(data['user_tokens']?.map((r) => r['relation']).sort()).toEqual([
      'for_you',
      'sent_by_you',
    ]);
    expect(data['mfa']).toEqual([
      expect.objectContaining({ enabled: true, backupCodesRemaining: 2 }),
    ]);
    expect(data['api_keys']).toEqual([
      expect.objectContaining({ id: f.keyId, name: 'Sam CI', prefix: 'sk_live_AbCd' }),
    ]);
    expect(data['linked_identities']).toEqual([expect.objectContaining({ subject: 'sam-at-idp' })]);
    expect(data['email_outbox']).toEqual([
      expect.objectContaining({ template: 'new_sign_in', toAddress: f.email }),
    ]);
    const audit = data['audit_events'] ?? [];
    expect(audit.map((e) => e['action'])).toEqual([
      'auth.sign_in.succeeded',
      'user.role.changed',
      'auth.sign_in.failed',
    ]);
    expect(audit[0]).toMatchObject({ ip: '198.51.100.23', userAgent: 'SubjectBrowser/1.0' });
    expect(audit[1]).toMatchObject({ ip: null, after: { email: f.email } }); // the owner's IP is not the subject's data
    expect(audit[2]).toMatchObject({ targetId: f.email });
    const text = JSON.stringify(data);
    for (const leak of [
      SECRET.passwordHash,
      SECRET.totp,
      SECRET.backup,
      f.tokenHash.toString('hex'),
      'OtherBrowser',
      '203.0.113.99',
      'other@example.com',
      'Olga Owner',
    ]) {
      expect(text).not.toContain(leak);
    }
  });
});

describe('erasure', () => {
  test('removes every direct identifier from every source, keeps the tenant key, and the audit chain still verifies', async () => {
    const f = await seed();
    const requestId = await eraseNow(f);
    const stored = await dump(f.tenantId);
    for (const clear of [
      f.email,
      'Sam Subject',
      '198.51.100.23',
      'SubjectBrowser',
      'sam-at-idp',
      '192.0.2.4',
    ])
      expect(stored).not.toContain(clear);
    expect(stored).toContain('other@example.com');
    const after = await exportOf(f);
    for (const [name, records] of Object.entries(after))
      if (!['mfa', 'audit_events', 'privacy_requests', 'email_outbox'].includes(name))
        expect(records, name).toEqual([]);
    expect(after['email_outbox']?.map((r) => r['template'])).toEqual(['privacy_erasure_completed']);
    expect(after['mfa']).toEqual([
      expect.objectContaining({ enabled: false, backupCodesRemaining: 0 }),
    ]);
    const key = await db.owner.pool.query<{ created_by: string | null; revoked_at: Date | null }>(
      'SELECT created_by, revoked_at FROM api_keys WHERE id = $1',
      [f.keyId],
    );
    expect(key.rows).toEqual([{ created_by: null, revoked_at: null }]);
    expect(await db.withTenant(f.tenantId, (tx) => verifyAuditChain(tx))).toMatchObject({
      valid: true,
    });
    const outbox = await db.owner.pool.query<{
      to_address: string;
      template: string;
      user_id: string | null;
    }>('SELECT to_address, template, user_id FROM email_outbox WHERE tenant_id = $1', [f.tenantId]);
    expect(outbox.rows).toEqual([
      { to_address: f.email, template: 'privacy_erasure_completed', user_id: null },
    ]);
    await db.owner.pool.query(
      'UPDATE email_outbox SET sent_at = $2, body = NULL WHERE tenant_id = $1',
      [f.tenantId, now],
    );
    expect(
      (await runPrivacyMaintenance({ database: db.app, keyring, now })).confirmationsRemoved,
    ).toBeGreaterThanOrEqual(1);
    expect(
      JSON.stringify(
        (await db.owner.pool.query('SELECT * FROM email_outbox WHERE tenant_id = $1', [f.tenantId]))
          .rows,
      ),
    ).not.toContain(f.email);
    expect(await readErasureLedger(db.app)).toContainEqual({
      tenantId: f.tenantId,
      requestId,
      userId: f.subjectId,
      erasedAt: now.toISOString(),
    });
    const request = await db.owner.pool.query(
      'SELECT status, contact_email FROM privacy_requests WHERE id = $1',
      [requestId],
    );
    expect(request.rows).toEqual([{ status: 'completed', contact_email: null }]);
  });

  test('a run killed halfway leaves nothing partial, and the rerun erases once', async () => {
    const f = await seed();
    let calls = 0;
    const requestId = await eraseNow(f, (source) => {
      calls += 1;
      if (calls === 4) throw new Error(`simulated crash after ${source}`);
    });
    const ledger = await db.owner.pool.query(
      'SELECT count(*)::int AS n FROM privacy_erasure_ledger WHERE request_id = $1',
      [requestId],
    );
    const mails = await db.owner.pool.query(
      `SELECT count(*)::int AS n FROM email_outbox WHERE tenant_id = $1 AND template = 'privacy_erasure_completed'`,
      [f.tenantId],
    );
    const events = await db.owner.pool.query(
      `SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = $1 AND action = 'privacy.erasure.completed'`,
      [f.tenantId],
    );
    expect([ledger.rows[0], mails.rows[0], events.rows[0]]).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
    expect(await dump(f.tenantId)).not.toContain(f.email);
  });

  test('replaying the ledger after a restore erases the subject again', async () => {
    const f = await seed();
    await eraseNow(f);
    const ledger = (await readErasureLedger(db.app)).filter((e) => e.tenantId === f.tenantId);
    // "Restore" an older backup: the subject is back.
    await db.withTenant(f.tenantId, (tx) =>
      tx.client.query(
        `INSERT INTO users (id, tenant_id, email, display_name) VALUES ($1, $2, $3, 'Sam Subject')`,
        [f.subjectId, f.tenantId, f.email],
      ),
    );
    expect(await replayErasureLedger(db.app, { keyring, now }, ledger)).toEqual({
      replayed: 1,
      resurrected: 1,
    });
    expect(await dump(f.tenantId)).not.toContain('Sam Subject');
    expect(await replayErasureLedger(db.app, { keyring, now }, ledger)).toEqual({
      replayed: 1,
      resurrected: 0,
    });
  });
});
