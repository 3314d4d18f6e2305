/**
 * A tenant's privacy webhook endpoints (Art. 19; docs/privacy.md "Webhooks").
 *
 * Guarantees: every URL passes the outbound rule (outbound/outbound-url.ts: https and public addresses
 * in production) before it is stored; the signing secret is shown once (create, rotate) and
 * stored only as keyring ciphertext bound to (purpose, tenant, endpoint id); every change is
 * audited in its transaction; RLS keeps tenants apart (another tenant's id is "not found").
 * Disabling, deleting or dropping `requireAck` releases the erasures that waited on the endpoint.
 */
import { randomUUID } from 'node:crypto';
import type { TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import type { Keyring } from '../crypto/keyring.js';
import { randomToken } from '../crypto/tokens.js';
import { AuthError } from '../errors.js';
import { checkOutboundUrl, type OutboundPolicy, type Resolver } from '../outbound/outbound-url.js';
import { auditActorOf, requestMeta, type PrivacyActor } from './actor.js';
import { releaseEndpointDeliveries } from './webhook-events.js';
import { PRIVACY_WEBHOOK_EVENTS, type PrivacyWebhookEvent } from './webhook-event-types.js';

export const WEBHOOK_SECRET_PURPOSE = 'privacy.webhook_secret';
export const MAX_WEBHOOK_ENDPOINTS = 20;

export interface WebhookDeps {
  keyring: Keyring;
  outbound: OutboundPolicy;
  now: Date;
  /** DNS resolver for the URL check (tests). */
  resolve?: Resolver;
}

export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string | null;
  events: PrivacyWebhookEvent[];
  requireAck: boolean;
  enabled: boolean;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  secretRotatedAt: string | null;
  /** Until then the previous secret signs too (rotation grace). */
  previousSecretExpiresAt: string | null;
  disabledAt: string | null;
}

export interface NewWebhookEndpoint {
  url: string;
  description?: string | undefined;
  events?: readonly PrivacyWebhookEvent[] | undefined;
  requireAck?: boolean | undefined;
}

export interface WebhookEndpointChange {
  id: string;
  url?: string | undefined;
  description?: string | null | undefined;
  events?: readonly PrivacyWebhookEvent[] | undefined;
  requireAck?: boolean | undefined;
  enabled?: boolean | undefined;
}

interface EndpointRow {
  id: string;
  url: string;
  description: string | null;
  events: PrivacyWebhookEvent[];
  require_ack: boolean;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  secret_rotated_at: Date | null;
  previous_secret_expires_at: Date | null;
  disabled_at: Date | null;
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

function view(row: EndpointRow): WebhookEndpointView {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    requireAck: row.require_ack,
    enabled: row.disabled_at === null,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    secretRotatedAt: iso(row.secret_rotated_at),
    previousSecretExpiresAt: iso(row.previous_secret_expires_at),
    disabledAt: iso(row.disabled_at),
  };
}

/** A new signing secret: `whsec_` + 32 random bytes (base64url). */
function newWebhookSecret(): string {
  return `whsec_${randomToken(32)}`;
}

export function webhookSecretContext(
  tenantId: string,
  endpointId: string,
): { purpose: string; tenantId: string; rowId: string } {
  return { purpose: WEBHOOK_SECRET_PURPOSE, tenantId, rowId: endpointId };
}

function checkEvents(
  events: readonly PrivacyWebhookEvent[],
  requireAck: boolean,
): PrivacyWebhookEvent[] {
  const unique = PRIVACY_WEBHOOK_EVENTS.filter((event) => events.includes(event));
  if (unique.length === 0)
    throw new AuthError('invalid_input', {
      detail: 'Subscribe to at least one event.',
      field: 'events',
    });
  if (requireAck && !unique.includes('privacy.erasure.started')) {
    throw new AuthError('invalid_input', {
      detail: 'An endpoint that acknowledges erasures must receive privacy.erasure.started.',
      field: 'requireAck',
    });
  }
  return unique;
}

async function findEndpoint(tx: TenantTx, id: string): Promise<EndpointRow> {
  const { rows } = await tx.client.query<EndpointRow>(
    `SELECT id, url, description, events, require_ack, created_by, created_at, updated_at, secret_rotated_at, previous_secret_expires_at, disabled_at FROM public.privacy_webhook_endpoints WHERE id = $1 FOR UPDATE`,
    [id],
  );
  if (!rows[0]) throw new AuthError('not_found');
  return rows[0];
}

async function audit(
  tx: TenantTx,
  actor: PrivacyActor,
  action: string,
  id: string,
  now: Date,
  change: { before?: WebhookEndpointView; after?: WebhookEndpointView },
): Promise<void> {
  const shape = (v: WebhookEndpointView | undefined) =>
    v && {
      url: v.url,
      events: v.events,
      requireAck: v.requireAck,
      enabled: v.enabled,
      description: v.description,
    };
  await recordAuditEvent(tx, {
    actor: auditActorOf(actor),
    action,
    target: { type: 'privacy_webhook', id },
    ...requestMeta(actor),
    ...(change.before ? { before: shape(change.before) ?? null } : {}),
    ...(change.after ? { after: shape(change.after) ?? null } : {}),
    occurredAt: now,
  });
}

export async function createWebhookEndpoint(
  tx: TenantTx,
  actor: PrivacyActor,
  input: NewWebhookEndpoint,
  deps: WebhookDeps,
): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  const url = await checkOutboundUrl(input.url, deps.outbound, 'url', deps.resolve);
  const requireAck = input.requireAck ?? false;
  const events = checkEvents(input.events ?? PRIVACY_WEBHOOK_EVENTS, requireAck);
  const { rows: count } = await tx.client.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM public.privacy_webhook_endpoints',
  );
  if ((count[0]?.n ?? 0) >= MAX_WEBHOOK_ENDPOINTS)
    throw new AuthError('conflict', {
      detail: `At most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints per tenant.`,
    });
  const id = randomUUID();
  const secret = newWebhookSecret();
  const sealed = deps.keyring.encrypt(secret, webhookSecretContext(tx.tenantId, id));
  const { rows } = await tx.client.query<EndpointRow>(
    `INSERT INTO public.privacy_webhook_endpoints (id, tenant_id, url, description, secret_ciphertext, events, require_ack, created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id, url, description, events, require_ack, created_by, created_at, updated_at, secret_rotated_at, previous_secret_expires_at, disabled_at`,
    [
      id,
      tx.tenantId,
      url.href,
      input.description ?? null,
      sealed,
      events,
      requireAck,
      actor.type === 'user' ? actor.id : null,
      deps.now,
    ],
  );
  const endpoint = view(rows[0] as EndpointRow);
  await audit(tx, actor, 'privacy.webhook.created', id, deps.now, { after: endpoint });
  return { endpoint, secret };
}

export async function listWebhookEndpoints(tx: TenantTx): Promise<WebhookEndpointView[]> {
  const { rows } = await tx.client.query<EndpointRow>(
    `SELECT id, url, description, events, require_ack, created_by, created_at, updated_at, secret_rotated_at, previous_secret_expires_at, disabled_at FROM public.privacy_webhook_endpoints ORDER BY created_at, id`,
  );
  return rows.map(view);
}

export async function updateWebhookEndpoint(
  tx: TenantTx,
  actor: PrivacyActor,
  input: WebhookEndpointChange,
  deps: WebhookDeps,
): Promise<WebhookEndpointView> {
  const row = await findEndpoint(tx, input.id);
  const url =
    input.url === undefined
      ? row.url
      : (await checkOutboundUrl(input.url, deps.outbound, 'url', deps.resolve)).href;
  const requireAck = input.requireAck ?? row.require_ack;
  const events = checkEvents(input.events ?? row.events, requireAck);
  const disabledAt =
    input.enabled === undefined
      ? row.disabled_at
      : input.enabled
        ? null
        : (row.disabled_at ?? deps.now);
  const description = input.description === undefined ? row.description : input.description;
  const { rows } = await tx.client.query<EndpointRow>(
    `UPDATE public.privacy_webhook_endpoints SET url = $2, description = $3, events = $4, require_ack = $5, disabled_at = $6, updated_at = $7
     WHERE id = $1 RETURNING id, url, description, events, require_ack, created_by, created_at, updated_at, secret_rotated_at, previous_secret_expires_at, disabled_at`,
    [row.id, url, description, events, requireAck, disabledAt, deps.now],
  );
  const before = view(row);
  const after = view(rows[0] as EndpointRow);
  if (!after.enabled) await releaseEndpointDeliveries(tx, row.id, 'cancel', deps.now);
  else if (!after.requireAck) await releaseEndpointDeliveries(tx, row.id, 'no_ack', deps.now);
  await audit(tx, actor, 'privacy.webhook.updated', row.id, deps.now, { before, after });
  return after;
}

export async function deleteWebhookEndpoint(
  tx: TenantTx,
  actor: PrivacyActor,
  id: string,
  now: Date,
): Promise<void> {
  const row = await findEndpoint(tx, id);
  await releaseEndpointDeliveries(tx, row.id, 'cancel', now);
  await tx.client.query('DELETE FROM public.privacy_webhook_endpoints WHERE id = $1', [row.id]);
  await audit(tx, actor, 'privacy.webhook.deleted', row.id, now, { before: view(row) });
}

/** A new secret, shown once; with `graceSeconds` the old one keeps signing until then (max 24 h). */
export async function rotateWebhookSecret(
  tx: TenantTx,
  actor: PrivacyActor,
  input: { id: string; graceSeconds?: number | undefined },
  deps: WebhookDeps,
): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  const row = await findEndpoint(tx, input.id);
  const grace = Math.min(Math.max(Math.trunc(input.graceSeconds ?? 0), 0), 86_400);
  const context = webhookSecretContext(tx.tenantId, row.id);
  const secret = newWebhookSecret();
  let previous: string | null = null;
  if (grace > 0) {
    const { rows } = await tx.client.query<{ secret_ciphertext: string }>(
      'SELECT secret_ciphertext FROM public.privacy_webhook_endpoints WHERE id = $1',
      [row.id],
    );
    previous = rows[0]?.secret_ciphertext ?? null;
  }
  const { rows } = await tx.client.query<EndpointRow>(
    `UPDATE public.privacy_webhook_endpoints SET secret_ciphertext = $2, previous_secret_ciphertext = $3, previous_secret_expires_at = $4,
       secret_rotated_at = $5, updated_at = $5 WHERE id = $1 RETURNING id, url, description, events, require_ack, created_by, created_at, updated_at, secret_rotated_at, previous_secret_expires_at, disabled_at`,
    [
      row.id,
      deps.keyring.encrypt(secret, context),
      previous,
      previous ? new Date(deps.now.getTime() + grace * 1000) : null,
      deps.now,
    ],
  );
  const endpoint = view(rows[0] as EndpointRow);
  await recordAuditEvent(tx, {
    actor: auditActorOf(actor),
    action: 'privacy.webhook.secret_rotated',
    target: { type: 'privacy_webhook', id: row.id },
    ...requestMeta(actor),
    metadata: { graceSeconds: grace },
    occurredAt: deps.now,
  });
  return { endpoint, secret };
}
