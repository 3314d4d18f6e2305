/**
 * compliance.listRequests: the tenant's queue, soonest deadline first, keyset-paginated on
 * (due_at, id). Viewing the queue is a read of personal data about many subjects and is audited
 * (docs/design.md "Privacy"), in the same transaction as the read.
 */
import { and, asc, eq, gt, or, type SQL } from 'drizzle-orm';
import {
  privacyRequests,
  type PrivacyRequestStatus,
  type PrivacyRequestType,
  type TenantTx,
} from '@tessera/db';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import { AuthError } from '../errors.js';
import { auditActorOf, requestMeta, type PrivacyActor } from './actor.js';
import { complianceView, type ComplianceRequestView } from './request-view.js';

export interface ListPrivacyRequestsFilter {
  status?: PrivacyRequestStatus | undefined;
  type?: PrivacyRequestType | undefined;
  cursor?: string | undefined;
  /** 1..100, default 50. */
  limit?: number | undefined;
}

const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)_([0-9a-f-]{36})$/;

function parseCursor(cursor: string): { dueAt: Date; id: string } {
  const match = CURSOR.exec(cursor);
  if (!match?.[1] || !match[2]) throw new AuthError('invalid_input', { field: 'cursor' });
  return { dueAt: new Date(match[1]), id: match[2] };
}

export async function listPrivacyRequests(
  tx: TenantTx,
  actor: PrivacyActor,
  filter: ListPrivacyRequestsFilter,
  now: Date,
): Promise<{ items: ComplianceRequestView[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(Math.trunc(filter.limit ?? 50), 1), 100);
  const conditions: SQL[] = [];
  if (filter.status) conditions.push(eq(privacyRequests.status, filter.status));
  if (filter.type) conditions.push(eq(privacyRequests.type, filter.type));
  if (filter.cursor) {
    const after = parseCursor(filter.cursor);
    const next = or(
      gt(privacyRequests.dueAt, after.dueAt),
      and(eq(privacyRequests.dueAt, after.dueAt), gt(privacyRequests.id, after.id)),
    );
    if (next) conditions.push(next);
  }
  const rows = await tx
    .select()
    .from(privacyRequests)
    .where(and(...conditions))
    .orderBy(asc(privacyRequests.dueAt), asc(privacyRequests.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  await recordAuditEvent(tx, {
    actor: auditActorOf(actor),
    action: 'privacy.requests.viewed',
    ...requestMeta(actor),
    metadata: {
      status: filter.status ?? null,
      type: filter.type ?? null,
      count: page.length,
      subjectIds: page.map((r) => r.userId),
    },
    occurredAt: now,
  });
  return {
    items: page.map((row) => complianceView(row, now)),
    nextCursor: rows.length > limit && last ? `${last.dueAt.toISOString()}_${last.id}` : null,
  };
}
