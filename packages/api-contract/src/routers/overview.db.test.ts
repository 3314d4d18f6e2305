import { generateKeyPairSync } from 'node:crypto';
import { useTestDatabase } from '@tessera/db/testing';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Principal, Role } from '../context.js';
import { createTestContext, seedOverviewTenant, type OverviewSeed } from '../testing/index.js';
import { createCallerFactory, router } from '../trpc.js';
import { overviewRouter } from './overview.js';

const db = useTestDatabase();
const callerOf = createCallerFactory(router({ overview: overviewRouter }));
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519').publicKey;
const NOW = new Date('2026-06-15T12:00:00.000Z');
const at = (ms: number): string => new Date(NOW.getTime() + ms).toISOString();
const DAY = 86_400_000;

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
    expiresAt: new Date(NOW.getTime() + 3_600_000),
  };
}
const as = (principal: Principal, key: typeof publicKey | null = publicKey) =>
  callerOf({
    ...createTestContext(db.app, { principal, now: () => NOW }),
    ...(key ? { auditPublicKey: key } : {}),
  }).overview;

let tenantId: string;
let seed: OverviewSeed;
beforeAll(async () => {
  tenantId = (await db.seedTenant()).id;
  seed = await seedOverviewTenant(db, tenantId, NOW, privateKey);
});

describe('the overview of a seeded tenant', () => {
  test('members: with and without a second factor, by factor and by role; disabled apart', async () => {
    expect(await as(session(tenantId, 'admin')).members()).toEqual({
      members: 6,
      withSecondFactor: 3,
      withoutSecondFactor: 3,
      factors: { totp: 2, passkey: 2, sms: 1 },
      smsOnly: 1,
      disabled: 1,
      byRole: [
        { role: 'owner', members: 0, withSecondFactor: 0 },
        { role: 'admin', members: 1, withSecondFactor: 1 },
        { role: 'compliance', members: 1, withSecondFactor: 0 },
        { role: 'member', members: 4, withSecondFactor: 2 },
      ],
    });
  });

  test('sign-ins: 30 UTC days, zero-filled, events outside the window left out', async () => {
    const activity = await as(session(tenantId, 'owner')).signIns();
    expect(activity.from).toBe('2026-05-17');
    expect(activity.through).toBe('2026-06-15');
    expect(activity.days).toHaveLength(30);
    const busy = activity.days.filter(
      (d) => d.succeeded + d.failed + d.lockedOut + d.refused + d.mfaFailed > 0,
    );
    expect(busy).toEqual([
      { day: '2026-05-17', succeeded: 1, failed: 0, lockedOut: 0, refused: 0, mfaFailed: 0 },
      { day: '2026-06-12', succeeded: 5, failed: 4, lockedOut: 0, refused: 0, mfaFailed: 2 },
      { day: '2026-06-15', succeeded: 3, failed: 2, lockedOut: 1, refused: 1, mfaFailed: 1 },
    ]);
    expect(activity.totals).toEqual({
      succeeded: 9,
      failed: 6,
      lockedOut: 1,
      refused: 1,
      mfaFailed: 3,
    });
  });

  test('the daily rollup the sign-in figures read holds exactly the counts of the log', async () => {
    const count = (sql: string) =>
      db.owner.pool.query<{ action: string; day: string; n: number }>(sql, [tenantId]);
    const fromLog = await count(
      `SELECT action, to_char((occurred_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day, count(*)::int AS n
       FROM audit_logs WHERE tenant_id = $1 AND action IN ('auth.sign_in.succeeded', 'auth.sign_in.failed',
         'auth.sign_in.refused', 'auth.account.locked', 'auth.mfa.failed', 'mfa.verification.failed')
       GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    const rollup = await count(
      `SELECT action, to_char(day, 'YYYY-MM-DD') AS day, events AS n FROM audit_daily_counts
       WHERE tenant_id = $1 ORDER BY 1, 2`,
    );
    expect(rollup.rows).toEqual(fromLog.rows);
    expect(rollup.rows.length).toBeGreaterThan(5);
  });

  test('API keys: audited calls and every refusal (events, their summaries, the open tally)', async () => {
    const usage = await as(session(tenantId, 'compliance')).apiKeys();
    expect(usage.since).toBe(at(-30 * DAY));
    expect(usage.keys.map((k) => [k.id, k.name, k.calls, k.refusals, k.revokedAt])).toEqual([
      [seed.keys.busy, 'Billing sync', 4, 1 + 2 + 3 + 4, null],
      [seed.keys.idle, 'Website widget', 0, 0, null],
    ]);
    expect(usage.keys[1]).toMatchObject({
      type: 'publishable',
      environment: 'test',
      lastUsedAt: null,
    });
  });

  test('privacy requests by state, with overdue, due within 7 days and the next deadline', async () => {
    const privacy = await as(session(tenantId, 'compliance')).privacyRequests();
    expect(privacy.byStatus).toEqual([
      { status: 'pending', count: 2, overdue: 1, dueSoon: 1, nextDueAt: at(3 * DAY) },
      { status: 'processing', count: 1, overdue: 0, dueSoon: 0, nextDueAt: at(20 * DAY) },
      { status: 'blocked', count: 1, overdue: 0, dueSoon: 1, nextDueAt: at(5 * DAY) },
      { status: 'completed', count: 1, overdue: 0, dueSoon: 0, nextDueAt: null },
      { status: 'failed', count: 0, overdue: 0, dueSoon: 0, nextDueAt: null },
      { status: 'rejected', count: 1, overdue: 0, dueSoon: 0, nextDueAt: null },
    ]);
    expect(privacy.upcoming.map((r) => [r.type, r.status, r.dueAt])).toEqual([
      ['deletion', 'pending', at(-DAY)],
      ['export', 'pending', at(3 * DAY)],
      ['deletion', 'blocked', at(5 * DAY)],
      ['export', 'processing', at(20 * DAY)],
    ]);
  });

  test('audit chain: head, checkpoint age, events waiting for the next checkpoint', async () => {
    expect(seed.events).toBe(43);
    expect(await as(session(tenantId, 'owner')).auditChain()).toEqual({
      status: 'pending',
      headSeq: 43,
      checkpoint: {
        seq: 40,
        kind: 'head',
        signedAt: at(-600_000),
        ageSeconds: 600,
        matchesChain: true,
        signatureValid: true,
      },
      unanchoredEvents: 2,
      oldestUnanchoredAt: at(-120_000),
    });
    expect((await as(session(tenantId, 'owner'), null).auditChain()).checkpoint).toMatchObject({
      signatureValid: null,
    });
  });

  test('a checkpoint that the configured key did not sign makes the status broken', async () => {
    const chain = await as(session(tenantId, 'owner'), other).auditChain();
    expect(chain.status).toBe('broken');
    expect(chain.checkpoint).toMatchObject({ matchesChain: true, signatureValid: false });
  });
});

describe('who may read the overview', () => {
  test('members are refused every figure', async () => {
    const member = as(session(tenantId, 'member'));
    for (const call of [
      member.members,
      member.signIns,
      member.apiKeys,
      member.privacyRequests,
      member.auditChain,
    ])
      await expect(call()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  test('API keys are refused, whatever their scopes', async () => {
    const key: Principal = {
      kind: 'api_key',
      tenantId,
      keyId: 'k-1',
      keyType: 'secret',
      scopes: ['users:read', 'audit:read', 'privacy:read', 'api_keys:read'],
    };
    await expect(as(key).members()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(as(key).signIns()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  test("another tenant's staff see only their own (empty) tenant: RLS, not the procedure", async () => {
    const b = as(session((await db.seedTenant()).id, 'owner'));
    expect(await b.members()).toMatchObject({ members: 0, withSecondFactor: 0, disabled: 0 });
    expect((await b.signIns()).totals).toEqual({
      succeeded: 0,
      failed: 0,
      lockedOut: 0,
      refused: 0,
      mfaFailed: 0,
    });
    expect((await b.apiKeys()).keys).toEqual([]);
    expect((await b.privacyRequests()).byStatus.every((s) => s.count === 0)).toBe(true);
    expect((await b.privacyRequests()).upcoming).toEqual([]);
    expect(await b.auditChain()).toEqual({
      status: 'empty',
      headSeq: 0,
      checkpoint: null,
      unanchoredEvents: 0,
      oldestUnanchoredAt: null,
    });
  });
});
