import { randomUUID } from 'node:crypto';
import { emailOutbox, type TenantTx } from '@tessera/db';
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
  const sealed = keyring.encrypt(body, { purpose: OUTBOX_PURPOSE, tenantId: tx.tenantId, rowId: id });
  await tx.insert(emailOutbox).values({
    id,
    tenantId: tx.tenantId,
    userId: to.userId,
    toAddress: to.address,
    template: template.name,
    subject,
    body: sealed,
    createdAt: now,
    sendAfter: now,
  });
  return id;
}
