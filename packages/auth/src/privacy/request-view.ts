import type {
  PrivacyActorType,
  PrivacyExportFormat,
  PrivacyRequestRow,
  PrivacyRequestStatus,
  PrivacyRequestType,
} from '@tessera/db';

/** What the subject sees (privacy.myRequests). */
export interface PrivacyRequestView {
  id: string;
  type: PrivacyRequestType;
  status: PrivacyRequestStatus;
  format: PrivacyExportFormat | null;
  requestedAt: string;
  dueAt: string;
  completedAt: string | null;
  /** When the export file expires (7 days after completion); null for erasure or before completion. */
  expiresAt: string | null;
}

/** What compliance staff see (compliance.listRequests). No e-mail address: the user id is enough. */
export interface ComplianceRequestView extends PrivacyRequestView {
  userId: string;
  requestedBy: { type: PrivacyActorType; id: string };
  originalDueAt: string;
  extendedMonths: number;
  extensionReason: string | null;
  rejectionReason: string | null;
  failureReason: string | null;
  attempts: number;
  exportAvailable: boolean;
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

export function requestView(row: PrivacyRequestRow): PrivacyRequestView {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    format: row.format,
    requestedAt: row.requestedAt.toISOString(),
    dueAt: row.dueAt.toISOString(),
    completedAt: iso(row.completedAt),
    expiresAt: row.type === 'export' ? iso(row.exportExpiresAt) : null,
  };
}

export function complianceView(row: PrivacyRequestRow, now: Date): ComplianceRequestView {
  return {
    ...requestView(row),
    userId: row.userId,
    requestedBy: { type: row.requestedByType, id: row.requestedBy },
    originalDueAt: row.originalDueAt.toISOString(),
    extendedMonths: row.extendedMonths,
    extensionReason: row.extensionReason,
    rejectionReason: row.rejectionReason,
    failureReason: row.failureReason,
    attempts: row.attempts,
    exportAvailable:
      row.exportChunks !== null && row.exportExpiresAt !== null && row.exportExpiresAt > now,
  };
}
