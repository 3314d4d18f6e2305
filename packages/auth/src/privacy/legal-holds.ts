/**
 * Legal holds (GDPR Art. 17(3)(e)): while one stands, the subject's erasure is `blocked`; when the
 * last one is released, blocked erasures return to `pending` and the workers resume them (the
 * status change NOTIFYs them). Holds lock the subject's user row, as requests and the erasure
 * worker do, so a hold and an erasure never race past each other.
 */
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { privacyLegalHolds, privacyRequests, users, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import { AuthError } from '../errors.js';
import { auditActorOf, requestMeta, type PrivacyActor } from './actor.js';
import { recordErasureFollowUp } from './webhook-events.js';

export async function hasActiveLegalHold(tx: TenantTx, userId: string): Promise<boolean> {
  const [hold] = await tx
    .select({ id: privacyLegalHolds.id })
    .from(privacyLegalHolds)
    .where(and(eq(privacyLegalHolds.userId, userId), isNull(privacyLegalHolds.releasedAt)))
    .limit(1);
  return hold !== undefined;
}

export async function placeLegalHold(
  tx: TenantTx,
  actor: PrivacyActor,
  input: { userId: string; reason: string },
  now: Date,
): Promise<{ holdId: string; blockedRequests: number }> {
  const [subject] = await tx
    .select({ id: users.id })
    .from(users)
    .where(eq(users.id, input.userId))
    .for('no key update');
  if (!subject) throw new AuthError('not_found');
  const [hold] = await tx
    .insert(privacyLegalHolds)
    .values({
      tenantId: tx.tenantId,
      userId: subject.id,
      reason: input.reason,
      placedBy: actor.id,
      placedAt: now,
    })
    .returning({ id: privacyLegalHolds.id });
  if (!hold) throw new Error('legal hold insert returned nothing');
  const blocked = await tx
    .update(privacyRequests)
    .set({ status: 'blocked', updatedAt: now })
    .where(
      and(
        eq(privacyRequests.userId, subject.id),
        eq(privacyRequests.type, 'deletion'),
        inArray(privacyRequests.status, ['pending', 'processing']),
      ),
    )
    .returning({ id: privacyRequests.id, userId: privacyRequests.userId });
  // An erasure already announced (waiting for acknowledgements) is announced as held (Art. 19).
  for (const request of blocked)
    await recordErasureFollowUp(tx, request, 'privacy.erasure.held', now);
  await recordAuditEvent(tx, {
    actor: auditActorOf(actor),
    action: 'privacy.legal_hold.placed',
    target: { type: 'user', id: subject.id },
    ...requestMeta(actor),
    after: { holdId: hold.id, blockedRequests: blocked.map((r) => r.id) },
    metadata: { reason: input.reason },
    occurredAt: now,
  });
  return { holdId: hold.id, blockedRequests: blocked.length };
}

export async function releaseLegalHold(
  tx: TenantTx,
  actor: PrivacyActor,
  input: { holdId: string },
  now: Date,
): Promise<{ resumedRequests: number }> {
  const [hold] = await tx
    .select()
    .from(privacyLegalHolds)
    .where(eq(privacyLegalHolds.id, input.holdId));
  if (!hold) throw new AuthError('not_found');
  await tx
    .select({ id: users.id })
    .from(users)
    .where(eq(users.id, hold.userId))
    .for('no key update');
  const [released] = await tx
    .update(privacyLegalHolds)
    .set({ releasedAt: now, releasedBy: actor.id })
    .where(and(eq(privacyLegalHolds.id, hold.id), isNull(privacyLegalHolds.releasedAt)))
    .returning({ id: privacyLegalHolds.id });
  if (!released) throw new AuthError('conflict', { detail: 'The hold was already released.' });
  let resumed: { id: string; userId: string }[] = [];
  if (!(await hasActiveLegalHold(tx, hold.userId))) {
    resumed = await tx
      .update(privacyRequests)
      .set({ status: 'pending', updatedAt: now })
      .where(and(eq(privacyRequests.userId, hold.userId), eq(privacyRequests.status, 'blocked')))
      .returning({ id: privacyRequests.id, userId: privacyRequests.userId });
    for (const request of resumed)
      await recordErasureFollowUp(tx, request, 'privacy.erasure.resumed', now);
  }
  await recordAuditEvent(tx, {
    actor: auditActorOf(actor),
    action: 'privacy.legal_hold.released',
    target: { type: 'user', id: hold.userId },
    ...requestMeta(actor),
    after: { holdId: hold.id, resumedRequests: resumed.map((r) => r.id) },
    occurredAt: now,
  });
  return { resumedRequests: resumed.length };
}
