// Attack: bulk-reading an audit log through the export without the right (anonymous, a member, an
// enrollment-only session, a key without audit:read, a publishable key) or across tenants; formula
// injection through a CSV cell an auditor opens in a spreadsheet; and an export that only Tessera's
// own code can check. docs/design.md rule 1, "Privacy" (audit exports are audited); OWASP ASVS
// 5.0 V16 (logging) and the OWASP CSV injection guidance.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Principal } from '@tessera/api-contract';
import {
  listAuditEvents,
  recordAuditEvent,
  redactAuditPersonalData,
  signAuditCheckpoint,
  verifyAuditChain,
} from '@tessera/auth/audit';
import { useTestDatabase } from '@tessera/db/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { principalPlugin } from '../plugins/principal.js';
import { auditExportPlugin } from './audit-export.js';

const db = useTestDatabase();
const SCRIPT = fileURLToPath(new URL('../../../../docs/audit-verify-example.mjs', import.meta.url));
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify();
  // Tests name the principal in a header; production resolves it from the cookie or Bearer key.
  const fromHeader = async (request: {
    headers: Record<string, unknown>;
  }): Promise<Principal | null> =>
    typeof request.headers['x-test-principal'] === 'string'
      ? (JSON.parse(request.headers['x-test-principal']) as Principal)
      : null;
  await app.register(principalPlugin, { resolvers: [fromHeader] });
  await app.register(auditExportPlugin, { database: db.app });
});
afterAll(async () => app.close());

const session = (tenantId: string, role: string, enrollmentOnly = false): Principal =>
  ({
    kind: 'session',
    tenantId,
    role,
    userId: 'u-owner',
    sessionId: 's',
    aal: 1,
    mfaVerifiedAt: null,
    mfaEnabled: false,
    enrollmentOnly,
    expiresAt: new Date(),
  }) as Principal;
const key = (tenantId: string, scopes: string[], keyType = 'secret'): Principal =>
  ({ kind: 'api_key', tenantId, keyId: 'key-1', keyType, scopes }) as Principal;

async function exportAs(
  principal: Principal | null,
  query = '',
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const res = await app.inject({
    url: `/audit/export${query}`,
    headers: principal
      ? { 'x-test-principal': JSON.stringify(principal), 'user-agent': 'siem/1.0' }
      : {},
  });
  return { status: res.statusCode, body: res.body, headers: res.headers };
}

async function tenantWithEvents(count: number): Promise<string> {
  const tenant = await db.seedTenant();
  await db.withTenant(tenant.id, async (tx) => {
    for (let i = 1; i <= count; i += 1) {
      await recordAuditEvent(tx, {
        actor: { type: 'user', id: i % 2 ? 'alice' : 'bob' },
        action: 'user.email.changed',
        target: { type: 'user', id: 'bob' },
        ip: `203.0.113.${i}`,
        userAgent: 'Mozilla/5.0',
        before: { email: 'bob@old.example' },
        after: { email: `bob${i}@new.example`, password: 'x' },
        metadata: { i },
      });
    }
  });
  return tenant.id;
}

function runScript(input: string, ...args: string[]): unknown {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], {
    input,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return JSON.parse(result.stdout) as unknown;
}

describe('who may export', () => {
  test('anonymous callers get 401; members, enrollment-only sessions and keys without audit:read get 403', async () => {
    const tenantId = await tenantWithEvents(1);
    expect((await exportAs(null)).status).toBe(401);
    for (const principal of [
      session(tenantId, 'member'),
      session(tenantId, 'owner', true),
      key(tenantId, ['users:read']),
      key(tenantId, ['audit:read'], 'publishable'),
    ]) {
      expect((await exportAs(principal)).status).toBe(403);
    }
  });

  test("owners, admins, compliance and audit:read keys get their own tenant's log only, and the export is audited", async () => {
    const mine = await tenantWithEvents(2);
    const other = await tenantWithEvents(3);
    for (const principal of [
      session(mine, 'owner'),
      session(mine, 'admin'),
      session(mine, 'compliance'),
      key(mine, ['audit:read']),
    ]) {
      const res = await exportAs(principal);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toContain('application/x-ndjson');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).not.toContain(other);
    }
    const { items } = await db.withTenant(mine, (tx) =>
      listAuditEvents(tx, { action: 'audit.log.exported' }),
    );
    expect(items).toHaveLength(4);
    expect(items[0]).toMatchObject({
      actor: { type: 'api_key', id: 'key-1' },
      userAgent: 'siem/1.0',
      metadata: { format: 'jsonl', afterSeq: 0 },
    });
  });

  test('afterSeq feeds only newer events and an unknown format is refused', async () => {
    const tenantId = await tenantWithEvents(4);
    const lines = (await exportAs(session(tenantId, 'owner'), '?afterSeq=2')).body
      .trim()
      .split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { seq: number }).seq)).toEqual([3, 4, 5]); // 5: this export's own event
    expect((await exportAs(session(tenantId, 'owner'), '?format=xml')).status).toBe(400);
  });
});

describe('export formats', () => {
  test('CSV has a header row, quotes as RFC 4180 and defuses spreadsheet formulas', async () => {
    const tenant = await db.seedTenant();
    await db.withTenant(tenant.id, (tx) =>
      recordAuditEvent(tx, {
        actor: { type: 'system', id: null },
        action: 'auth.sign_in.failed',
        userAgent: '=HYPERLINK("https://evil.example")',
      }),
    );
    const res = await exportAs(session(tenant.id, 'compliance'), '?format=csv');
    const [header, first] = res.body.split('\r\n');
    expect(res.headers['content-type']).toContain('text/csv');
    expect(header).toMatch(/^tenantId,seq,occurredAt,actorType,/);
    expect(first).toContain(`"'=HYPERLINK(""https://evil.example"")"`);
    expect(res.body).not.toMatch(/(^|,)=HYPERLINK/m);
  });

  test('secrets never appear in an export', async () => {
    const tenantId = await tenantWithEvents(2);
    const body = (await exportAs(session(tenantId, 'owner'))).body;
    expect(body).toContain('"password":"[redacted]"');
  });
});

describe('the documented third-party verifier', () => {
  test('agrees with verifyAuditChain on an intact export, after redaction, and on a tampered one', async () => {
    const tenantId = await tenantWithEvents(5);
    await db.withTenant(tenantId, (tx) => redactAuditPersonalData(tx, 'alice'));
    const verify = (): Promise<unknown> => db.withTenant(tenantId, (tx) => verifyAuditChain(tx));
    const intact = (await exportAs(session(tenantId, 'owner'))).body;
    expect(runScript(intact)).toEqual({ valid: true, checked: 7 }); // 5 events, the redaction, this export
    expect(await verify()).toEqual({ valid: true, checked: 7 });

    const client = await db.owner.pool.connect();
    try {
      await client.query('BEGIN; SET LOCAL session_replication_role = replica');
      await client.query(
        `UPDATE audit_logs SET after = '{"email":"mallory@evil.example"}' WHERE tenant_id = $1 AND seq = 3`,
        [tenantId],
      );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const tampered = (await exportAs(session(tenantId, 'owner'))).body;
    expect(runScript(tampered)).toEqual({ valid: false, checked: 2, firstInvalidSeq: 3 });
    expect(await verify()).toEqual({ valid: false, checked: 2, firstInvalidSeq: 3 });
  });

  test('checks checkpoint signatures in the log when given the public key, as verifyAuditChain does', async () => {
    const tenantId = await tenantWithEvents(3);
    await db.withTenant(tenantId, (tx) => signAuditCheckpoint(tx, { signingKey: privateKey })); // signs seq 3
    const body = (await exportAs(session(tenantId, 'owner'))).body;
    const spki = (k: KeyObject): string =>
      k.export({ format: 'der', type: 'spki' }).toString('base64');
    expect(runScript(body, spki(publicKey))).toEqual({ valid: true, checked: 5 });
    const stranger = generateKeyPairSync('ed25519').publicKey;
    expect(runScript(body, spki(stranger))).toMatchObject({ valid: false, firstInvalidSeq: 3 });
    expect(
      await db.withTenant(tenantId, (tx) => verifyAuditChain(tx, { publicKey: stranger })),
    ).toMatchObject({ valid: false, firstInvalidSeq: 3 });
  });
});
