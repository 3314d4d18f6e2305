// The erasure job handler and the pg-boss registration on real Postgres: a legal hold blocks the
// job and its release resumes it through the queue, a run killed halfway erases once on rerun,
// and the queue (schema installed by the migrator, used by the runtime role) runs both job kinds
// end to end, exactly once, with two worker sets sharing it.
import { randomUUID } from 'node:crypto';
import { generateKeyringSpec, parseKeyring } from '@tessera/auth';
import { verifyAuditChain } from '@tessera/auth/audit';
import {
  createPrivacyRequest,
  placeLegalHold,
  releaseLegalHold,
  type PrivacyActor,
} from '@tessera/auth/privacy';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import { handleDeletionJob, type GdprDeletionDeps } from './gdpr-deletion.js';
import { startPrivacyWorkers } from './register-workers.js';

const db = useTestDatabase({ poolSize: 20 });
const keyring = parseKeyring(generateKeyringSpec());
const deps = (): GdprDeletionDeps => ({
  database: db.app,
  keyring,
  consoleUrl: 'http://localhost:3000',
});
const quiet = { info: () => undefined, warn: () => undefined };

async function subject(): Promise<{ tenantId: string; userId: string; officer: PrivacyActor }> {
  const { id: tenantId } = await db.seedTenant();
  const [userId, ownerId, officerId] = [randomUUID(), randomUUID(), randomUUID()];
  await db.withTenant(tenantId, (tx) =>
    tx.client.query(
      `INSERT INTO users (id, tenant_id, email, role, display_name) VALUES
    ($1, $4, 'erin@example.com', 'member', 'Erin Erased'), ($2, $4, 'owner@example.com', 'owner', NULL), ($3, $4, 'dpo@example.com', 'compliance', NULL)`,
      [userId, ownerId, officerId, tenantId],
    ),
  );
  return { tenantId, userId, officer: { type: 'user', id: officerId, role: 'compliance' } };
}

const request = (tenantId: string, userId: string, type: 'export' | 'deletion') =>
  db.withTenant(
    tenantId,
    async (tx) =>
      (
        await createPrivacyRequest(
          tx,
          { type: 'user', id: userId },
          { userId, type, ...(type === 'export' ? { format: 'json' as const } : {}) },
          { keyring, now: new Date() },
        )
      ).request.id,
  );
const statusOf = async (id: string): Promise<string | undefined> =>
  (
    await db.owner.pool.query<{ status: string }>(
      'SELECT status FROM privacy_requests WHERE id = $1',
      [id],
    )
  ).rows[0]?.status;

async function eventually(check: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('handleDeletionJob', () => {
  test('erases the subject and the audit chain still verifies; a second run changes nothing', async () => {
    const s = await subject();
    const id = await request(s.tenantId, s.userId, 'deletion');
    expect(
      await handleDeletionJob({ data: { tenantId: s.tenantId, requestId: id } }, deps()),
    ).toEqual({ status: 'completed' });
    expect(
      await handleDeletionJob({ data: { tenantId: s.tenantId, requestId: id } }, deps()),
    ).toEqual({ status: 'skipped', reason: 'completed' });
    const users = await db.owner.pool.query('SELECT id FROM users WHERE id = $1', [s.userId]);
    expect(users.rows).toEqual([]);
    expect(await db.withTenant(s.tenantId, (tx) => verifyAuditChain(tx))).toMatchObject({
      valid: true,
    });
  });

  test('killed halfway, the rerun erases once', async () => {
    const s = await subject();
    const id = await request(s.tenantId, s.userId, 'deletion');
    const crash = {
      ...deps(),
      afterStep: (source: string) => {
        if (source === 'email_outbox') throw new Error('simulated crash');
      },
    };
    await expect(
      handleDeletionJob({ data: { tenantId: s.tenantId, requestId: id } }, crash),
    ).rejects.toThrow('simulated crash');
    expect(await statusOf(id)).toBe('processing');
    expect(
      (await db.owner.pool.query('SELECT display_name FROM users WHERE id = $1', [s.userId])).rows,
    ).toEqual([{ display_name: 'Erin Erased' }]);
    expect(
      await handleDeletionJob({ data: { tenantId: s.tenantId, requestId: id } }, deps()),
    ).toEqual({ status: 'completed' });
    const { rows } = await db.owner.pool.query(
      `SELECT (SELECT count(*)::int FROM privacy_erasure_ledger WHERE request_id = $1) AS ledger,
      (SELECT count(*)::int FROM email_outbox WHERE template = 'privacy_erasure_completed' AND to_address = 'erin@example.com' AND tenant_id = $2) AS mails`,
      [id, s.tenantId],
    );
    expect(rows[0]).toEqual({ ledger: 1, mails: 1 });
  });
});

describe('startPrivacyWorkers (pg-boss)', () => {
  test('runs exports and erasures once each, blocks on a legal hold and resumes on release', async () => {
    const options = {
      database: db.app,
      keyring,
      consoleUrl: 'http://localhost:3000',
      logger: quiet,
      pollingIntervalSeconds: 0.5,
      dispatchIntervalMs: 500,
    };
    const workers = [await startPrivacyWorkers(options), await startPrivacyWorkers(options)];
    try {
      const s = await subject();
      const exportId = await request(s.tenantId, s.userId, 'export');
      await eventually(async () => (await statusOf(exportId)) === 'completed');
      const { holdId } = await db.withTenant(s.tenantId, (tx) =>
        placeLegalHold(tx, s.officer, { userId: s.userId, reason: 'Litigation' }, new Date()),
      );
      const deletionId = await request(s.tenantId, s.userId, 'deletion');
      expect(await statusOf(deletionId)).toBe('blocked');
      expect(await Promise.all(workers.map((w) => w.dispatch()))).toEqual([0, 0]);
      await db.withTenant(s.tenantId, (tx) =>
        releaseLegalHold(tx, s.officer, { holdId }, new Date()),
      );
      await eventually(async () => (await statusOf(deletionId)) === 'completed');
      const { rows } = await db.owner.pool.query(
        `SELECT action, count(*)::int AS n FROM audit_logs WHERE tenant_id = $1
        AND action IN ('privacy.export.completed', 'privacy.erasure.completed') GROUP BY action ORDER BY action`,
        [s.tenantId],
      );
      expect(rows).toEqual([
        { action: 'privacy.erasure.completed', n: 1 },
        { action: 'privacy.export.completed', n: 1 },
      ]);
      const jobs = await db.owner.pool.query(
        `SELECT count(*)::int AS n FROM tessera_jobs.job WHERE name IN ('gdpr-export', 'gdpr-deletion') AND state = 'failed'`,
      );
      expect(jobs.rows[0]).toEqual({ n: 0 });
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });
});
