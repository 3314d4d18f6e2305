/**
 * Privacy requests by state, with their deadlines: how many are overdue or due within 7 days
 * (open states only: pending, processing, blocked), the next deadline per state, and the open
 * requests closest to their deadline. No personal data: ids, types and dates only. Counts come
 * from privacy_requests (tenant_id, status, due_at, id), which holds every column they need.
 */
import type { TenantTx } from '@tessera/db';

export const PRIVACY_STATUSES = [
  'pending',
  'processing',
  'blocked',
  'completed',
  'failed',
  'rejected',
] as const;
export type PrivacyStatus = (typeof PRIVACY_STATUSES)[number];
const OPEN: readonly PrivacyStatus[] = ['pending', 'processing', 'blocked'];
export const DUE_SOON_DAYS = 7;
const UPCOMING = 10;

export interface PrivacyStatusCount {
  status: PrivacyStatus;
  count: number;
  /** Open states only; 0 for closed ones. */
  overdue: number;
  dueSoon: number;
  nextDueAt: string | null;
}

export interface UpcomingPrivacyRequest {
  id: string;
  type: 'export' | 'deletion';
  status: PrivacyStatus;
  requestedAt: string;
  dueAt: string;
}

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const BY_STATUS = `
  SELECT status, count(*)::int AS count,
         count(*) FILTER (WHERE due_at < $1)::int AS overdue,
         count(*) FILTER (WHERE due_at >= $1 AND due_at < $2)::int AS "dueSoon",
         pg_catalog.to_char(min(due_at) FILTER (WHERE due_at >= $1) AT TIME ZONE 'UTC', ${ISO}) AS "nextDueAt"
  FROM public.privacy_requests GROUP BY status`;
const UPCOMING_SQL = `
  SELECT id::text AS id, type, status,
         pg_catalog.to_char(requested_at AT TIME ZONE 'UTC', ${ISO}) AS "requestedAt",
         pg_catalog.to_char(due_at AT TIME ZONE 'UTC', ${ISO}) AS "dueAt"
  FROM public.privacy_requests WHERE status IN ('pending', 'processing', 'blocked')
  ORDER BY due_at, id LIMIT ${UPCOMING}`;

export async function privacyDeadlines(
  tx: TenantTx,
  now: Date,
): Promise<{ byStatus: PrivacyStatusCount[]; upcoming: UpcomingPrivacyRequest[] }> {
  const soon = new Date(now.getTime() + DUE_SOON_DAYS * 86_400_000);
  const counted = await tx.client.query<PrivacyStatusCount>({
    name: 'tessera_overview_privacy',
    text: BY_STATUS,
    values: [now, soon],
  });
  const upcoming = await tx.client.query<UpcomingPrivacyRequest>({
    name: 'tessera_overview_privacy_upcoming',
    text: UPCOMING_SQL,
  });
  const byStatus = PRIVACY_STATUSES.map((status) => {
    const row = counted.rows.find((r) => r.status === status);
    const open = OPEN.includes(status);
    return {
      status,
      count: row?.count ?? 0,
      overdue: open ? (row?.overdue ?? 0) : 0,
      dueSoon: open ? (row?.dueSoon ?? 0) : 0,
      nextDueAt: open ? (row?.nextDueAt ?? null) : null,
    };
  });
  return { byStatus, upcoming: upcoming.rows };
}
