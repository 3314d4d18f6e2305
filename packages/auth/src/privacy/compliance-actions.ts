/** Compliance staff's actions on a request: reject with a reason, extend the deadline (audited). */
import { eq } from 'drizzle-orm';
import { privacyRequests, type PrivacyRequestRow, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import { AuthError } from '../errors.js';
import { auditActorOf, requestMeta, type PrivacyActor } from './actor.js';
import { extendedDueDate, MAX_EXTENSION_MONTHS } from './deadlines.js';
import { enqueuePrivacyEmail } from './notifications.js';
import { lockOpenRequest, tenantNameOf, type PrivacyDeps } from './requests.js';
import { users } from '@tessera/db';

export async function rejectPrivacyRequest(
  tx: TenantTx,
  actor: PrivacyActor,
  input: { id: string; reason: string },
  deps: PrivacyDeps,
): Promise<PrivacyRequestRow> {
  const request = await lockOpenRequest(tx, input.id);
  // A running worker owns a processing request; it ends as completed or failed.
  if (request.status === 'processing')
    throw new AuthError('conflict', { detail: 'The request is being processed.' });
  const [rejected] = await tx
    .update(privacyRequests)
    .set({
      status: 'rejected',
      rejectionReason: input.reason,
      completedAt: deps.now,
      contactEmail: null,
      updatedAt: deps.now,
    })
    .where(eq(privacyRequests.id, request.id))
    .returning();
  if (!rejected) throw new AuthError('not_found');
  const [subject] = await tx
    .select({ email: users.email })
    .from(users)
    .where(eq(users.id, request.userId));
  const address = subject?.email ?? request.contactEmail;
  if (address) {
    await enqueuePrivacyEmail(tx, deps, {
      to: { userId: request.userId, address },
      tenantName: await tenantNameOf(tx),
      mail: { name: 'privacy_request_rejected', type: request.type, reason: input.reason },
    });
  }
  await recordAuditEvent(tx, {
    actor: auditActorOf(actor),
    action: 'privacy.request.rejected',
    target: { type: 'privacy_request', id: request.id },
    ...requestMeta(actor),
    before: { status: request.status },
    after: { status: 'rejected', subjectId: request.userId },
    metadata: { reason: input.reason },
    occurredAt: deps.now,
  });
  return rejected;
}

/** Adds `months` to the deadline; at most MAX_EXTENSION_MONTHS in total from the original date. */
export async function extendPrivacyDeadline(
  tx: TenantTx,
  actor: PrivacyActor,
  input: { id: string; months: number; reason: string },
  now: Date,
): Promise<PrivacyRequestRow> {
  const request = await lockOpenRequest(tx, input.id);
  const extended = extendedDueDate(request.originalDueAt, request.extendedMonths, input.months);
  if (!extended) {
    throw new AuthError('invalid_input', {
      field: 'months',
      detail: `A deadline may be extended by at most ${MAX_EXTENSION_MONTHS} months in total (${request.extendedMonths} used).`,
    });
  }
  const reason = request.extensionReason
    ? `${request.extensionReason}\n${input.reason}`.slice(-1000)
    : input.reason;
  const [updated] = await tx
    .update(privacyRequests)
    .set({
      dueAt: extended.dueAt,
      extendedMonths: extended.extendedMonths,
      extensionReason: reason,
      remindedAt: null,
      updatedAt: now,
    })
    .where(eq(privacyRequests.id, request.id))
    .returning();
  if (!updated) throw new AuthError('not_found');
  await recordAuditEvent(tx, {
    actor: auditActorOf(actor),
    action: 'privacy.request.deadline_extended',
    target: { type: 'privacy_request', id: request.id },
    ...requestMeta(actor),
    before: { dueAt: request.dueAt.toISOString(), extendedMonths: request.extendedMonths },
    after: { dueAt: extended.dueAt.toISOString(), extendedMonths: extended.extendedMonths },
    metadata: { reason: input.reason },
    occurredAt: now,
  });
  return updated;
}
