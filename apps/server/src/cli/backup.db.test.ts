// Backup and restore keep what an operator cannot afford to lose: tenants, users,
// sessions, MFA secrets that still decrypt under the same DATA_ENCRYPTION_KEYS, and audit chains
// that still verify. Runs the CLI's own file path (0600, atomic rename) against real PostgreSQL.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  callerFor,
  createCaller,
  createTestContext,
  principalFromToken,
  signUpOwner,
  STRONG_PASSWORD,
  type SeededOwner,
} from '@tessera/api-contract/testing';
import { verifyAuditChain } from '@tessera/auth/audit';
import { totpCodeAt } from '@tessera/auth/mfa';
import { createDatabase, withTenant, type Database } from '@tessera/db';
import { clusterUrl, useTestDatabase } from '@tessera/db/testing';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { backupToFile } from './backup.js';
import { restoreFromStream } from './restore.js';

const db = useTestDatabase();
const T0 = new Date(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);
const target = `restored_${randomBytes(5).toString('hex')}`;
let dir: string;
let restored: Database;

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: clusterUrl(db.info, 'postgres', 'owner') });
  await client.connect();
  await client.query(statement).finally(() => client.end());
}

async function enrolledOwner(): Promise<SeededOwner & { secret: string }> {
  const owner = await signUpOwner(db.app, { now: () => T0 });
  const { secret } = await (
    await callerFor(db.app, owner.token, { services: owner.services, now: () => T0 })
  ).mfa.beginEnrollment();
  const ctx = createTestContext(db.app, {
    services: owner.services,
    now: () => T0,
    principal: await principalFromToken(db.app, owner.token),
  });
  await createCaller(ctx).mfa.confirmEnrollment({ code: totpCodeAt(secret, T0) });
  return { ...owner, token: ctx.cookies.token ?? '', secret };
}

async function rows(database: Database, text: string): Promise<unknown[]> {
  return (await database.pool.query(text)).rows;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-backup-'));
  await admin(`CREATE DATABASE ${target}`); // a generated name ([a-z0-9_] only): names cannot be bind parameters
});

afterAll(async () => {
  await restored?.close();
  await admin(`DROP DATABASE IF EXISTS ${target} WITH (FORCE)`);
  await rm(dir, { recursive: true, force: true });
});

test('a backup restored into a fresh database keeps tenants, users, sessions, MFA and verifiable audit chains', async () => {
  const owner = await enrolledOwner();
  const other = await signUpOwner(db.app, { now: () => T0 });
  const file = path.join(dir, 'tessera.backup');
  const summary = await backupToFile(db.ownerUrl, file);
  expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
  expect(summary.tables.find((t) => t.name === 'public.mfa_totp')?.rows).toBeGreaterThan(0);

  const log: string[] = [];
  const result = await restoreFromStream(createReadStream(file), {
    ownerUrl: clusterUrl(db.info, target, 'owner'),
    appUrl: clusterUrl(db.info, target, 'runtime'),
    keyring: owner.services.accounts.keyring, // replay: the CLI's default (replayErasureLedger)
    log: (line) => log.push(line),
  });
  expect(result.erasureLedger).toEqual({ replayed: 0 });
  expect(log.join('\n')).toMatch(/erasure ledger: 0 entries replayed/);
  restored = createDatabase(clusterUrl(db.info, target, 'runtime'), { max: 4 });

  const owned = createDatabase(clusterUrl(db.info, target, 'owner'), { max: 1 });
  try {
    for (const query of [
      'SELECT id, slug, name, security_policy FROM tenants ORDER BY id',
      'SELECT id, tenant_id, email, password_hash, role FROM users ORDER BY id',
      'SELECT * FROM mfa_totp ORDER BY user_id',
    ]) {
      expect(await rows(owned, query), query).toEqual(await rows(db.owner, query));
    }
  } finally {
    await owned.close();
  }

  // Sessions issued before the backup still resolve; the TOTP secret decrypts with the same keyring.
  expect(await principalFromToken(restored, owner.token)).toMatchObject({
    aal: 1,
    mfaEnabled: true,
  }); // enrolled in a password session: a factor, no MFA time
  const ctx = createTestContext(restored, { services: owner.services, now: () => at(60) });
  const step = await createCaller(ctx).auth.signIn({
    tenantSlug: owner.tenant.slug,
    email: owner.user.email,
    password: STRONG_PASSWORD,
  });
  expect(step.status).toBe('mfa_required');
  const signedIn = await createCaller(ctx).auth.verifyMfa({
    challengeToken: step.status === 'mfa_required' ? step.challengeToken : '',
    code: totpCodeAt(owner.secret, at(60)),
  });
  expect(signedIn).toMatchObject({ status: 'signed_in', user: { mfaEnabled: true } });

  for (const tenant of [owner.tenant, other.tenant]) {
    const before = await withTenant(db.app, tenant.id, (tx) => verifyAuditChain(tx));
    const after = await withTenant(restored, tenant.id, (tx) => verifyAuditChain(tx));
    expect(before.valid).toBe(true);
    expect(after.valid).toBe(true);
    expect(after.checked).toBeGreaterThanOrEqual(before.checked); // the sign-in above appended to one chain
  }
});

test('an existing backup file is never overwritten', async () => {
  const file = path.join(dir, 'exists.backup');
  await backupToFile(db.ownerUrl, file);
  await expect(backupToFile(db.ownerUrl, file)).rejects.toThrow(/exists/);
});
