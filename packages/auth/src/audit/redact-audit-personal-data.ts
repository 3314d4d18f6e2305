/**
 * GDPR erasure for the audit log (docs/design.md "Privacy"). Deletes the clear personal data (ip, user
 * agent, the clear values behind `pii:` tokens) and the per-row salt of every row of the current
 * tenant that names the user as actor or target, or holds one of the given e-mail addresses.
 * The salted digests stay in the chain, so verification still passes, and without the salt they
 * cannot be matched against guesses. The user id remains as a pseudonym.
 *
 * Trade-off (docs/audit-log.md): erasure is per row, so a row about the user loses the other
 * clear personal data it held too (e.g. the IP of the admin who acted on them); its digests stay.
 * Runs through the SECURITY DEFINER redact_audit_personal_data(), the only UPDATE path.
 * Pinned by audit-redaction.db.test.ts.
 */
import type { TenantTx } from '@tessera/db';
import { recordAuditEvent, type AuditActor } from './record-audit-event.js';

export interface RedactAuditOptions {
  /** Also erase rows holding these addresses (compared trimmed and lower-cased). */
  emails?: readonly string[];
  /** Who asked (the compliance officer, or system for the erasure job). */
  actor?: AuditActor;
  now?: Date;
}

export async function redactAuditPersonalData(
  tx: TenantTx,
  userId: string,
  options: RedactAuditOptions = {},
): Promise<{ redacted: number }> {
  if (typeof userId !== 'string' || userId === '') throw new TypeError('userId is required');
  const emails = (options.emails ?? []).map((email) => email.trim().toLowerCase()).filter(Boolean);
  const { rows } = await tx.client.query<{ n: string }>(
    'SELECT public.redact_audit_personal_data($1, $2::text[])::text AS n',
    [userId, emails],
  );
  const redacted = Number(rows[0]?.n ?? 0);
  await recordAuditEvent(tx, {
    actor: options.actor ?? { type: 'system', id: null },
    action: 'audit.personal_data.redacted',
    target: { type: 'user', id: userId },
    metadata: { rowsRedacted: redacted, byEmail: emails.length > 0 },
    ...(options.now ? { occurredAt: options.now } : {}),
  });
  return { redacted };
}
