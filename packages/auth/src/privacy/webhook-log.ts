/**
 * The webhook delivery log as staff see it (privacy.webhooks.deliveries), and key rotation of
 * webhook secrets. The log holds ids, event types and attempt outcomes only: no body, no secret.
 */
import { withTenant, type Database, type TenantTx } from '@tessera/db';
import type { Keyring } from '../crypto/keyring.js';
import type { RotationOptions } from '../maintenance/rotate-secrets.js';
import { AuthError } from '../errors.js';
import { webhookSecretContext } from './webhook-endpoints.js';
import type { PrivacyWebhookEvent } from './webhook-event-types.js';
import type { WebhookDeliveryStatus } from './webhook-events.js';

export interface WebhookAttemptView {
  attempt: number;
  at: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface WebhookDeliveryView {
  id: string;
  endpointId: string | null;
  requestId: string;
  eventId: string;
  eventType: PrivacyWebhookEvent;
  status: WebhookDeliveryStatus;
  /** This delivery holds the request's erasure until acknowledged. */
  requiresAck: boolean;
  attempts: number;
  attemptLog: WebhookAttemptView[];
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: { type: 'response' | 'user' | 'api_key'; id: string | null } | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookDeliveryFilter {
  endpointId?: string | undefined;
  requestId?: string | undefined;
  status?: WebhookDeliveryStatus | undefined;
  cursor?: string | undefined;
  /** 1..100, default 50. */
  limit?: number | undefined;
}

interface DeliveryRow {
  id: string;
  endpoint_id: string | null;
  request_id: string;
  event_id: string;
  event_type: PrivacyWebhookEvent;
  status: WebhookDeliveryStatus;
  requires_ack: boolean;
  attempts: number;
  attempt_log: WebhookAttemptView[];
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  delivered_at: Date | null;
  acknowledged_at: Date | null;
  acknowledged_by_type: 'response' | 'user' | 'api_key' | null;
  acknowledged_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;
const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)_([0-9a-f-]{36})$/;

function view(row: DeliveryRow): WebhookDeliveryView {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    requestId: row.request_id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    requiresAck: row.requires_ack,
    attempts: row.attempts,
    attemptLog: row.attempt_log,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    nextAttemptAt: iso(row.next_attempt_at),
    deliveredAt: iso(row.delivered_at),
    acknowledgedAt: iso(row.acknowledged_at),
    acknowledgedBy: row.acknowledged_by_type
      ? { type: row.acknowledged_by_type, id: row.acknowledged_by }
      : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listWebhookDeliveries(
  tx: TenantTx,
  filter: WebhookDeliveryFilter,
): Promise<{ items: WebhookDeliveryView[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(Math.trunc(filter.limit ?? 50), 1), 100);
  let before: { at: Date; id: string } | null = null;
  if (filter.cursor !== undefined) {
    const match = CURSOR.exec(filter.cursor);
    if (!match?.[1] || !match[2]) throw new AuthError('invalid_input', { field: 'cursor' });
    before = { at: new Date(match[1]), id: match[2] };
  }
  const { rows } = await tx.client.query<DeliveryRow>(
    `SELECT id, endpoint_id, request_id, event_id, event_type, status, requires_ack, attempts, attempt_log, last_status_code, last_error,
            next_attempt_at, delivered_at, acknowledged_at, acknowledged_by_type, acknowledged_by, created_at, updated_at
     FROM public.privacy_webhook_deliveries
     WHERE ($1::uuid IS NULL OR endpoint_id = $1) AND ($2::uuid IS NULL OR request_id = $2) AND ($3::text IS NULL OR status = $3)
       AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $6`,
    [
      filter.endpointId ?? null,
      filter.requestId ?? null,
      filter.status ?? null,
      before?.at ?? null,
      before?.id ?? null,
      limit + 1,
    ],
  );
  const page = rows.slice(0, limit).map(view);
  const last = page.at(-1);
  return {
    items: page,
    nextCursor: rows.length > limit && last ? `${last.createdAt}_${last.id}` : null,
  };
}

/** Re-encrypts every endpoint secret under the ring's first key; idempotent (docs/design.md "Secrets"). */
export async function reencryptWebhookSecrets(
  db: Database,
  keyring: Keyring,
  options: RotationOptions = {},
): Promise<{ checked: number; reencrypted: number }> {
  const { rows } = await db.pool.query<{ tenant_id: string; id: string }>(
    'SELECT tenant_id, id FROM public.list_privacy_webhook_encrypted_rows()',
  );
  let reencrypted = 0;
  let checked = 0;
  for (const ref of rows) {
    if (options.signal?.aborted) break;
    reencrypted += await withTenant(db, ref.tenant_id, async (tx) => {
      const { rows: found } = await tx.client.query<{
        secret_ciphertext: string;
        previous_secret_ciphertext: string | null;
      }>(
        'SELECT secret_ciphertext, previous_secret_ciphertext FROM public.privacy_webhook_endpoints WHERE id = $1 FOR UPDATE',
        [ref.id],
      );
      const row = found[0];
      if (!row) return 0;
      const context = webhookSecretContext(ref.tenant_id, ref.id);
      const current = keyring.needsRotation(row.secret_ciphertext)
        ? keyring.reencrypt(row.secret_ciphertext, context)
        : null;
      const previous =
        row.previous_secret_ciphertext && keyring.needsRotation(row.previous_secret_ciphertext)
          ? keyring.reencrypt(row.previous_secret_ciphertext, context)
          : null;
      if (!current && !previous) return 0;
      await tx.client.query(
        'UPDATE public.privacy_webhook_endpoints SET secret_ciphertext = coalesce($2, secret_ciphertext), previous_secret_ciphertext = coalesce($3, previous_secret_ciphertext) WHERE id = $1',
        [ref.id, current, previous],
      );
      return 1;
    });
    checked += 1;
    await options.onProgress?.(checked, rows.length);
  }
  return { checked, reencrypted };
}
