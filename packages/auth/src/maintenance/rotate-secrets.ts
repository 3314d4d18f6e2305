/**
 * Re-encrypts every stored secret under the first (newest) key of the ring. Rows are listed
 * through a SECURITY DEFINER function that returns only (kind, tenant, id); each row is
 * re-encrypted inside its tenant's transaction. Idempotent: rows already under the newest key are
 * skipped, so an interrupted run can simply be started again. `options.signal` stops between rows
 * (each row is its own transaction, so no row is ever half rotated); `onProgress` sees each row.
 */
import { reencryptPhoneNumber } from '../mfa/oob-codes-sms.js';
import { reencryptSigningKey } from '../oidc/signing-keys.js';
import { and, eq, isNotNull } from 'drizzle-orm';
import { emailOutbox, mfaTotp, withTenant, type Database } from '@tessera/db';
import type { Keyring } from '../crypto/keyring.js';
import { PENDING_PURPOSE } from '../mfa/enrollment.js';
import { TOTP_PURPOSE } from '../mfa/verify-second-factor.js';
import { OUTBOX_PURPOSE } from '../outbox/enqueue-email.js';

export interface RotationReport {
  checked: number;
  reencrypted: number;
}

/** Shared by every re-encryption pass (this file, SSO and privacy-webhook secrets). */
export interface RotationOptions {
  /** Aborted: stop before the next row; `checked` then counts the rows seen. */
  signal?: AbortSignal;
  /** After each row (`done` of `total`); awaited. */
  onProgress?: (done: number, total: number) => void | Promise<void>;
}

async function rotateTotp(
  db: Database,
  keyring: Keyring,
  tenantId: string,
  userId: string,
): Promise<number> {
  return withTenant(db, tenantId, async (tx) => {
    const [row] = await tx.select().from(mfaTotp).where(eq(mfaTotp.userId, userId)).for('update');
    if (!row) return 0;
    const ctx = (purpose: string) => ({ purpose, tenantId, rowId: userId });
    const secret =
      row.secretCiphertext && keyring.needsRotation(row.secretCiphertext)
        ? keyring.reencrypt(row.secretCiphertext, ctx(TOTP_PURPOSE))
        : null;
    const pending =
      row.pendingCiphertext && keyring.needsRotation(row.pendingCiphertext)
        ? keyring.reencrypt(row.pendingCiphertext, ctx(PENDING_PURPOSE))
        : null;
    if (!secret && !pending) return 0;
    await tx
      .update(mfaTotp)
      .set({
        ...(secret ? { secretCiphertext: secret } : {}),
        ...(pending ? { pendingCiphertext: pending } : {}),
      })
      .where(eq(mfaTotp.userId, userId));
    return 1;
  });
}

async function rotateOutbox(
  db: Database,
  keyring: Keyring,
  tenantId: string,
  id: string,
): Promise<number> {
  return withTenant(db, tenantId, async (tx) => {
    const [row] = await tx
      .select()
      .from(emailOutbox)
      .where(and(eq(emailOutbox.id, id), isNotNull(emailOutbox.body)))
      .for('update');
    if (!row?.body || !keyring.needsRotation(row.body)) return 0;
    await tx
      .update(emailOutbox)
      .set({ body: keyring.reencrypt(row.body, { purpose: OUTBOX_PURPOSE, tenantId, rowId: id }) })
      .where(eq(emailOutbox.id, id));
    return 1;
  });
}

export async function reencryptAllSecrets(
  db: Database,
  keyring: Keyring,
  options: RotationOptions = {},
): Promise<RotationReport> {
  const { rows } = await db.pool.query<{ kind: string; tenant_id: string; id: string }>(
    'SELECT kind, tenant_id, id FROM public.list_encrypted_rows()',
  );
  let reencrypted = 0;
  let checked = 0;
  for (const row of rows) {
    if (options.signal?.aborted) break;
    if (row.kind === 'mfa_totp')
      reencrypted += await rotateTotp(db, keyring, row.tenant_id, row.id);
    else if (row.kind === 'email_outbox')
      reencrypted += await rotateOutbox(db, keyring, row.tenant_id, row.id);
    else if (row.kind === 'mfa_phone_numbers')
      reencrypted += await reencryptPhoneNumber(db, keyring, row.tenant_id, row.id);
    else if (row.kind === 'oidc_signing_keys')
      reencrypted += await reencryptSigningKey(db, keyring, row.tenant_id, row.id);
    checked += 1;
    await options.onProgress?.(checked, rows.length);
  }
  return { checked, reencrypted };
}
