/**
 * Privacy webhook events and the erasure acknowledgement gate (Art. 19; docs/privacy.md
 * "Webhooks").
 *
 * Guarantees: an event is queued as one delivery row per subscribed, enabled endpoint in the
 * transaction of the change it reports (claim, completion), keyed by (endpoint, request, event)
 * so a rerun after a crash queues nothing twice; the body holds ids only (event, tenant, request,
 * the subject's user id as a pseudonym), never an e-mail address or other personal data. An
 * erasure whose `privacy.erasure.started` went to a `requireAck` endpoint waits until every such
 * delivery is acknowledged (a 2xx answer, or `acknowledgeWebhookDelivery`) or released (endpoint
 * disabled, deleted or no longer asking for acks); then the request goes back to `pending`, which
 * NOTIFYs the workers.
 */
import { createHash } from 'node:crypto';
import type { TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import { AuthError } from '../errors.js';
import { auditActorOf, requestMeta, type PrivacyActor } from './actor.js';
import type {
  ErasureFollowUpEvent,
  PrivacyWebhookEvent,
  PrivacyWebhookEventType,
} from './webhook-event-types.js';

export type WebhookDeliveryStatus =
  'pending' | 'delivered' | 'acknowledged' | 'failed' | 'cancelled';

/** The same id for the same (request, event) on every endpoint and every rerun. */
function webhookEventId(requestId: string, type: PrivacyWebhookEventType): string {
  const hex = createHash('sha256')
    .update(`tessera.privacy.webhook:${requestId}:${type}`)
    .digest('hex');
  // Shaped as a UUID (version nibble 5-like, variant 10xx) so receivers can store it as one.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

export interface PrivacyWebhookPayload {
  id: string;
  type: PrivacyWebhookEventType;
  occurredAt: string;
  tenantId: string;
  requestId: string;
  /** The subject's user id: a pseudonym, never an address. */
  subjectId: string;
}

/** The insert parameters shared by both queuing paths: $1 tenant, $2 request, $3 event id, $4 type, $5 body, $6 now. */
function deliveryParams(
  tx: TenantTx,
  request: { id: string; userId: string },
  type: PrivacyWebhookEventType,
  now: Date,
): unknown[] {
  const id = webhookEventId(request.id, type);
  const payload: PrivacyWebhookPayload = {
    id,
    type,
    occurredAt: now.toISOString(),
    tenantId: tx.tenantId,
    requestId: request.id,
    subjectId: request.userId,
  };
  return [tx.tenantId, request.id, id, type, JSON.stringify(payload), now];
}

/** Queues `type` for every enabled endpoint subscribed to it; returns how many deliveries were new. */
export async function recordPrivacyWebhookEvent(
  tx: TenantTx,
  request: { id: string; userId: string },
  type: PrivacyWebhookEvent,
  now: Date,
): Promise<number> {
  const result = await tx.client.query(
    `INSERT INTO public.privacy_webhook_deliveries
       (tenant_id, endpoint_id, request_id, event_id, event_type, payload, requires_ack, status, next_attempt_at, created_at, updated_at)
     SELECT $1::uuid, e.id, $2::uuid, $3::uuid, $4::text, $5::text, e.require_ack AND $4::text = 'privacy.erasure.started', 'pending', $6, $6, $6
     FROM public.privacy_webhook_endpoints e WHERE e.disabled_at IS NULL AND $4::text = ANY (e.events)
     ON CONFLICT (tenant_id, endpoint_id, request_id, event_type) DO NOTHING`,
    deliveryParams(tx, request, type, now),
  );
  return result.rowCount ?? 0;
}

/**
 * Tells the endpoints that got `privacy.erasure.started` for this request that a legal hold now
 * stops the erasure (`held`) or that the last hold was released (`resumed`). Once per request and
 * endpoint (the delivery key); deliveries are independent jobs, so receivers order by `occurredAt`.
 */
export async function recordErasureFollowUp(
  tx: TenantTx,
  request: { id: string; userId: string },
  type: ErasureFollowUpEvent,
  now: Date,
): Promise<number> {
  const result = await tx.client.query(
    `INSERT INTO public.privacy_webhook_deliveries
       (tenant_id, endpoint_id, request_id, event_id, event_type, payload, requires_ack, status, next_attempt_at, created_at, updated_at)
     SELECT $1::uuid, e.id, $2::uuid, $3::uuid, $4::text, $5::text, false, 'pending', $6, $6, $6
     FROM public.privacy_webhook_deliveries d JOIN public.privacy_webhook_endpoints e ON e.id = d.endpoint_id
     WHERE d.request_id = $2 AND d.event_type = 'privacy.erasure.started' AND d.status <> 'cancelled' AND e.disabled_at IS NULL
       AND ($4::text = 'privacy.erasure.held' OR EXISTS (
         SELECT 1 FROM public.privacy_webhook_deliveries h WHERE h.request_id = $2 AND h.endpoint_id = e.id AND h.event_type = 'privacy.erasure.held'))
     ON CONFLICT (tenant_id, endpoint_id, request_id, event_type) DO NOTHING`,
    deliveryParams(tx, request, type, now),
  );
  return result.rowCount ?? 0;
}

/** Deliveries that still hold the request's erasure back. */
export async function outstandingAcknowledgements(
  tx: TenantTx,
  requestId: string,
): Promise<number> {
  const { rows } = await tx.client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM public.privacy_webhook_deliveries
     WHERE request_id = $1 AND requires_ack AND status NOT IN ('acknowledged', 'cancelled')`,
    [requestId],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Puts erasures that waited on acknowledgements back to `pending` once nothing holds them (the
 * claim that stopped to wait gave its attempt back already). A request a job is processing
 * right now is locked by that job; this update waits for it and then finds it no longer processing.
 */
export async function resumeAcknowledgedErasures(
  tx: TenantTx,
  requestIds: readonly string[],
  now: Date,
): Promise<string[]> {
  if (requestIds.length === 0) return [];
  const ids = [...new Set(requestIds)];
  // Lock first: two acknowledgements committing at once would each still see the other's
  // delivery as outstanding in the UPDATE's snapshot (write skew); the second now waits and its
  // UPDATE, a new statement, sees the first.
  await tx.client.query(
    'SELECT id FROM public.privacy_requests WHERE id = ANY ($1::uuid[]) ORDER BY id FOR UPDATE',
    [ids],
  );
  const { rows } = await tx.client.query<{ id: string }>(
    `UPDATE public.privacy_requests r SET status = 'pending', updated_at = $2
     WHERE r.id = ANY ($1::uuid[]) AND r.type = 'deletion' AND r.status = 'processing'
       AND NOT EXISTS (SELECT 1 FROM public.privacy_webhook_deliveries d WHERE d.request_id = r.id AND d.requires_ack
                       AND d.status NOT IN ('acknowledged', 'cancelled'))
     RETURNING r.id`,
    [ids, now],
  );
  for (const row of rows) {
    await recordAuditEvent(tx, {
      actor: { type: 'system', id: null },
      action: 'privacy.erasure.acknowledged',
      target: { type: 'privacy_request', id: row.id },
      occurredAt: now,
    });
  }
  return rows.map((row) => row.id);
}

/**
 * An endpoint stops counting: `cancel` (disabled or deleted) cancels its queued deliveries and its
 * failed gating ones; `no_ack` (requireAck turned off) keeps sending but gates nothing. Erasures
 * that waited only on it resume.
 */
export async function releaseEndpointDeliveries(
  tx: TenantTx,
  endpointId: string,
  mode: 'cancel' | 'no_ack',
  now: Date,
): Promise<void> {
  const { rows } =
    mode === 'cancel'
      ? await tx.client.query<{ request_id: string; requires_ack: boolean }>(
          `UPDATE public.privacy_webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, last_error = 'endpoint disabled or deleted', updated_at = $2
       WHERE endpoint_id = $1 AND (status = 'pending' OR (status = 'failed' AND requires_ack)) RETURNING request_id, requires_ack`,
          [endpointId, now],
        )
      : await tx.client.query<{ request_id: string; requires_ack: boolean }>(
          `UPDATE public.privacy_webhook_deliveries SET requires_ack = false, updated_at = $2
       WHERE endpoint_id = $1 AND requires_ack AND status NOT IN ('acknowledged', 'cancelled') RETURNING request_id, true AS requires_ack`,
          [endpointId, now],
        );
  await resumeAcknowledgedErasures(
    tx,
    rows.filter((r) => r.requires_ack).map((r) => r.request_id),
    now,
  );
}

/**
 * Explicit acknowledgement of a gating `privacy.erasure.started` delivery, by staff or a key with
 * privacy:write, e.g. after a delivery failed for good and the tenant confirmed the erasure by
 * other means. Idempotent; audited.
 */
export async function acknowledgeWebhookDelivery(
  tx: TenantTx,
  actor: PrivacyActor,
  deliveryId: string,
  now: Date,
): Promise<{ status: WebhookDeliveryStatus; resumed: boolean }> {
  const { rows } = await tx.client.query<{
    id: string;
    request_id: string;
    status: WebhookDeliveryStatus;
    requires_ack: boolean;
  }>(
    'SELECT id, request_id, status, requires_ack FROM public.privacy_webhook_deliveries WHERE id = $1 FOR UPDATE',
    [deliveryId],
  );
  const delivery = rows[0];
  if (!delivery) throw new AuthError('not_found');
  if (delivery.status === 'acknowledged') return { status: 'acknowledged', resumed: false };
  if (!delivery.requires_ack || delivery.status === 'cancelled') {
    throw new AuthError('conflict', {
      detail: 'Only an erasure waiting for this endpoint can be acknowledged.',
    });
  }
  await tx.client.query(
    `UPDATE public.privacy_webhook_deliveries SET status = 'acknowledged', acknowledged_at = $2, acknowledged_by_type = $3, acknowledged_by = $4,
       next_attempt_at = NULL, updated_at = $2 WHERE id = $1`,
    [delivery.id, now, actor.type, actor.id],
  );
  await recordAuditEvent(tx, {
    actor: auditActorOf(actor),
    action: 'privacy.webhook.acknowledged',
    target: { type: 'privacy_webhook_delivery', id: delivery.id },
    ...requestMeta(actor),
    metadata: { requestId: delivery.request_id, previousStatus: delivery.status },
    occurredAt: now,
  });
  const resumed = await resumeAcknowledgedErasures(tx, [delivery.request_id], now);
  return { status: 'acknowledged', resumed: resumed.length > 0 };
}
