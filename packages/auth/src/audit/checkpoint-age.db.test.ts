import { generateKeyPairSync } from 'node:crypto';
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { auditUnanchoredAgeSeconds, signAuditCheckpoint } from './checkpoints.js';
import { recordAuditEvent } from './record-audit-event.js';

const db = useTestDatabase();
const { privateKey: signingKey } = generateKeyPairSync('ed25519');
const actor = { type: 'user', id: 'admin-1' } as const;
const T0 = new Date('2026-11-30T10:00:00Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

async function record(tenantId: string, occurredAt: Date): Promise<void> {
  await db.withTenant(tenantId, (tx) => recordAuditEvent(tx, { actor, action: 'user.role.changed', occurredAt }));
}

test('the gauge is the age of the oldest event no checkpoint covers, across tenants; 0 once anchored', async () => {
  expect(await auditUnanchoredAgeSeconds(db.app, at(0))).toBe(0); // no events anywhere

  const a = (await db.seedTenant()).id;
  const b = (await db.seedTenant()).id;
  await record(a, at(0));
  await record(a, at(50));
  await record(b, at(30));
  expect(await auditUnanchoredAgeSeconds(db.app, at(100))).toBe(100); // tenant a's first event

  await db.withTenant(a, (tx) => signAuditCheckpoint(tx, { signingKey, now: at(100) }));
  // a is anchored (its checkpoint's own audit record counts as anchored); b still waits since 30 s.
  expect(await auditUnanchoredAgeSeconds(db.app, at(110))).toBe(80);

  await db.withTenant(b, (tx) => signAuditCheckpoint(tx, { signingKey, now: at(110) }));
  expect(await auditUnanchoredAgeSeconds(db.app, at(120))).toBe(0);

  await record(a, at(200));
  expect(await auditUnanchoredAgeSeconds(db.app, at(260))).toBe(60);
});
