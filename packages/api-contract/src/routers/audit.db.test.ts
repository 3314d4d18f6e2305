import { generateKeyPairSync } from 'node:crypto';
import { recordAuditEvent, signAuditCheckpoint } from '@tessera/auth/audit';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import type { Principal, Role } from '../context.js';
import { createTestContext } from '../testing/index.js';
import { createCallerFactory, router } from '../trpc.js';
import { auditRouter } from './audit.js';

const db = useTestDatabase();
const callerOf = createCallerFactory(router({ audit: auditRouter }));
const { privateKey, publicKey } = generateKeyPairSync('ed25519');

function session(tenantId: string, role: Role): Principal {
  return {
    kind: 'session',
    tenantId,
    role,
    userId: '00000000-0000-4000-8000-0000000000a1',
    sessionId: 's-1',
    aal: 1,
    mfaVerifiedAt: null,
    mfaEnabled: false,
    enrollmentOnly: false,
    expiresAt: new Date(Date.now() + 3_600_000),
  };
}
const apiKey = (
  tenantId: string,
  scopes: string[],
  keyType: 'secret' | 'publishable' = 'secret',
): Principal => ({ kind: 'api_key', tenantId, keyId: 'k-1', keyType, scopes });
const as = (principal: Principal, extra: { auditPublicKey?: typeof publicKey } = {}) =>
  callerOf({ ...createTestContext(db.app, { principal }), ...extra });

async function tenantWithEvents(count: number): Promise<string> {
  const tenant = await db.seedTenant();
  await db.withTenant(tenant.id, async (tx) => {
    for (let i = 1; i <= count; i += 1) {
      await recordAuditEvent(tx, {
        actor: { type: 'user', id: i % 2 ? 'alice' : 'bob' },
        action: i % 3 ? 'user.role.changed' : 'auth.sign_in.failed',
        occurredAt: new Date(Date.UTC(2026, 0, i)),
        ip: '203.0.113.8',
        after: { email: `user${i}@example.com` },
      });
    }
  });
  return tenant.id;
}

describe('who may read the audit log', () => {
  test('owners, admins, compliance and secret keys with audit:read may list and verify', async () => {
    const tenantId = await tenantWithEvents(2);
    let reads = 0;
    for (const principal of [
      session(tenantId, 'owner'),
      session(tenantId, 'admin'),
      session(tenantId, 'compliance'),
      apiKey(tenantId, ['audit:read']),
    ]) {
      // Filtered, and verified one row longer: each list call adds its audit.log.listed event.
      expect((await as(principal).audit.list({ action: 'user.role.changed' })).items).toHaveLength(
        2,
      );
      reads += 1;
      expect(await as(principal).audit.verify()).toEqual({ valid: true, checked: 2 + reads });
    }
  });

  test('members, keys without audit:read, publishable keys and anonymous callers may not', async () => {
    const tenantId = await tenantWithEvents(1);
    await expect(as(session(tenantId, 'member')).audit.list()).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(as(apiKey(tenantId, ['users:read'])).audit.verify()).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(
      as(apiKey(tenantId, ['audit:read'], 'publishable')).audit.list(),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(callerOf(createTestContext(db.app)).audit.list()).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });
});

describe('audit.list', () => {
  test('pages newest first by seq, with a cursor that neither repeats nor skips an event', async () => {
    const tenantId = await tenantWithEvents(7);
    const caller = as(session(tenantId, 'compliance'));
    const seen: number[] = [];
    let cursor: number | undefined;
    do {
      const page = await caller.audit.list({ limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((item) => item.seq));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);
  });

  test('filters by action, actor and time range, and shows personal data in the clear', async () => {
    const tenantId = await tenantWithEvents(6);
    const caller = as(session(tenantId, 'admin'));
    expect(
      (await caller.audit.list({ action: 'auth.sign_in.failed' })).items.map((i) => i.seq),
    ).toEqual([6, 3]);
    expect((await caller.audit.list({ actorId: 'bob' })).items.map((i) => i.seq)).toEqual([
      6, 4, 2,
    ]);
    const range = await caller.audit.list({
      since: '2026-01-02T00:00:00Z',
      until: '2026-01-04T00:00:00+00:00',
    });
    expect(range.items.map((i) => i.seq)).toEqual([3, 2]);
    expect(range.items[0]).toMatchObject({
      ip: '203.0.113.8',
      after: { email: 'user3@example.com' },
      actor: { type: 'user', id: 'alice' },
    });
  });

  test('more than 100 per page, unknown fields and reversed ranges are refused', async () => {
    const caller = as(session((await db.seedTenant()).id, 'owner'));
    await expect(caller.audit.list({ limit: 101 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(caller.audit.list({ tenantId: 'x' } as never)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(
      caller.audit.list({ since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('reads of personal data in the log are audited', () => {
  const listed = async (tenantId: string) =>
    (
      await db.owner.pool.query<{
        actor_type: string;
        actor_id: string;
        metadata: Record<string, unknown>;
      }>(
        `SELECT actor_type, actor_id, metadata FROM audit_logs WHERE tenant_id = $1 AND action = 'audit.log.listed' ORDER BY seq`,
        [tenantId],
      )
    ).rows;

  test('each list call that returns personal data records one event: who listed, with which filter, whose data', async () => {
    const tenantId = await tenantWithEvents(5);
    const page = await as(session(tenantId, 'compliance')).audit.list({
      action: 'user.role.changed',
      limit: 2,
    });
    expect(page.items.map((i) => i.seq)).toEqual([5, 4]);
    expect(await listed(tenantId)).toEqual([
      {
        actor_type: 'user',
        actor_id: '00000000-0000-4000-8000-0000000000a1',
        metadata: {
          filter: { action: 'user.role.changed', limit: 2 },
          rows: 2,
          personalDataRows: 2,
          subjects: ['alice', 'bob'],
        },
      },
    ]);
    await as(apiKey(tenantId, ['audit:read'])).audit.list({ actorId: 'alice' });
    expect((await listed(tenantId)).at(-1)).toMatchObject({
      actor_type: 'api_key',
      actor_id: 'k-1',
      metadata: { filter: { actorId: 'alice' }, subjects: ['alice'] },
    });
  });

  test('a page without personal data records nothing, so reading the log does not feed itself', async () => {
    const tenantId = await tenantWithEvents(2);
    const caller = as(session(tenantId, 'owner'));
    expect((await caller.audit.list({ action: 'no.such.action' })).items).toEqual([]);
    expect(await listed(tenantId)).toEqual([]);
    await caller.audit.list({ limit: 1 });
    await caller.audit.list({ limit: 1 }); // returns the first call's own event
    expect(await listed(tenantId)).toHaveLength(2);
  });
});

describe('audit.verify', () => {
  test('reports the seq of a row edited behind the application, and checks signatures when the key is configured', async () => {
    const tenantId = await tenantWithEvents(4);
    await db.withTenant(tenantId, (tx) => signAuditCheckpoint(tx, { signingKey: privateKey }));
    const caller = as(session(tenantId, 'compliance'), { auditPublicKey: publicKey });
    expect(await caller.audit.verify()).toEqual({ valid: true, checked: 5 });
    const client = await db.owner.pool.connect();
    try {
      await client.query('BEGIN; SET LOCAL session_replication_role = replica');
      await client.query(
        `UPDATE audit_logs SET action = 'user.role.viewed' WHERE tenant_id = $1 AND seq = 2`,
        [tenantId],
      );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await caller.audit.verify()).toEqual({ valid: false, checked: 1, firstInvalidSeq: 2 });
  });
});
