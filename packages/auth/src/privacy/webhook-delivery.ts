/**
 * One delivery attempt of a privacy webhook (Art. 19; docs/privacy.md "Webhooks"), as
 * steps the queue handler calls: prepare (short transaction), send (no transaction open), record
 * (short transaction). The delivery row is the source of truth: it holds the retry state and a log
 * of every attempt; the queue only carries "attempt this delivery now".
 *
 * Guarantees: only through the guarded fetch (outbound rule at connect time, redirects never
 * followed: a 3xx is a failed attempt), with a timeout; a 2xx delivers, and for a gating
 * `privacy.erasure.started` it is the endpoint's acknowledgement; anything else is retried with
 * exponential backoff (30 s doubling, at most 1 h apart) up to MAX_WEBHOOK_ATTEMPTS, then the
 * delivery is `failed` and audited, and a gated erasure keeps waiting where compliance staff see
 * it. Delivery is at least once: a worker killed after the POST and before recording it sends
 * again, with the same event id (receivers deduplicate on `Tessera-Event-Id`).
 */
import type { Database, TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import type { Keyring } from '../crypto/keyring.js';
import type { FetchLike } from '../outbound/guarded-fetch.js';
import { webhookSecretContext } from './webhook-endpoints.js';
import type { PrivacyWebhookEventType } from './webhook-event-types.js';
import {
  releaseEndpointDeliveries,
  resumeAcknowledgedErasures,
  type WebhookDeliveryStatus,
} from './webhook-events.js';
import {
  signWebhookPayload,
  WEBHOOK_EVENT_ID_HEADER,
  WEBHOOK_EVENT_TYPE_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
} from './webhook-signature.js';

export const MAX_WEBHOOK_ATTEMPTS = 10;
export const WEBHOOK_RETRY_BASE_MS = 30_000;
export const WEBHOOK_RETRY_MAX_MS = 60 * 60_000;
export const WEBHOOK_TIMEOUT_MS = 10_000;

export type PreparedDelivery =
  | {
      status: 'send';
      deliveryId: string;
      url: string;
      secrets: string[];
      body: string;
      eventId: string;
      eventType: PrivacyWebhookEventType;
    }
  | { status: 'skip'; reason: string };

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** Delay before attempt `attempts + 1`, after `attempts` failures. */
export function webhookRetryDelayMs(attempts: number): number {
  return Math.min(WEBHOOK_RETRY_BASE_MS * 2 ** Math.max(attempts - 1, 0), WEBHOOK_RETRY_MAX_MS);
}

interface DueRow {
  id: string;
  status: WebhookDeliveryStatus;
  next_attempt_at: Date | null;
  payload: string;
  event_id: string;
  event_type: PrivacyWebhookEventType;
  request_status: string;
  endpoint_id: string | null;
  url: string | null;
  disabled_at: Date | null;
  secret_ciphertext: string | null;
  previous_secret_ciphertext: string | null;
  previous_secret_expires_at: Date | null;
}

/** Loads a due delivery with its endpoint's secret(s); cancels one whose endpoint is gone or disabled. */
export async function prepareWebhookDelivery(
  tx: TenantTx,
  deliveryId: string,
  keyring: Keyring,
  now: Date,
): Promise<PreparedDelivery> {
  const { rows } = await tx.client.query<DueRow>(
    `SELECT d.id, d.status, d.next_attempt_at, d.payload, d.event_id, d.event_type, r.status AS request_status, d.endpoint_id, e.url, e.disabled_at,
            e.secret_ciphertext, e.previous_secret_ciphertext, e.previous_secret_expires_at
     FROM public.privacy_webhook_deliveries d JOIN public.privacy_requests r ON r.id = d.request_id
     LEFT JOIN public.privacy_webhook_endpoints e ON e.id = d.endpoint_id
     WHERE d.id = $1`,
    [deliveryId],
  );
  const row = rows[0];
  if (!row) return { status: 'skip', reason: 'not_found' };
  if (row.status !== 'pending') return { status: 'skip', reason: row.status };
  if (row.next_attempt_at && row.next_attempt_at > now)
    return { status: 'skip', reason: 'not_due' };
  if (
    row.event_type === 'privacy.erasure.started' &&
    (row.request_status === 'failed' || row.request_status === 'rejected')
  ) {
    // Tessera will not erase: do not tell the tenant's systems to start.
    await tx.client.query(
      `UPDATE public.privacy_webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, last_error = 'request no longer open', updated_at = $2 WHERE id = $1`,
      [row.id, now],
    );
    return { status: 'skip', reason: 'request_closed' };
  }
  if (!row.endpoint_id || !row.url || !row.secret_ciphertext || row.disabled_at) {
    if (row.endpoint_id) await releaseEndpointDeliveries(tx, row.endpoint_id, 'cancel', now);
    else
      await tx.client.query(
        `UPDATE public.privacy_webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = $2 WHERE id = $1`,
        [row.id, now],
      );
    return { status: 'skip', reason: 'endpoint_disabled' };
  }
  const context = webhookSecretContext(tx.tenantId, row.endpoint_id);
  const secrets = [keyring.decryptString(row.secret_ciphertext, context)];
  if (
    row.previous_secret_ciphertext &&
    row.previous_secret_expires_at &&
    row.previous_secret_expires_at > now
  ) {
    secrets.push(keyring.decryptString(row.previous_secret_ciphertext, context));
  }
  return {
    status: 'send',
    deliveryId: row.id,
    url: row.url,
    secrets,
    body: row.payload,
    eventId: row.event_id,
    eventType: row.event_type,
  };
}

/** POSTs the signed body; never throws (the outcome is recorded either way). */
export async function sendWebhook(
  fetch: FetchLike,
  delivery: Extract<PreparedDelivery, { status: 'send' }>,
  now: Date,
  timeoutMs = WEBHOOK_TIMEOUT_MS,
): Promise<AttemptResult> {
  const started = Date.now();
  try {
    const response = await fetch(delivery.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [WEBHOOK_SIGNATURE_HEADER]: signWebhookPayload(delivery.secrets, delivery.body, now),
        [WEBHOOK_EVENT_ID_HEADER]: delivery.eventId,
        [WEBHOOK_EVENT_TYPE_HEADER]: delivery.eventType,
      },
      body: delivery.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;
    return {
      ok,
      statusCode: response.status,
      error: ok ? null : `HTTP ${response.status}`,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    return {
      ok: false,
      statusCode: null,
      error: describeFailure(error),
      durationMs: Date.now() - started,
    };
  }
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return 'request failed';
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out';
  if (error.name === 'OutboundUrlError') return `refused: ${error.message}`;
  const cause = (error as { cause?: { code?: unknown; name?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.name === 'string' && cause.name === 'OutboundUrlError')
    return `refused: ${String(cause.message)}`;
  if (cause && typeof cause.code === 'string') return `connection failed (${cause.code})`;
  return 'request failed';
}

/** Records one attempt: delivered/acknowledged, rescheduled with backoff, or failed for good. */
export async function recordWebhookAttempt(
  tx: TenantTx,
  deliveryId: string,
  result: AttemptResult,
  now: Date,
): Promise<WebhookDeliveryStatus | null> {
  const { rows } = await tx.client.query<{
    id: string;
    status: WebhookDeliveryStatus;
    attempts: number;
    requires_ack: boolean;
    request_id: string;
    endpoint_id: string | null;
    event_type: string;
  }>(
    'SELECT id, status, attempts, requires_ack, request_id, endpoint_id, event_type FROM public.privacy_webhook_deliveries WHERE id = $1 FOR UPDATE',
    [deliveryId],
  );
  const row = rows[0];
  if (!row || row.status !== 'pending') return row?.status ?? null;
  const attempts = row.attempts + 1;
  const entry = {
    attempt: attempts,
    at: now.toISOString(),
    statusCode: result.statusCode,
    error: result.error,
    durationMs: result.durationMs,
  };
  const status: WebhookDeliveryStatus = result.ok
    ? row.requires_ack
      ? 'acknowledged'
      : 'delivered'
    : attempts >= MAX_WEBHOOK_ATTEMPTS
      ? 'failed'
      : 'pending';
  const next =
    status === 'pending' ? new Date(now.getTime() + webhookRetryDelayMs(attempts)) : null;
  await tx.client.query(
    `UPDATE public.privacy_webhook_deliveries SET status = $2::text, attempts = $3, attempt_log = attempt_log || jsonb_build_array($4::jsonb),
       last_status_code = $5, last_error = $6, next_attempt_at = $7::timestamptz, delivered_at = CASE WHEN $8::boolean THEN $9::timestamptz ELSE delivered_at END,
       acknowledged_at = CASE WHEN $2::text = 'acknowledged' THEN $9 ELSE acknowledged_at END,
       acknowledged_by_type = CASE WHEN $2::text = 'acknowledged' THEN 'response' ELSE acknowledged_by_type END, updated_at = $9
     WHERE id = $1`,
    [
      row.id,
      status,
      attempts,
      JSON.stringify(entry),
      result.statusCode,
      result.error?.slice(0, 200) ?? null,
      next,
      result.ok,
      now,
    ],
  );
  if (status === 'acknowledged') await resumeAcknowledgedErasures(tx, [row.request_id], now);
  if (status === 'failed') {
    await recordAuditEvent(tx, {
      actor: { type: 'system', id: null },
      action: 'privacy.webhook.delivery_failed',
      target: { type: 'privacy_webhook_delivery', id: row.id },
      metadata: {
        endpointId: row.endpoint_id,
        requestId: row.request_id,
        eventType: row.event_type,
        attempts,
        lastError: result.error,
        blocksErasure: row.requires_ack,
      },
      occurredAt: now,
    });
  }
  return status;
}

/** Deliveries due now (database clock), across tenants, as (tenant, id) only (SECURITY DEFINER listing). */
export async function listDueWebhookDeliveries(
  pool: Pick<Database['pool'], 'query'>,
  limit: number,
): Promise<{ tenantId: string; id: string }[]> {
  const { rows } = await pool.query<{ tenant_id: string; id: string }>(
    'SELECT tenant_id, id FROM public.privacy_webhook_deliveries_due($1)',
    [limit],
  );
  return rows.map((row) => ({ tenantId: row.tenant_id, id: row.id }));
}
