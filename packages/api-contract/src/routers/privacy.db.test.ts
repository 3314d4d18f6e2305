// privacy.* and compliance.* through tRPC callers on real Postgres: who may call what (meta access
// plus the service's subject check), step-up for erasure, and that compliance staff of one tenant
// can neither see nor act on another tenant's requests (RLS; docs/design.md rule 1).
import { randomUUID } from 'node:crypto';
import { completeExport, writeExportChunks } from '@tessera/auth/privacy';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import type { Principal, Role } from '../context.js';
import { createTestContext, testServices } from '../testing/index.js';
import { createCallerFactory, router } from '../trpc.js';
import { complianceRouter } from './compliance.js';
import { privacyRouter } from './privacy.js';

const db = useTestDatabase();
const callerOf = createCallerFactory(
  router({ privacy: privacyRouter, compliance: complianceRouter }),
);
const services = testServices();
const T0 = new Date('2026-05-31T08:00:00Z');

function session(
  tenantId: string,
  userId: string,
  role: Role,
  mfa: { enabled: boolean; verifiedAt?: Date } = { enabled: false },
): Principal {
  return {
    kind: 'session',
    tenantId,
    userId,
    role,
    sessionId: randomUUID(),
    aal: mfa.enabled ? 2 : 1,
    mfaVerifiedAt: mfa.verifiedAt ?? null,
    mfaEnabled: mfa.enabled,
    enrollmentOnly: false,
    expiresAt: new Date(T0.getTime() + 3_600_000),
  };
}
const key = (tenantId: string, scopes: string[]): Principal => ({
  kind: 'api_key',
  tenantId,
  keyId: randomUUID(),
  keyType: 'secret',
  scopes,
});
const as = (principal: Principal, now = T0) =>
  callerOf(createTestContext(db.app, { principal, services, now: () => now }));

async function tenant() {
  const { id } = await db.seedTenant();
  const [owner, member, other, officer] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  await db.withTenant(id, (tx) =>
    tx.client.query(
      `INSERT INTO users (id, tenant_id, email, role) VALUES ($1::uuid, $5, $1::text || '@example.com', 'owner'), ($2::uuid, $5, $2::text || '@example.com', 'member'),
    ($3::uuid, $5, $3::text || '@example.com', 'member'), ($4::uuid, $5, $4::text || '@example.com', 'compliance')`,
      [owner, member, other, officer, id],
    ),
  );
  return {
    id,
    owner: session(id, owner, 'owner'),
    member: session(id, member, 'member'),
    other: session(id, other, 'member'),
    officer: session(id, officer, 'compliance'),
  };
}

async function finishExport(tenantId: string, requestId: string): Promise<void> {
  await db.withTenant(tenantId, async (tx) => {
    const { rows } = await tx.client.query(
      `UPDATE privacy_requests SET status = 'processing' WHERE id = $1 RETURNING *`,
      [requestId],
    );
    const written = await writeExportChunks(
      tx,
      services.accounts.keyring,
      requestId,
      (async function* () {
        yield '{"ok":true}';
      })(),
    );
    const [request] = await tx.query.privacyRequests.findMany({
      where: (r, { eq }) => eq(r.id, rows[0].id),
    });
    if (!request) throw new Error('missing request');
    await completeExport(
      tx,
      request,
      { contentType: 'application/json', fileName: 'personal-data.json', ...written },
      { keyring: services.accounts.keyring, now: T0, consoleUrl: 'http://localhost:3000' },
    );
  });
}

test('every privacy and compliance procedure declares its access, and none takes a secret', () => {
  const procedures = Object.entries(
    router({ privacy: privacyRouter, compliance: complianceRouter })._def
      .procedures as unknown as Record<string, { _def: { meta?: { access?: unknown } } }>,
  );
  expect(procedures.map(([name]) => name).sort()).toEqual([
    'compliance.createRequest',
    'compliance.extendDeadline',
    'compliance.listRequests',
    'compliance.placeLegalHold',
    'compliance.rejectRequest',
    'compliance.releaseLegalHold',
    'privacy.exportDownload',
    'privacy.myRequests',
    'privacy.requestDeletion',
    'privacy.requestExport',
    'privacy.webhooks.acknowledge',
    'privacy.webhooks.create',
    'privacy.webhooks.delete',
    'privacy.webhooks.deliveries',
    'privacy.webhooks.list',
    'privacy.webhooks.rotateSecret',
    'privacy.webhooks.update',
  ]);
  for (const [name, procedure] of procedures)
    expect(procedure._def.meta?.access, name).toBeDefined();
});

describe('privacy.*', () => {
  test('a subject asks for an export once, sees it in myRequests, and may not ask for an unknown format', async () => {
    const t = await tenant();
    const { request } = await as(t.member).privacy.requestExport({ format: 'pdf' });
    expect(request).toMatchObject({
      type: 'export',
      status: 'pending',
      format: 'pdf',
      requestedAt: T0.toISOString(),
      dueAt: '2026-06-30T08:00:00.000Z',
      completedAt: null,
      expiresAt: null,
    });
    expect((await as(t.member).privacy.requestExport({ format: 'json' })).request.id).toBe(
      request.id,
    );
    expect(await as(t.member).privacy.myRequests()).toEqual([request]);
    expect(await as(t.other).privacy.myRequests()).toEqual([]);
    await expect(
      as(t.member).privacy.requestExport({ format: 'xml' } as never),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      callerOf(
        createTestContext(db.app, { principal: key(t.id, ['privacy:write']), services }),
      ).privacy.requestExport({ format: 'json' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  test('erasure needs a recent second factor when the subject has one; the last owner is refused', async () => {
    const t = await tenant();
    const stale = session(t.id, t.member.kind === 'session' ? t.member.userId : '', 'member', {
      enabled: true,
      verifiedAt: new Date(T0.getTime() - 11 * 60_000),
    });
    await expect(as(stale).privacy.requestDeletion()).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      cause: { code: 'step_up_required' },
    });
    const fresh = { ...stale, mfaVerifiedAt: new Date(T0.getTime() - 60_000) };
    expect((await as(fresh).privacy.requestDeletion()).request).toMatchObject({
      type: 'deletion',
      status: 'pending',
      format: null,
    });
    await expect(as(t.owner).privacy.requestDeletion()).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      cause: { code: 'last_owner' },
    });
  });

  test('download links go to the subject, compliance staff and privacy:read keys only, once the export is ready', async () => {
    const t = await tenant();
    const { request } = await as(t.member).privacy.requestExport({ format: 'json' });
    await expect(
      as(t.member).privacy.exportDownload({ requestId: request.id }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    await finishExport(t.id, request.id);
    for (const caller of [t.member, t.officer, key(t.id, ['privacy:read'])]) {
      const link = await as(caller).privacy.exportDownload({ requestId: request.id });
      expect(link.url).toMatch(/^http:\/\/localhost:3000\/privacy\/downloads\/[A-Za-z0-9_-]{43}$/);
      expect(Date.parse(link.expiresAt) - T0.getTime()).toBe(5 * 60_000);
    }
    await expect(
      as(t.other).privacy.exportDownload({ requestId: request.id }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      as(t.owner).privacy.exportDownload({ requestId: request.id }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      as(key(t.id, ['audit:read'])).privacy.exportDownload({ requestId: request.id }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      as(t.member, new Date(T0.getTime() + 8 * 24 * 3_600_000)).privacy.exportDownload({
        requestId: request.id,
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    const { rows } = await db.owner.pool.query(
      `SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = $1 AND action = 'privacy.export.link_created'`,
      [t.id],
    );
    expect(rows[0]).toEqual({ n: 3 });
  });
});

describe('compliance.*', () => {
  test('access follows the contract: compliance acts, owners read, members nothing, keys by scope', async () => {
    const t = await tenant();
    const userId = t.member.kind === 'session' ? t.member.userId : '';
    const created = await as(key(t.id, ['privacy:write'])).compliance.createRequest({
      userId,
      type: 'export',
      format: 'csv',
    });
    expect(created).toMatchObject({
      created: true,
      request: { userId, type: 'export', requestedBy: { type: 'api_key' } },
    });
    await expect(
      as(key(t.id, ['privacy:read'])).compliance.createRequest({ userId, type: 'deletion' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await as(t.owner).compliance.listRequests()).items).toHaveLength(1);
    expect(
      (await as(key(t.id, ['privacy:read'])).compliance.listRequests({ type: 'export' })).items,
    ).toHaveLength(1);
    await expect(as(t.member).compliance.listRequests()).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(
      as(t.owner).compliance.placeLegalHold({ userId, reason: 'x' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      as(key(t.id, ['privacy:write'])).compliance.rejectRequest({
        id: created.request.id,
        reason: 'x',
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const { holdId } = await as(t.officer).compliance.placeLegalHold({
      userId,
      reason: 'Litigation',
    });
    const deletion = await as(t.officer).compliance.createRequest({ userId, type: 'deletion' });
    expect(deletion.request.status).toBe('blocked');
    expect(await as(t.officer).compliance.releaseLegalHold({ holdId })).toEqual({
      ok: true,
      resumedRequests: 1,
    });
    const extended = await as(t.officer).compliance.extendDeadline({
      id: deletion.request.id,
      months: 2,
      reason: 'Large data set',
    });
    expect(extended.request).toMatchObject({
      extendedMonths: 2,
      dueAt: '2026-08-30T08:00:00.000Z',
      originalDueAt: '2026-06-30T08:00:00.000Z',
    });
    await expect(
      as(t.officer).compliance.extendDeadline({
        id: deletion.request.id,
        months: 1,
        reason: 'more',
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', cause: { code: 'invalid_input' } });
    await expect(
      as(t.officer).compliance.extendDeadline({
        id: deletion.request.id,
        months: 3,
        reason: 'more',
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(
      (
        await as(t.officer).compliance.rejectRequest({
          id: created.request.id,
          reason: 'Duplicate',
        })
      ).request,
    ).toMatchObject({ status: 'rejected', rejectionReason: 'Duplicate' });
    const page = await as(t.officer).compliance.listRequests({ limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(
      (await as(t.officer).compliance.listRequests({ limit: 1, cursor: page.nextCursor ?? '' }))
        .items[0]?.id,
    ).not.toBe(page.items[0]?.id);
    const { rows } = await db.owner.pool.query(
      `SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = $1 AND action = 'privacy.requests.viewed'`,
      [t.id],
    );
    expect(rows[0]?.n).toBeGreaterThanOrEqual(4);
  });

  test("a compliance user of tenant A can neither see nor act on tenant B's requests", async () => {
    const a = await tenant();
    const b = await tenant();
    const { request } = await as(b.member).privacy.requestExport({ format: 'json' });
    await finishExport(b.id, request.id);
    const bMember = b.member.kind === 'session' ? b.member.userId : '';
    expect((await as(a.officer).compliance.listRequests()).items).toEqual([]);
    await expect(
      as(a.officer).privacy.exportDownload({ requestId: request.id }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      as(a.officer).compliance.rejectRequest({ id: request.id, reason: 'x' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      as(a.officer).compliance.extendDeadline({ id: request.id, months: 1, reason: 'x' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      as(a.officer).compliance.placeLegalHold({ userId: bMember, reason: 'x' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      as(a.officer).compliance.createRequest({ userId: bMember, type: 'deletion' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      as(key(a.id, ['privacy:read', 'privacy:write'])).compliance.createRequest({
        userId: bMember,
        type: 'export',
        format: 'json',
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await as(b.officer).compliance.listRequests()).items.map((i) => i.id)).toEqual([
      request.id,
    ]);
  });
});
