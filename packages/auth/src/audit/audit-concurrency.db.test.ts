import { useTestDatabase } from '@tessera/db/testing';
import { expect, test, vi } from 'vitest';
import { recordAuditEvent, type AuditEventInput } from './record-audit-event.js';
import { verifyAuditChain } from './verify-audit-chain.js';

const db = useTestDatabase({ poolSize: 10 });
const event = (metadata: Record<string, unknown>): AuditEventInput => ({
  actor: { type: 'system', id: null },
  action: 'user.role.changed',
  metadata,
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  for (const start = Date.now(); !(await condition());) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('8 concurrent writers x 500 events into one tenant produce a gapless, valid chain, rollbacks included', async () => {
  const tenant = await db.seedTenant();
  // Each writer commits its 500 events in transactions of 10 (interleaving with the other writers
  // on every commit) and also rolls back one transaction in ten: rolled-back events leave no gap.
  await Promise.all(
    Array.from({ length: 8 }, async (_, writer) => {
      for (let batch = 0; batch < 50; batch += 1) {
        await db.withTenant(tenant.id, async (tx) => {
          for (let i = 0; i < 10; i += 1) await recordAuditEvent(tx, event({ writer, batch, i }));
        });
        if (batch % 10 === 3) {
          await db
            .withTenant(tenant.id, async (tx) => {
              await recordAuditEvent(tx, event({ writer, batch, rolledBack: true }));
              throw new Error('roll back');
            })
            .catch(() => undefined);
        }
      }
    }),
  );
  const { rows } = await db.owner.pool.query(
    'SELECT count(*)::int AS n, min(seq)::int AS lo, max(seq)::int AS hi FROM audit_logs WHERE tenant_id = $1',
    [tenant.id],
  );
  expect(rows[0]).toEqual({ n: 4000, lo: 1, hi: 4000 });
  // An odd batch size makes the keyset pagination cross batch boundaries mid-chain.
  expect(await db.withTenant(tenant.id, (tx) => verifyAuditChain(tx, { batchSize: 701 }))).toEqual({
    valid: true,
    checked: 4000,
  });
}, 90_000); // about 5 s on an idle 2-core machine; the margin is for a loaded CI host

test("a writer holding one tenant's chain head blocks that tenant's writers only", async () => {
  const a = await db.seedTenant();
  const b = await db.seedTenant();
  let release = (): void => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let signalLocked = (): void => undefined;
  const locked = new Promise<void>((resolve) => (signalLocked = resolve));
  const slow = db.withTenant(a.id, async (tx) => {
    await recordAuditEvent(tx, event({ slow: true }));
    signalLocked();
    await held;
  });
  await locked;
  expect(
    (await db.withTenant(b.id, (tx) => recordAuditEvent(tx, event({ other: true })))).seq,
  ).toBe(1);
  const queued = db.withTenant(a.id, (tx) => recordAuditEvent(tx, event({ queued: true })));
  await waitUntil(async () => {
    const { rows } = await db.owner.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return rows[0]?.n === 1;
  });
  release();
  await slow;
  expect((await queued).seq).toBe(2);
});

test('an event committed while the chain is being verified does not read as a cut tail', async () => {
  const tenant = await db.seedTenant();
  for (let i = 0; i < 3; i += 1)
    await db.withTenant(tenant.id, (tx) => recordAuditEvent(tx, event({ i })));
  const result = await db.withTenant(tenant.id, async (tx) => {
    const query = tx.client.query.bind(tx.client) as (...args: unknown[]) => Promise<unknown>;
    let committed = false;
    // Right after the rows are read, another request (audit.list records a read) commits an event.
    const racing = async (...args: unknown[]): Promise<unknown> => {
      const answer = await query(...args);
      if (!committed && JSON.stringify(args[0]).includes('tessera_audit_read_chain')) {
        committed = true;
        await db.withTenant(tenant.id, (other) => recordAuditEvent(other, event({ late: true })));
      }
      return answer;
    };
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the spy is typed by query's callback overload; pg returns this promise
    const spy = vi.spyOn(tx.client, 'query').mockImplementation(racing);
    try {
      return await verifyAuditChain(tx);
    } finally {
      spy.mockRestore();
    }
  });
  expect(result).toEqual({ valid: true, checked: 3 });
  expect(await db.withTenant(tenant.id, (tx) => verifyAuditChain(tx))).toEqual({
    valid: true,
    checked: 4,
  });
});
