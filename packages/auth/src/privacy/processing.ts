/**
 * The worker side of a request, as steps the job handlers call (docs/contributing.md convention 16). Each step
 * is idempotent by request id: claiming a request that is no longer open does nothing, and an
 * export or erasure finishes (status, audit, notification) in the transaction of its last write,
 * so a worker killed halfway leaves the request open with nothing half-written, and a rerun
 * starts clean.
 */
import { eq } from 'drizzle-orm';
import { privacyRequests, type PrivacyRequestRow, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import type { Keyring } from '../crypto/keyring.js';
import { deleteExportChunks } from './export-store.js';
import { enqueuePrivacyEmail } from './notifications.js';
import { tenantNameOf } from './requests.js';
import { recordPrivacyWebhookEvent } from './webhook-events.js';
import { users } from '@tessera/db';

/** Attempts (claims that got the job lock) before a request is marked failed. */
export const MAX_PROCESSING_ATTEMPTS = 5;
/** Export files are deleted this long after completion. */
export const EXPORT_RETENTION_MS = 7 * 24 * 60 * 60_000;

export type ClaimOutcome =
  | { status: 'claimed'; request: PrivacyRequestRow }
  | { status: 'skipped'; reason: string }
  | { status: 'failed' };

/**
 * Moves an open request to `processing` and counts the attempt, in its own short transaction.
 * Blocked, finished or unknown requests are skipped; one that used up its attempts is failed.
 */
export async function claimPrivacyRequest(
  tx: TenantTx,
  requestId: string,
  now: Date,
): Promise<ClaimOutcome> {
  const [request] = await tx
    .select()
    .from(privacyRequests)
    .where(eq(privacyRequests.id, requestId))
    .for('update');
  if (!request) return { status: 'skipped', reason: 'not_found' };
  if (request.status !== 'pending' && request.status !== 'processing')
    return { status: 'skipped', reason: request.status };
  if (request.attempts >= MAX_PROCESSING_ATTEMPTS) {
    await failPrivacyRequest(tx, request, 'too many attempts', now);
    return { status: 'failed' };
  }
  const [claimed] = await tx
    .update(privacyRequests)
    .set({
      status: 'processing',
      attempts: request.attempts + 1,
      startedAt: request.startedAt ?? now,
      updatedAt: now,
    })
    .where(eq(privacyRequests.id, request.id))
    .returning();
  if (!claimed) return { status: 'skipped', reason: 'not_found' };
  return { status: 'claimed', request: claimed };
}

export async function failPrivacyRequest(
  tx: TenantTx,
  request: PrivacyRequestRow,
  reason: string,
  now: Date,
): Promise<void> {
  await deleteExportChunks(tx, request.id);
  await tx
    .update(privacyRequests)
    .set({
      status: 'failed',
      failureReason: reason.slice(0, 200),
      completedAt: now,
      updatedAt: now,
    })
    .where(eq(privacyRequests.id, request.id));
  await recordAuditEvent(tx, {
    actor: { type: 'system', id: null },
    action: 'privacy.request.failed',
    target: { type: 'privacy_request', id: request.id },
    metadata: {
      subjectId: request.userId,
      type: request.type,
      reason: reason.slice(0, 200),
      attempts: request.attempts,
    },
    occurredAt: now,
  });
}

/** Records a claimed request back to `blocked` (a legal hold stands). */
export async function blockPrivacyRequest(
  tx: TenantTx,
  request: PrivacyRequestRow,
  now: Date,
): Promise<void> {
  await tx
    .update(privacyRequests)
    .set({ status: 'blocked', updatedAt: now })
    .where(eq(privacyRequests.id, request.id));
  await recordAuditEvent(tx, {
    actor: { type: 'system', id: null },
    action: 'privacy.request.blocked',
    target: { type: 'privacy_request', id: request.id },
    metadata: { subjectId: request.userId, reason: 'legal_hold' },
    occurredAt: now,
  });
}

export interface CompletedExport {
  contentType: string;
  fileName: string;
  bytes: number;
  chunks: number;
}

/**
 * The claim of an export, with `privacy.export.started` queued for the tenant's webhooks in the
 * same transaction (a rerun queues nothing twice; Art. 19, docs/privacy.md "Webhooks").
 */
export async function claimExportRequest(
  tx: TenantTx,
  requestId: string,
  now: Date,
): Promise<ClaimOutcome> {
  const claim = await claimPrivacyRequest(tx, requestId, now);
  if (claim.status === 'claimed' && claim.request.type === 'export')
    await recordPrivacyWebhookEvent(tx, claim.request, 'privacy.export.started', now);
  return claim;
}

/** Marks an export complete in the transaction that wrote its last chunk; mails the subject and queues `privacy.export.completed`. */
export async function completeExport(
  tx: TenantTx,
  request: PrivacyRequestRow,
  file: CompletedExport,
  deps: { keyring: Keyring; now: Date; consoleUrl: string },
): Promise<void> {
  const expiresAt = new Date(deps.now.getTime() + EXPORT_RETENTION_MS);
  await tx
    .update(privacyRequests)
    .set({
      status: 'completed',
      completedAt: deps.now,
      exportContentType: file.contentType,
      exportFileName: file.fileName,
      exportBytes: file.bytes,
      exportChunks: file.chunks,
      exportExpiresAt: expiresAt,
      failureReason: null,
      updatedAt: deps.now,
    })
    .where(eq(privacyRequests.id, request.id));
  const [subject] = await tx
    .select({ email: users.email })
    .from(users)
    .where(eq(users.id, request.userId));
  if (subject) {
    await enqueuePrivacyEmail(tx, deps, {
      to: { userId: request.userId, address: subject.email },
      tenantName: await tenantNameOf(tx),
      mail: { name: 'privacy_export_ready', expiresAt, consoleUrl: deps.consoleUrl },
    });
  }
  await recordAuditEvent(tx, {
    actor: { type: 'system', id: null },
    action: 'privacy.export.completed',
    target: { type: 'privacy_request', id: request.id },
    metadata: {
      subjectId: request.userId,
      format: request.format,
      bytes: file.bytes,
      chunks: file.chunks,
      expiresAt: expiresAt.toISOString(),
    },
    occurredAt: deps.now,
  });
  await recordPrivacyWebhookEvent(tx, request, 'privacy.export.completed', deps.now);
}
