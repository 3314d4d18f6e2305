/**
 * A tenant whose security-overview figures are known in advance, for the procedure tests and the
 * console's browser test. Rows are written as the services would leave them: audit events through
 * the real writer (so the chain verifies), factor, key, tally and privacy rows as plain inserts
 * under the tenant's RLS context. Every date is relative to `now`, so the figures hold on any day.
 */
import { randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { recordAuditEvent, signAuditCheckpoint, type AuditActor } from '@tessera/auth/audit';
import type { TenantTx } from '@tessera/db';

const DAY = 86_400_000;

export interface OverviewSeed {
  users: Record<'admin' | 'both' | 'passkey' | 'sms' | 'none' | 'disabled' | 'officer', string>;
  keys: { busy: string; idle: string; oldRevoked: string };
  /** Events the seed wrote into the chain (the head seq when the tenant had none before). */
  events: number;
  checkpointSeq: number;
}

const system: AuditActor = { type: 'system', id: null };

async function addUser(
  tx: TenantTx,
  role: string,
  label: string,
  disabled = false,
): Promise<string> {
  const id = randomUUID();
  await tx.client.query(
    `INSERT INTO public.users (id, tenant_id, email, display_name, role, disabled_at)
     VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END)`,
    [id, tx.tenantId, `${label}@overview.example`, `${label} person`, role, disabled],
  );
  return id;
}

async function addFactors(tx: TenantTx, userId: string, factors: readonly string[]): Promise<void> {
  if (factors.includes('totp'))
    await tx.client.query(
      `INSERT INTO public.mfa_totp (tenant_id, user_id, secret_ciphertext, enabled_at) VALUES ($1, $2, 'x', now())`,
      [tx.tenantId, userId],
    );
  for (const n of factors.includes('passkey') ? [1, 2] : [])
    await tx.client.query(
      `INSERT INTO public.webauthn_credentials (tenant_id, user_id, credential_id, public_key, device_type, name)
       VALUES ($1, $2, $3, '\\x00', 'multiDevice', $4)`,
      [tx.tenantId, userId, randomBytes(16).toString('base64url'), `key ${n}`],
    );
  if (factors.includes('sms'))
    await tx.client.query(
      `INSERT INTO public.mfa_phone_numbers (tenant_id, user_id, phone_ciphertext, phone_hint, verified_at)
       VALUES ($1, $2, 'x', '42', now())`,
      [tx.tenantId, userId],
    );
}

async function addKey(
  tx: TenantTx,
  name: string,
  kind: 'sk_live' | 'pk_test',
  revokedAt: Date | null,
): Promise<string> {
  const id = randomUUID();
  await tx.client.query(
    `INSERT INTO public.api_keys (id, tenant_id, name, type, environment, prefix, key_hash, pepper_version, revoked_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'v1', $8)`,
    // prettier-ignore
    [id, tx.tenantId, name, kind === 'sk_live' ? 'secret' : 'publishable', kind === 'sk_live' ? 'live' : 'test', `${kind}_${randomBytes(2).toString('hex')}`, randomBytes(32), revokedAt],
  );
  return id;
}

async function addRequest(
  tx: TenantTx,
  userId: string,
  type: 'export' | 'deletion',
  status: string,
  dueAt: Date,
): Promise<void> {
  await tx.client.query(
    `INSERT INTO public.privacy_requests (tenant_id, user_id, type, format, status, requested_by_type, requested_by,
       requested_at, original_due_at, due_at)
     VALUES ($1, $2, $3, $4, $5, 'user', $2, $6::timestamptz - interval '1 month', $6, $6)`,
    [tx.tenantId, userId, type, type === 'export' ? 'json' : null, status, dueAt],
  );
}

/** Counts of events per action, written on `at`. */
async function events(tx: TenantTx, at: Date, counts: Record<string, number>): Promise<number> {
  let written = 0;
  for (const [action, n] of Object.entries(counts))
    for (let i = 0; i < n; i += 1) {
      await recordAuditEvent(tx, { actor: system, action, occurredAt: at });
      written += 1;
    }
  return written;
}

/**
 * Seeds the tenant (which should hold no factors, keys, requests or audit events yet). The
 * figures it produces, with `now` as the procedures' clock, are listed in overview.db.test.ts.
 */
export async function seedOverviewTenant(
  db: { withTenant<T>(tenantId: string, fn: (tx: TenantTx) => Promise<T>): Promise<T> },
  tenantId: string,
  now: Date,
  signingKey: KeyObject,
): Promise<OverviewSeed> {
  return db.withTenant(tenantId, async (tx) => {
    const users = {
      admin: await addUser(tx, 'admin', 'ada'),
      both: await addUser(tx, 'member', 'bea'),
      passkey: await addUser(tx, 'member', 'cy'),
      sms: await addUser(tx, 'member', 'dee'),
      none: await addUser(tx, 'member', 'eve'),
      disabled: await addUser(tx, 'member', 'fay', true),
      officer: await addUser(tx, 'compliance', 'gus'),
    };
    await addFactors(tx, users.admin, ['totp']);
    await addFactors(tx, users.both, ['totp', 'passkey']);
    await addFactors(tx, users.passkey, ['passkey']);
    await addFactors(tx, users.sms, ['sms']);
    await addFactors(tx, users.disabled, ['totp']);

    const keys = {
      busy: await addKey(tx, 'Billing sync', 'sk_live', null),
      idle: await addKey(tx, 'Website widget', 'pk_test', null),
      oldRevoked: await addKey(tx, 'Old import', 'sk_live', new Date(now.getTime() - 40 * DAY)),
    };
    await tx.client.query(
      `INSERT INTO public.api_key_refusal_tallies (tenant_id, api_key_id, reason, last_event_at, suppressed)
       VALUES ($1, $2, 'rate_limited', $3, 4)`,
      [tenantId, keys.busy, now],
    );

    await addRequest(tx, users.none, 'export', 'pending', new Date(now.getTime() + 3 * DAY));
    await addRequest(tx, users.officer, 'deletion', 'pending', new Date(now.getTime() - DAY));
    await addRequest(tx, users.passkey, 'export', 'processing', new Date(now.getTime() + 20 * DAY));
    await addRequest(tx, users.sms, 'deletion', 'blocked', new Date(now.getTime() + 5 * DAY));
    await addRequest(tx, users.none, 'export', 'completed', new Date(now.getTime() - 10 * DAY));
    await addRequest(tx, users.passkey, 'deletion', 'rejected', new Date(now.getTime() - 2 * DAY));

    const ago = (days: number, minutes = 0): Date =>
      new Date(now.getTime() - days * DAY - minutes * 60_000);
    let written = 0;
    written += await events(tx, ago(30, 60), {
      'auth.sign_in.succeeded': 7,
      'auth.sign_in.failed': 7,
    });
    written += await events(tx, ago(29), { 'auth.sign_in.succeeded': 1 });
    written += await events(tx, ago(3), {
      'auth.sign_in.succeeded': 5,
      'auth.sign_in.failed': 4,
      'mfa.verification.failed': 2,
    });
    written += await events(tx, ago(0, 1), {
      'auth.sign_in.succeeded': 3,
      'auth.sign_in.failed': 2,
      'auth.account.locked': 1,
    });
    const busy: AuditActor = { type: 'api_key', id: keys.busy };
    const keyEvent = async (at: Date, action: string, metadata: Record<string, unknown> = {}) => {
      await recordAuditEvent(tx, {
        actor: busy,
        action,
        occurredAt: at,
        target: {
          type: action === 'api_key.refused' ? 'api_key' : 'user',
          id: action === 'api_key.refused' ? keys.busy : users.none,
        },
        metadata,
      });
      written += 1;
    };
    for (const days of [1, 2, 2, 10]) await keyEvent(ago(days), 'user.role.changed');
    await keyEvent(ago(31), 'user.role.changed');
    await keyEvent(ago(2), 'api_key.refused', { reason: 'revoked', refusalsSinceLastEvent: 2 });
    await keyEvent(ago(1), 'api_key.refused', {
      reason: 'revoked',
      refusalsSinceLastEvent: 3,
      summaryOnly: true,
    });
    await keyEvent(ago(45), 'api_key.refused', { reason: 'revoked', refusalsSinceLastEvent: 100 });

    const checkpoint = await signAuditCheckpoint(tx, {
      signingKey,
      now: new Date(now.getTime() - 600_000),
    });
    written += 1; // the checkpoint's own audit.checkpoint.signed event
    written += await events(tx, ago(0, 2), { 'auth.sign_in.refused': 1 });
    written += await events(tx, ago(0, 1), { 'auth.mfa.failed': 1 });
    return { users, keys, events: written, checkpointSeq: checkpoint.seq };
  });
}
