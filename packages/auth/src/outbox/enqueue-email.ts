import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { emailOutbox, users, type TenantTx } from '@tessera/db';
import type { Keyring } from '../crypto/keyring.js';
import { renderEmail, type EmailTemplate } from './templates.js';

export const OUTBOX_PURPOSE = 'email_outbox.body';

/**
 * Transactional outbox: the mail exists only if the change that caused it commits. The body may
 * hold a single-use link, so it is stored encrypted (bound to its row) and scrubbed after delivery.
 */
export async function enqueueEmail(
  tx: TenantTx,
  keyring: Keyring,
  to: { userId: string | null; address: string },
  template: EmailTemplate,
  now: Date,
): Promise<string> {
  const { subject, body } = renderEmail(template);
  const id = randomUUID();
  const sealed = keyring.encrypt(body, {
    purpose: OUTBOX_PURPOSE,
    tenantId: tx.tenantId,
    rowId: id,
  });
  // Issued before the first await, so a caller can pipeline it with its next statements.
  await tx
    .insert(emailOutbox)
    .values({
      id,
      tenantId: tx.tenantId,
      userId: to.userId,
      toAddress: to.address,
      template: template.name,
      subject,
      body: sealed,
      createdAt: now,
      sendAfter: now,
    })
    .execute();
  return id;
}

/**
 * Queues a mail to the active user with this address, if any, through the same statement and the
 * same rendering and encryption either way, so a caller that must not reveal whether the account
 * exists does equal work (see `issueUserTokenByEmail`).
 */
export async function enqueueEmailToActiveUser(
  tx: TenantTx,
  keyring: Keyring,
  address: string,
  template: EmailTemplate,
  now: Date,
): Promise<void> {
  const { subject, body } = renderEmail(template);
  const id = randomUUID();
  const sealed = keyring.encrypt(body, {
    purpose: OUTBOX_PURPOSE,
    tenantId: tx.tenantId,
    rowId: id,
  });
  await tx.execute(sql`
    INSERT INTO ${emailOutbox} (id, tenant_id, user_id, to_address, template, subject, body, created_at, send_after)
    SELECT ${id}::uuid, ${tx.tenantId}::uuid, u.id, u.email, ${template.name}::text, ${subject}::text, ${sealed}::text, ${now}::timestamptz, ${now}::timestamptz
      FROM ${users} u WHERE u.email = ${address} AND u.disabled_at IS NULL`);
}
