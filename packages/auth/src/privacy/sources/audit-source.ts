/**
 * The audit log: events where the subject is the actor or the target, or that name
 * their e-mail address. The IP address and user agent are shown only where the subject acted
 * (elsewhere they belong to whoever did). Erasure goes through the audit module's redaction path:
 * the clear values and salts go, the digests and the user id (a pseudonym) stay, and the chain
 * still verifies.
 */
import { redactAuditPersonalData } from '../../audit/redact-audit-personal-data.js';
import { reveal } from '../../audit/list-audit-events.js';
import type { JsonValue } from '../../audit/canonical.js';
import { isoColumn as ISO } from './identity-sources.js';
import type { ExportRecord, PersonalDataSource } from './personal-data-source.js';

const COLUMNS = [
  'seq',
  'occurredAt',
  'action',
  'actorType',
  'actorId',
  'targetType',
  'targetId',
  'ip',
  'userAgent',
  'before',
  'after',
  'metadata',
] as const;

export const auditSource: PersonalDataSource = {
  name: 'audit_events',
  description:
    'Security events about you or done by you (sign-ins, changes), as the tamper-evident audit log records them.',
  tables: ['audit_logs'],
  columns: COLUMNS,
  query: `SELECT seq::float8 AS "seq", ${ISO('occurred_at', 'occurredAt')}, action AS "action", actor_type AS "actorType",
            actor_id AS "actorId", target_type AS "targetType", target_id AS "targetId",
            CASE WHEN actor_id = $1::text THEN ip END AS "ip", CASE WHEN actor_id = $1::text THEN user_agent END AS "userAgent",
            before AS "before", after AS "after", metadata AS "metadata", pii AS "pii"
          FROM public.audit_logs
          WHERE actor_id = $1::text OR target_id = $1::text
             OR (pii IS NOT NULL AND $2::text IS NOT NULL
                 AND EXISTS (SELECT 1 FROM jsonb_each_text(pii) e WHERE lower(e.value) = $2::text))
          ORDER BY seq`,
  toRecord: (row) => {
    const pii = (row['pii'] ?? {}) as Record<string, string>;
    const record: ExportRecord = {};
    for (const column of COLUMNS) record[column] = reveal((row[column] ?? null) as JsonValue, pii);
    return record;
  },
  erase: async (tx, subject, { now }) => {
    const { redacted } = await redactAuditPersonalData(tx, subject.userId, {
      emails: subject.email ? [subject.email] : [],
      now,
    });
    return redacted;
  },
};
