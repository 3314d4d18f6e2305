import { generateKeyPairSync } from 'node:crypto';
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { auditUnanchoredAgeSeconds, signAuditCheckpoint } from './checkpoints.js';
import { recordAuditEvent } from './record-audit-event.js';

const db = useTestDatabase();
const { privateKey: signingKey } = generateKeyPairSync('ed25519');
const actor = { type: 'user', id: 'admin-1' } as const;
// The gauge reads the database clock: events are recorded in the past instead of moving "now".
const ago = (seconds: number): Date => new Date(Date.now() - seconds * 1000);

async function record(tenantId: string, occurredAt: Date): Promise<void> {
  await db.withTenant(tenantId, (tx) =>
    recordAuditEvent(tx, { actor, action: 'user.role.changed', occurredAt }),
  );
}

/** The gauge, which must read `seconds` give or take the time the test itself takes. */
async function expectAge(seconds: number): Promise<void> {
  const age = await auditUnanchoredAgeSeconds(db.app);
  expect(age).toBeGreaterThanOrEqual(seconds);
  expect(age).toBeLessThan(seconds + 10);
}

test('the gauge is the age of the oldest event no checkpoint covers, across tenants; 0 once anchored', async () => {
  expect(await auditUnanchoredAgeSeconds(db.app)).toBe(0); // no events anywhere

  const a = (await db.seedTenant()).id;
  const b = (await db.seedTenant()).id;
  await record(a, ago(300));
  await record(a, ago(250));
  await record(b, ago(270));
  await expectAge(300); // tenant a's first event

  await db.withTenant(a, (tx) => signAuditCheckpoint(tx, { signingKey }));
  // a is anchored (its checkpoint's own audit record counts as anchored); b still waits.
  await expectAge(270);

  await db.withTenant(b, (tx) => signAuditCheckpoint(tx, { signingKey }));
  expect(await auditUnanchoredAgeSeconds(db.app)).toBe(0);

  await record(a, ago(60));
  await expectAge(60);
});
