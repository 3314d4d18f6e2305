/**
 * Erasure (GDPR Art. 17; docs/design.md "Privacy"). In one tenant transaction: every registered source
 * erases the subject's direct identifiers, the user row is deleted (cascading what hangs on it,
 * clearing `created_by` on the tenant's API keys), the audit log keeps the user id as a pseudonym
 * through its redaction path, the erasure ledger gets (request id, user id), the request is
 * completed and the confirmation goes to the address captured at request time. A crash anywhere
 * rolls all of it back; a rerun does it once. Refused while a legal hold stands.
 *
 * Art. 19 (docs/privacy.md "Webhooks"): once no hold or owner rule stops it, `privacy.erasure.started`
 * is queued for the tenant's webhooks; while an endpoint that asked for acknowledgements has not
 * acknowledged it, the request stays `processing` and nothing is erased (`awaiting_ack`); the last
 * acknowledgement puts it back to `pending`. `privacy.erasure.completed` is queued with the completion.
 */
import { and, eq, isNotNull } from 'drizzle-orm';
import {
  privacyErasureLedger,
  privacyRequests,
  tenants,
  userTokens,
  users,
  type PrivacyRequestRow,
  type TenantTx,
} from '@tessera/db';
import { forgetAddressLimits } from '../accounts/address-limits.js';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import type { Keyring } from '../crypto/keyring.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import { availableSources } from './collect-user-data.js';
import { hasActiveLegalHold } from './legal-holds.js';
import { enqueuePrivacyEmail } from './notifications.js';
import { blockPrivacyRequest, failPrivacyRequest } from './processing.js';
import { lockSubject, tenantNameOf } from './requests.js';
import {
  personalDataSources,
  type PersonalDataSource,
  type PrivacySubject,
} from './sources/index.js';
import {
  outstandingAcknowledgements,
  recordErasureFollowUp,
  recordPrivacyWebhookEvent,
} from './webhook-events.js';

export interface ErasureDeps {
  keyring: Keyring;
  now: Date;
  /**
   * The sign-in and reset limiter: its counts under the subject's addresses are forgotten too
   * (accounts/address-limits.ts). Pass the shared one (Redis) where there is one; without it only
   * the limiter's own expiry (at most an hour) removes them.
   */
  limiter?: RateLimiter;
  sources?: readonly PersonalDataSource[];
  /** Test hook: called after each source's step, inside the transaction ("killed halfway"). */
  afterStep?: (source: string) => Promise<void> | void;
}

export type ErasureOutcome = 'completed' | 'blocked' | 'failed' | 'skipped' | 'awaiting_ack';

/** Erases every registered source for one subject and deletes the user row; returns rows touched per source. */
export async function eraseSubjectData(
  tx: TenantTx,
  subject: PrivacySubject,
  deps: ErasureDeps,
): Promise<Record<string, number>> {
  const touched: Record<string, number> = {};
  for (const source of await availableSources(tx, deps.sources ?? personalDataSources)) {
    touched[source.name] = await source.erase(tx, subject, { now: deps.now });
    await deps.afterStep?.(source.name);
  }
  const removed = await tx
    .delete(users)
    .where(eq(users.id, subject.userId))
    .returning({ id: users.id });
  touched['profile'] = (touched['profile'] ?? 0) + removed.length;
  return touched;
}

/** Runs a claimed deletion request to its end state. */
export async function processDeletionRequest(
  tx: TenantTx,
  requestId: string,
  deps: ErasureDeps,
): Promise<ErasureOutcome> {
  const [request] = await tx
    .select()
    .from(privacyRequests)
    .where(eq(privacyRequests.id, requestId))
    .for('update');
  if (!request || request.type !== 'deletion' || request.status !== 'processing') return 'skipped';
  const user = await lockSubject(tx, request.userId, 'update');
  if (await hasActiveLegalHold(tx, request.userId)) {
    await blockPrivacyRequest(tx, request, deps.now);
    await recordErasureFollowUp(tx, request, 'privacy.erasure.held', deps.now);
    return 'blocked';
  }
  if (user?.role === 'owner' && !(await hasOtherOwner(tx, user.id))) {
    await failPrivacyRequest(
      tx,
      request,
      'last_owner: move ownership before erasing the last owner',
      deps.now,
    );
    return 'failed';
  }
  await recordPrivacyWebhookEvent(tx, request, 'privacy.erasure.started', deps.now);
  if ((await outstandingAcknowledgements(tx, request.id)) > 0) {
    // Waiting is not a failed attempt: give the claim's attempt back.
    await tx
      .update(privacyRequests)
      .set({ attempts: Math.max(request.attempts - 1, 0), updatedAt: deps.now })
      .where(eq(privacyRequests.id, request.id));
    return 'awaiting_ack';
  }
  const subject: PrivacySubject = {
    userId: request.userId,
    email: user?.email ?? request.contactEmail,
  };
  const addresses = await addressesOf(tx, subject); // before the sources remove what names them
  const touched = await eraseSubjectData(tx, subject, deps);
  await finishErasure(tx, request, touched, deps);
  if (deps.limiter) {
    const [tenant] = await tx.select({ slug: tenants.slug }).from(tenants);
    if (tenant) await forgetAddressLimits(deps.limiter, tenant.slug, addresses, deps.now);
  }
  return 'completed';
}

/** The subject's address and any address a pending change names (login counters are keyed by both). */
async function addressesOf(tx: TenantTx, subject: PrivacySubject): Promise<string[]> {
  const pending = await tx
    .select({ email: userTokens.newEmail })
    .from(userTokens)
    .where(and(eq(userTokens.userId, subject.userId), isNotNull(userTokens.newEmail)));
  const addresses = new Set<string>(
    pending.flatMap((row) => (row.email === null ? [] : [row.email])),
  );
  if (subject.email !== null) addresses.add(subject.email);
  return [...addresses];
}

async function hasOtherOwner(tx: TenantTx, userId: string): Promise<boolean> {
  const owners = await tx
    .select({ id: users.id, disabledAt: users.disabledAt })
    .from(users)
    .where(eq(users.role, 'owner'));
  return owners.some((owner) => owner.id !== userId && owner.disabledAt === null);
}

async function finishErasure(
  tx: TenantTx,
  request: PrivacyRequestRow,
  touched: Record<string, number>,
  deps: ErasureDeps,
): Promise<void> {
  await tx
    .insert(privacyErasureLedger)
    .values({
      tenantId: tx.tenantId,
      requestId: request.id,
      userId: request.userId,
      erasedAt: deps.now,
    })
    .onConflictDoNothing();
  await tx
    .update(privacyRequests)
    .set({ status: 'completed', completedAt: deps.now, contactEmail: null, updatedAt: deps.now })
    .where(eq(privacyRequests.id, request.id));
  if (request.contactEmail) {
    await enqueuePrivacyEmail(tx, deps, {
      to: { userId: null, address: request.contactEmail },
      tenantName: await tenantNameOf(tx),
      mail: { name: 'privacy_erasure_completed' },
    });
  }
  await recordAuditEvent(tx, {
    actor: { type: 'system', id: null },
    action: 'privacy.erasure.completed',
    target: { type: 'user', id: request.userId },
    metadata: {
      requestId: request.id,
      erased: Object.entries(touched).map(([source, rows]) => ({ source, rows })),
    },
    occurredAt: deps.now,
  });
  await recordPrivacyWebhookEvent(tx, request, 'privacy.erasure.completed', deps.now);
}
