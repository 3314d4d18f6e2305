import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { listAuditEvents } from './list-audit-events.js';
import { recordAuditEvent } from './record-audit-event.js';
import { redactAuditPersonalData } from './redact-audit-personal-data.js';
import { verifyAuditChain } from './verify-audit-chain.js';

const db = useTestDatabase();
const bob = '0c1d2e3f-0000-4000-8000-00000000b0b0';
const admin = { type: 'user', id: '0c1d2e3f-0000-4000-8000-0000000ad017' } as const;

async function storedRows(tenantId: string): Promise<string[]> {
  const { rows } = await db.owner.pool.query<{ row: string }>(
    'SELECT row_to_json(a)::text AS row FROM audit_logs a WHERE tenant_id = $1 ORDER BY seq',
    [tenantId],
  );
  return rows.map((r) => r.row);
}

test('redacting a user removes their clear IP, user agent and e-mail addresses, and the chain still verifies', async () => {
  const tenant = await db.seedTenant();
  await db.withTenant(tenant.id, async (tx) => {
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: bob },
      action: 'auth.sign_in.succeeded',
      ip: '203.0.113.9',
      userAgent: 'BobBrowser/1.0',
    });
    await recordAuditEvent(tx, {
      actor: admin,
      action: 'user.email.changed',
      target: { type: 'user', id: bob },
      ip: '198.51.100.1',
      before: { email: 'bob@old.example' },
      after: { email: 'bob@new.example', displayName: 'Bob Builder' },
    });
    await recordAuditEvent(tx, {
      actor: admin,
      action: 'user.role.changed',
      target: { type: 'user', id: 'carol' },
      ip: '198.51.100.1',
      after: { email: 'carol@example.com' },
    });
  });
  const result = await db.withTenant(tenant.id, (tx) => redactAuditPersonalData(tx, bob));
  expect(result).toEqual({ redacted: 2 });

  const [signIn, emailChange, carolRow] = await storedRows(tenant.id);
  for (const clear of [
    '203.0.113.9',
    'BobBrowser',
    'bob@old.example',
    'bob@new.example',
    'Bob Builder',
  ]) {
    expect(`${signIn}${emailChange}`).not.toContain(clear);
  }
  expect(carolRow).toContain('carol@example.com');
  expect(await db.withTenant(tenant.id, (tx) => verifyAuditChain(tx))).toEqual({
    valid: true,
    checked: 4,
  });

  const { items } = await db.withTenant(tenant.id, (tx) => listAuditEvents(tx));
  const changed = items.find((item) => item.action === 'user.email.changed');
  expect(changed).toMatchObject({
    ip: null,
    target: { type: 'user', id: bob },
    after: { email: expect.stringMatching(/^pii:[0-9a-f]{64}$/) },
  });
  expect(changed?.redactedAt).not.toBeNull();
  expect(items[0]).toMatchObject({
    action: 'audit.personal_data.redacted',
    target: { id: bob },
    metadata: { rowsRedacted: 2 },
  });
});

test('erasure by e-mail address reaches rows that name the person only by address', async () => {
  const tenant = await db.seedTenant();
  await db.withTenant(tenant.id, (tx) =>
    recordAuditEvent(tx, {
      actor: { type: 'system', id: null },
      action: 'auth.sign_in.failed',
      target: { type: 'email', id: 'dave@example.com' },
      ip: '192.0.2.10',
    }),
  );
  const stored = (await storedRows(tenant.id))[0] ?? '';
  expect(stored).toMatch(/"target_id":"pii:[0-9a-f]{64}"/);
  expect(
    await db.withTenant(tenant.id, (tx) =>
      redactAuditPersonalData(tx, 'dave-user-id', { emails: [' Dave@Example.com '] }),
    ),
  ).toEqual({ redacted: 1 });
  const after = (await storedRows(tenant.id))[0] ?? '';
  expect(after).not.toContain('dave@example.com');
  expect(after).not.toContain('192.0.2.10');
  expect(await db.withTenant(tenant.id, (tx) => verifyAuditChain(tx))).toEqual({
    valid: true,
    checked: 2,
  });
});

test('redacting twice changes nothing more and still verifies', async () => {
  const tenant = await db.seedTenant();
  await db.withTenant(tenant.id, (tx) =>
    recordAuditEvent(tx, {
      actor: { type: 'user', id: bob },
      action: 'auth.signed_out',
      ip: '203.0.113.9',
    }),
  );
  await db.withTenant(tenant.id, (tx) => redactAuditPersonalData(tx, bob));
  expect(await db.withTenant(tenant.id, (tx) => redactAuditPersonalData(tx, bob))).toEqual({
    redacted: 0,
  });
  expect(await db.withTenant(tenant.id, (tx) => verifyAuditChain(tx))).toEqual({
    valid: true,
    checked: 3,
  });
});
