/** Test helpers that read the e-mail outbox as the outbox sender would (bodies are sealed with the keyring). */
import type { Keyring } from '@tessera/auth/crypto';
import { OUTBOX_PURPOSE } from '@tessera/auth/outbox';
import type { Database } from '@tessera/db';

export interface OutboxMail {
  id: string;
  to: string;
  template: string;
  subject: string;
  body: string;
}

/**
 * A tenant's queued mail, oldest first, optionally by recipient, template or user. Pass the
 * owner's pool: the outbox is under RLS and tests read across the tenant context.
 */
export async function outboxMails(
  owner: Pick<Database, 'pool'>,
  keyring: Keyring,
  tenantId: string,
  filter: { to?: string; template?: string; userId?: string } = {},
): Promise<OutboxMail[]> {
  const { rows } = await owner.pool.query<{
    id: string;
    to_address: string;
    template: string;
    subject: string;
    body: string;
  }>(
    `SELECT id, to_address, template, subject, body FROM email_outbox
     WHERE tenant_id = $1 AND ($2::text IS NULL OR to_address = $2) AND ($3::text IS NULL OR template = $3) AND ($4::uuid IS NULL OR user_id = $4)
     ORDER BY created_at, id`,
    [tenantId, filter.to ?? null, filter.template ?? null, filter.userId ?? null],
  );
  return rows.map((r) => ({
    id: r.id,
    to: r.to_address,
    template: r.template,
    subject: r.subject,
    body: keyring.decryptString(r.body, { purpose: OUTBOX_PURPOSE, tenantId, rowId: r.id }),
  }));
}

/** The `#token=` of the newest mail to `to` (optionally only links to `path`, e.g. '/reset-password'). */
export async function tokenMailedTo(
  owner: Pick<Database, 'pool'>,
  keyring: Keyring,
  tenantId: string,
  to: string,
  path = '',
): Promise<string> {
  const mails = await outboxMails(owner, keyring, tenantId, { to });
  for (const mail of mails.reverse()) {
    const token = new RegExp(`${path}#token=([A-Za-z0-9_-]{43})`).exec(mail.body)?.[1];
    if (token) return token;
  }
  throw new Error(`no ${path || 'link'} token in mail to ${to}`);
}
