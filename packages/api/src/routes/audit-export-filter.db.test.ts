// The audit page's "Export" downloads what the page shows: the same filter (action, actor, time,
// target search) narrows the streamed rows, the filter is recorded in `audit.log.exported`, and a
// search never reaches another tenant's names (RLS). docs/audit-log.md "Export".
import { randomBytes, randomUUID } from 'node:crypto';
import type { Principal } from '@tessera/api-contract';
import { listAuditEvents, recordAuditEvent } from '@tessera/auth/audit';
import { useTestDatabase } from '@tessera/db/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { principalPlugin } from '../plugins/principal.js';
import { auditExportPlugin } from './audit-export.js';

const db = useTestDatabase();
let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify();
  const fromHeader = async (request: { headers: Record<string, unknown> }) =>
    typeof request.headers['x-test-principal'] === 'string'
      ? (JSON.parse(request.headers['x-test-principal']) as Principal)
      : null;
  await app.register(principalPlugin, { resolvers: [fromHeader] });
  await app.register(auditExportPlugin, { database: db.app });
});
afterAll(async () => app.close());

const owner = (tenantId: string): Principal => ({
  kind: 'session',
  tenantId,
  role: 'owner',
  userId: randomUUID(),
  sessionId: 's',
  aal: 1,
  mfaVerifiedAt: null,
  mfaEnabled: false,
  enrollmentOnly: false,
  expiresAt: new Date(),
});

async function exportAs(principal: Principal, query: string) {
  const res = await app.inject({
    url: `/audit/export?${query}`,
    headers: { 'x-test-principal': JSON.stringify(principal) },
  });
  return {
    status: res.statusCode,
    rows: res.body
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { seq: number; action: string; targetId: string }),
  };
}

async function seed(): Promise<{ tenantId: string; carol: string }> {
  const tenantId = (await db.seedTenant()).id;
  const carol = randomUUID();
  await db.withTenant(tenantId, async (tx) => {
    await tx.client.query(
      `INSERT INTO users (id, tenant_id, email, display_name) VALUES ($1, $2, $3, 'Carol')`,
      [carol, tenantId, `carol-${randomBytes(3).toString('hex')}@filter.example`],
    );
    for (const [action, target] of [
      ['user.role.changed', carol],
      ['user.disabled', carol],
      ['user.role.changed', 'someone-else'],
      ['session.revoked', carol],
    ] as const)
      await recordAuditEvent(tx, {
        actor: { type: 'system', id: null },
        action,
        target: { type: 'user', id: target },
        occurredAt: new Date('2026-03-01T10:00:00Z'),
      });
  });
  return { tenantId, carol };
}

test('an export with the page filter holds only the matching rows, in seq order', async () => {
  const { tenantId } = await seed();
  const byAction = await exportAs(owner(tenantId), 'action=user.role.changed');
  expect(byAction.status).toBe(200);
  expect(byAction.rows.map((r) => [r.seq, r.action])).toEqual([
    [1, 'user.role.changed'],
    [3, 'user.role.changed'],
  ]);
});

test('a target search exports the events of the users it names', async () => {
  const { tenantId, carol } = await seed();
  const byTarget = await exportAs(owner(tenantId), 'target=CAROL&format=jsonl');
  expect(byTarget.rows.map((r) => [r.seq, r.targetId])).toEqual([
    [1, carol],
    [2, carol],
    [4, carol],
  ]);
  const both = await exportAs(owner(tenantId), 'target=carol&action=user.disabled');
  expect(both.rows.map((r) => r.seq)).toEqual([2]);
});

test('the filter is recorded in the export’s own audit event', async () => {
  const { tenantId } = await seed();
  await exportAs(owner(tenantId), 'action=user.disabled&since=2026-01-01T00:00:00Z');
  const page = await db.withTenant(tenantId, (tx) =>
    listAuditEvents(tx, { action: 'audit.log.exported' }),
  );
  expect(page.items[0]?.metadata).toMatchObject({
    format: 'jsonl',
    action: 'user.disabled',
    since: '2026-01-01T00:00:00Z',
  });
});

test("a search for another tenant's user finds nothing", async () => {
  const a = await seed();
  const b = await seed();
  const email = await db.withTenant(a.tenantId, async (tx) => {
    const { rows } = await tx.client.query<{ email: string }>(
      'SELECT email FROM users WHERE id = $1',
      [a.carol],
    );
    return rows[0]?.email ?? '';
  });
  expect((await exportAs(owner(b.tenantId), `target=${encodeURIComponent(email)}`)).rows).toEqual(
    [],
  );
  expect((await exportAs(owner(b.tenantId), `target=${a.carol}`)).rows).toEqual([]);
});

test('a malformed filter is refused before anything is read', async () => {
  const { tenantId } = await seed();
  expect((await exportAs(owner(tenantId), 'action=DROP%20TABLE')).status).toBe(400);
  expect((await exportAs(owner(tenantId), 'since=yesterday')).status).toBe(400);
});
