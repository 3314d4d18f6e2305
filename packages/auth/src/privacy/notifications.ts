/**
 * Privacy notifications through the transactional outbox: the mail exists only if the
 * change that caused it commits. Bodies are sealed under the outbox's keyring context exactly as
 * enqueueEmail() seals them, so the outbox sender delivers them unchanged. They carry no links
 * with tokens: the subject signs in to download.
 */
import { randomUUID } from 'node:crypto';
import { emailOutbox, type TenantTx } from '@tessera/db';
import type { Keyring } from '../crypto/keyring.js';
import { OUTBOX_PURPOSE } from '../outbox/enqueue-email.js';

export type PrivacyEmail =
  | { name: 'privacy_request_received'; type: 'export' | 'deletion'; dueAt: Date }
  | { name: 'privacy_export_ready'; expiresAt: Date; consoleUrl: string }
  | { name: 'privacy_erasure_completed' }
  | { name: 'privacy_request_rejected'; type: 'export' | 'deletion'; reason: string }
  | {
      name: 'privacy_request_due_soon';
      requestId: string;
      type: 'export' | 'deletion';
      dueAt: Date;
    };

const what = (type: 'export' | 'deletion'): string =>
  type === 'export' ? 'a copy of your personal data' : 'the erasure of your personal data';

export function renderPrivacyEmail(
  tenantName: string,
  mail: PrivacyEmail,
): { subject: string; body: string } {
  switch (mail.name) {
    case 'privacy_request_received':
      return {
        subject: 'We received your data-protection request',
        body: `${tenantName} received your request for ${what(mail.type)}.\n\nWe will answer by ${mail.dueAt.toISOString().slice(0, 10)} at the latest.`,
      };
    case 'privacy_export_ready':
      return {
        subject: 'Your data export is ready',
        body: `The copy of your personal data held by ${tenantName} is ready.\n\nSign in at ${mail.consoleUrl} to download it before ${mail.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; after that it is deleted.`,
      };
    case 'privacy_erasure_completed':
      return {
        subject: 'Your personal data was erased',
        body: `${tenantName} erased your account and the personal data linked to it, as you asked.\n\nThis is the last message we send to this address.`,
      };
    case 'privacy_request_rejected':
      return {
        subject: 'Your data-protection request was declined',
        body: `${tenantName} declined your request for ${what(mail.type)}.\n\nReason: ${mail.reason}\n\nYou may lodge a complaint with a supervisory authority.`,
      };
    case 'privacy_request_due_soon':
      return {
        subject: 'A data-protection request is due soon',
        body: `The ${mail.type} request ${mail.requestId} in ${tenantName} is due by ${mail.dueAt.toISOString().slice(0, 16).replace('T', ' ')} UTC and is still open.`,
      };
  }
}

/** One privacy mail: to whom, in the name of which tenant, which message. */
export interface PrivacyMessage {
  to: { userId: string | null; address: string };
  tenantName: string;
  mail: PrivacyEmail;
}

/** Seals the message into the outbox in the caller's tenant transaction; returns its outbox id. */
export async function enqueuePrivacyEmail(
  tx: TenantTx,
  deps: { keyring: Keyring; now: Date },
  message: PrivacyMessage,
): Promise<string> {
  const { keyring, now } = deps;
  const { to, tenantName, mail } = message;
  const { subject, body } = renderPrivacyEmail(tenantName, mail);
  const id = randomUUID();
  const sealed = keyring.encrypt(body, {
    purpose: OUTBOX_PURPOSE,
    tenantId: tx.tenantId,
    rowId: id,
  });
  await tx.insert(emailOutbox).values({
    id,
    tenantId: tx.tenantId,
    userId: to.userId,
    toAddress: to.address,
    template: mail.name,
    subject,
    body: sealed,
    createdAt: now,
    sendAfter: now,
  });
  return id;
}
