// Request lifecycle, deadlines, legal holds and tenant isolation of the privacy service, on real
// Postgres as the runtime role. Cross-tenant attempts must look like "not found" (RLS, docs/design.md rule 1).
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import { generateKeyringSpec, parseKeyring } from '../crypto/keyring.js';
import type { PrivacyActor } from './actor.js';
import { extendPrivacyDeadline, rejectPrivacyRequest } from './compliance-actions.js';
import { processDeletionRequest } from './erase-user-data.js';
import { placeLegalHold, releaseLegalHold } from './legal-holds.js';
import { listPrivacyRequests } from './list-requests.js';
import { claimPrivacyRequest, MAX_PROCESSING_ATTEMPTS } from './processing.js';
import { createPrivacyRequest, type NewPrivacyRequest } from './requests.js';

const db = useTestDatabase();
const keyring = parseKeyring(generateKeyringSpec());
const now = new Date('2026-01-31T09:15:00Z');

async function tenant(): Promise<{
  tenantId: string;
  owner: PrivacyActor;
  member: PrivacyActor;
  officer: PrivacyActor;
}> {
  const { id: tenantId } = await db.seedTenant();
  const [owner, member, officer] = [randomUUID(), randomUUID(), randomUUID()];
  await db.withTenant(tenantId, (tx) =>
    tx.client.query(
      `INSERT INTO users (id, tenant_id, email, role) VALUES ($1, $4, $5, 'owner'), ($2, $4, $6, 'member'), ($3, $4, $7, 'compliance')`,
      [
        owner,
        member,
        officer,
        tenantId,
        `o-${owner.slice(0, 6)}@example.com`,
        `m-${member.slice(0, 6)}@example.com`,
        `c-${officer.slice(0, 6)}@example.com`,
      ],
    ),
  );
  return {
    tenantId,
    owner: { type: 'user', id: owner, role: 'owner' },
    member: { type: 'user', id: member, role: 'member' },
    officer: { type: 'user', id: officer, role: 'compliance' },
  };
}

const create = (tenantId: string, actor: PrivacyActor, input: NewPrivacyRequest, at = now) =>
  db.withTenant(tenantId, (tx) => createPrivacyRequest(tx, actor, input, { keyring, now: at }));
const statusOf = async (id: string) =>
  (
    await db.owner.pool.query<{ status: string }>(
      'SELECT status FROM privacy_requests WHERE id = $1',
      [id],
    )
  ).rows[0]?.status;

describe('requests', () => {
  test('a request starts pending, is due one calendar month later (Jan 31 -> Feb 28), and is audited and acknowledged', async () => {
    const t = await tenant();
    const { request, created } = await create(t.tenantId, t.member, {
      userId: t.member.id,
      type: 'export',
      format: 'csv',
    });
    expect(created).toBe(true);
    expect(request).toMatchObject({
      status: 'pending',
      format: 'csv',
      dueAt: new Date('2026-02-28T09:15:00Z'),
      originalDueAt: new Date('2026-02-28T09:15:00Z'),
    });
    const leap = await create(
      t.tenantId,
      t.member,
      { userId: t.member.id, type: 'deletion' },
      new Date('2028-01-31T23:00:00Z'),
    );
    expect(leap.request.dueAt.toISOString()).toBe('2028-02-29T23:00:00.000Z');
    const { rows } = await db.owner.pool.query(
      `SELECT action FROM audit_logs WHERE tenant_id = $1 AND action = 'privacy.request.created'`,
      [t.tenantId],
    );
    expect(rows).toHaveLength(2);
    const mail = await db.owner.pool.query(
      `SELECT template FROM email_outbox WHERE tenant_id = $1`,
      [t.tenantId],
    );
    expect(mail.rows.map((r: { template: string }) => r.template)).toEqual([
      'privacy_request_received',
      'privacy_request_received',
    ]);
  });

  test('a second open request of the same type returns the first, whatever its format; another type is separate', async () => {
    const t = await tenant();
    const first = await create(t.tenantId, t.member, {
      userId: t.member.id,
      type: 'export',
      format: 'json',
    });
    const again = await create(t.tenantId, t.member, {
      userId: t.member.id,
      type: 'export',
      format: 'pdf',
    });
    expect(again).toMatchObject({
      created: false,
      request: { id: first.request.id, format: 'json' },
    });
    const onBehalf = await create(t.tenantId, t.officer, {
      userId: t.member.id,
      type: 'export',
      format: 'csv',
    });
    expect(onBehalf.request.id).toBe(first.request.id);
    const deletion = await create(t.tenantId, t.member, { userId: t.member.id, type: 'deletion' });
    expect(deletion.request.id).not.toBe(first.request.id);
  });

  test('only compliance staff act for someone else; exports need a format; the last owner cannot be erased', async () => {
    const t = await tenant();
    await expect(
      create(t.tenantId, t.member, { userId: t.owner.id, type: 'export', format: 'json' }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(
      create(t.tenantId, t.owner, { userId: t.member.id, type: 'export', format: 'json' }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(
      create(t.tenantId, t.member, { userId: t.member.id, type: 'export' }),
    ).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(
      create(t.tenantId, t.owner, { userId: t.owner.id, type: 'deletion' }),
    ).rejects.toMatchObject({ code: 'last_owner' });
    await expect(
      create(t.tenantId, t.officer, { userId: randomUUID(), type: 'deletion' }),
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  test('a deadline extends by at most two months in total from the original date, each time with a reason', async () => {
    const t = await tenant();
    const { request } = await create(t.tenantId, t.member, {
      userId: t.member.id,
      type: 'export',
      format: 'json',
    });
    const extend = (months: number) =>
      db.withTenant(t.tenantId, (tx) =>
        extendPrivacyDeadline(
          tx,
          t.officer,
          { id: request.id, months, reason: 'complex request' },
          now,
        ),
      );
    expect((await extend(1)).dueAt.toISOString()).toBe('2026-03-28T09:15:00.000Z');
    await expect(extend(2)).rejects.toMatchObject({ code: 'invalid_input', field: 'months' });
    const last = await extend(1);
    expect(last).toMatchObject({
      dueAt: new Date('2026-04-28T09:15:00Z'),
      extendedMonths: 2,
      extensionReason: 'complex request\ncomplex request',
    });
    await expect(extend(1)).rejects.toMatchObject({ code: 'invalid_input' });
  });

  test('rejecting needs an open request, records the reason and tells the subject; a finished request cannot change', async () => {
    const t = await tenant();
    const { request } = await create(t.tenantId, t.member, {
      userId: t.member.id,
      type: 'deletion',
    });
    const rejected = await db.withTenant(t.tenantId, (tx) =>
      rejectPrivacyRequest(
        tx,
        t.officer,
        { id: request.id, reason: 'Identity could not be confirmed' },
        { keyring, now },
      ),
    );
    expect(rejected).toMatchObject({
      status: 'rejected',
      rejectionReason: 'Identity could not be confirmed',
      contactEmail: null,
    });
    await expect(
      db.withTenant(t.tenantId, (tx) =>
        extendPrivacyDeadline(tx, t.officer, { id: request.id, months: 1, reason: 'x' }, now),
      ),
    ).rejects.toMatchObject({ code: 'conflict' });
    const mail = await db.owner.pool.query(
      `SELECT template FROM email_outbox WHERE tenant_id = $1 ORDER BY created_at, template`,
      [t.tenantId],
    );
    expect(mail.rows.map((r: { template: string }) => r.template)).toContain(
      'privacy_request_rejected',
    );
    expect(
      (await create(t.tenantId, t.member, { userId: t.member.id, type: 'deletion' })).created,
    ).toBe(true);
  });

  test('a request that keeps failing is marked failed after the last attempt', async () => {
    const t = await tenant();
    const { request } = await create(t.tenantId, t.member, {
      userId: t.member.id,
      type: 'export',
      format: 'json',
    });
    for (let i = 0; i < MAX_PROCESSING_ATTEMPTS; i += 1)
      expect(
        (await db.withTenant(t.tenantId, (tx) => claimPrivacyRequest(tx, request.id, now))).status,
      ).toBe('claimed');
    expect(
      await db.withTenant(t.tenantId, (tx) => claimPrivacyRequest(tx, request.id, now)),
    ).toEqual({ status: 'failed' });
    expect(await statusOf(request.id)).toBe('failed');
  });
});

describe('legal holds', () => {
  test('a hold blocks erasure (new, pending and running), and releasing the last hold resumes it to completion', async () => {
    const t = await tenant();
    const { request } = await create(t.tenantId, t.member, {
      userId: t.member.id,
      type: 'deletion',
    });
    const hold = await db.withTenant(t.tenantId, (tx) =>
      placeLegalHold(tx, t.officer, { userId: t.member.id, reason: 'Litigation 2026-17' }, now),
    );
    expect(hold.blockedRequests).toBe(1);
    expect(await statusOf(request.id)).toBe('blocked');
    expect(
      await db.withTenant(t.tenantId, (tx) => claimPrivacyRequest(tx, request.id, now)),
    ).toEqual({ status: 'skipped', reason: 'blocked' });
    const second = await db.withTenant(t.tenantId, (tx) =>
      placeLegalHold(tx, t.officer, { userId: t.member.id, reason: 'Tax audit' }, now),
    );
    expect(
      await db.withTenant(t.tenantId, (tx) =>
        releaseLegalHold(tx, t.officer, { holdId: hold.holdId }, now),
      ),
    ).toEqual({ resumedRequests: 0 });
    expect(await statusOf(request.id)).toBe('blocked');
    expect(
      await db.withTenant(t.tenantId, (tx) =>
        releaseLegalHold(tx, t.officer, { holdId: second.holdId }, now),
      ),
    ).toEqual({ resumedRequests: 1 });
    expect(await statusOf(request.id)).toBe('pending');
    await expect(
      db.withTenant(t.tenantId, (tx) =>
        releaseLegalHold(tx, t.officer, { holdId: second.holdId }, now),
      ),
    ).rejects.toMatchObject({ code: 'conflict' });

    await db.withTenant(t.tenantId, (tx) => claimPrivacyRequest(tx, request.id, now));
    await db.withTenant(t.tenantId, (tx) =>
      placeLegalHold(tx, t.officer, { userId: t.member.id, reason: 'Late hold' }, now),
    );
    expect(await statusOf(request.id)).toBe('blocked'); // a running erasure re-checks under the subject's lock
    const { rows } = await db.owner.pool.query<{ id: string }>(
      'SELECT id FROM privacy_legal_holds WHERE user_id = $1 AND released_at IS NULL',
      [t.member.id],
    );
    await db.withTenant(t.tenantId, (tx) =>
      releaseLegalHold(tx, t.officer, { holdId: rows[0]?.id ?? '' }, now),
    );
    await db.withTenant(t.tenantId, (tx) => claimPrivacyRequest(tx, request.id, now));
    expect(
      await db.withTenant(t.tenantId, (tx) =>
        processDeletionRequest(tx, request.id, { keyring, now }),
      ),
    ).toBe('completed');
    const reasons = await db.owner.pool.query(
      'SELECT reason FROM privacy_legal_holds WHERE user_id = $1',
      [t.member.id],
    );
    expect(reasons.rows.every((r: { reason: string | null }) => r.reason === null)).toBe(true);
  });

  test('a request made while a hold stands starts blocked; exports are not held', async () => {
    const t = await tenant();
    await db.withTenant(t.tenantId, (tx) =>
      placeLegalHold(tx, t.officer, { userId: t.member.id, reason: 'Litigation' }, now),
    );
    expect(
      (await create(t.tenantId, t.member, { userId: t.member.id, type: 'deletion' })).request
        .status,
    ).toBe('blocked');
    expect(
      (await create(t.tenantId, t.member, { userId: t.member.id, type: 'export', format: 'json' }))
        .request.status,
    ).toBe('pending');
  });
});

describe('tenant isolation', () => {
  test("compliance staff of one tenant neither see nor act on another tenant's requests and holds", async () => {
    const a = await tenant();
    const b = await tenant();
    const { request } = await create(b.tenantId, b.member, {
      userId: b.member.id,
      type: 'deletion',
    });
    const hold = await db.withTenant(b.tenantId, (tx) =>
      placeLegalHold(tx, b.officer, { userId: b.member.id, reason: 'B only' }, now),
    );
    expect(
      (await db.withTenant(a.tenantId, (tx) => listPrivacyRequests(tx, a.officer, {}, now))).items,
    ).toEqual([]);
    await expect(
      db.withTenant(a.tenantId, (tx) =>
        rejectPrivacyRequest(tx, a.officer, { id: request.id, reason: 'x' }, { keyring, now }),
      ),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      db.withTenant(a.tenantId, (tx) =>
        extendPrivacyDeadline(tx, a.officer, { id: request.id, months: 1, reason: 'x' }, now),
      ),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      db.withTenant(a.tenantId, (tx) =>
        releaseLegalHold(tx, a.officer, { holdId: hold.holdId }, now),
      ),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      db.withTenant(a.tenantId, (tx) =>
        placeLegalHold(tx, a.officer, { userId: b.member.id, reason: 'x' }, now),
      ),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      create(a.tenantId, a.officer, { userId: b.member.id, type: 'export', format: 'json' }),
    ).rejects.toMatchObject({ code: 'not_found' });
    expect(
      await db.withTenant(a.tenantId, (tx) => claimPrivacyRequest(tx, request.id, now)),
    ).toEqual({ status: 'skipped', reason: 'not_found' });
    const listed = await db.withTenant(b.tenantId, (tx) =>
      listPrivacyRequests(tx, b.officer, { status: 'blocked' }, now),
    );
    expect(listed.items.map((i) => i.id)).toEqual([request.id]);
  });
});
