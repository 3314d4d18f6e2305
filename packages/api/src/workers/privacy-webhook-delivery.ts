/**
 * Privacy webhook delivery job (Art. 19; docs/privacy.md "Webhooks"; docs/contributing.md convention
 * 16). `handleWebhookDeliveryJob(job, deps)` is a plain function: register-workers.ts is the only
 * code that knows the queue.
 *
 * Guarantees: one attempt per delivery at a time (advisory lock on its own connection, as the GDPR
 * jobs); no transaction is open during the HTTP call; the call goes through the guarded fetch
 * (outbound rule checked at connect time, redirects refused, 10 s timeout); every attempt is
 * recorded in the delivery row, which schedules the next one with exponential backoff. Only
 * database trouble throws (the queue retries the job). Pinned by privacy-webhooks.db.test.ts.
 */
import type { Keyring } from '@tessera/auth';
import {
  listDueWebhookDeliveries,
  prepareWebhookDelivery,
  recordWebhookAttempt,
  sendWebhook,
  WEBHOOK_TIMEOUT_MS,
} from '@tessera/auth/privacy';
import { createGuardedFetch, type FetchLike, type OutboundPolicy } from '@tessera/auth/outbound';
import { withTenant, type Database } from '@tessera/db';
import type { GdprJob, GdprLogger } from './gdpr-job-data.js';
import { withGdprJobLock } from './gdpr-job-lock.js';

export const WEBHOOK_QUEUE = 'privacy-webhook-delivery';
export const WEBHOOK_CHANNEL = 'tessera_privacy_webhooks';

export interface WebhookJobData {
  tenantId: string;
  deliveryId: string;
}

export interface WebhookJobDeps {
  /** Runtime role: RLS applies. */
  database: Database;
  keyring: Keyring;
  /** Outbound URL rule (default: production). */
  outbound?: OutboundPolicy;
  /** Replaces the guarded fetch (tests); it must apply the outbound rule itself. */
  fetch?: FetchLike;
  timeoutMs?: number;
  logger?: GdprLogger;
  now?: () => Date;
}

export type WebhookJobResult = {
  status: 'pending' | 'delivered' | 'acknowledged' | 'failed' | 'cancelled' | 'skipped' | 'locked';
  reason?: string;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function parseWebhookJobData(data: unknown): WebhookJobData {
  const value = (data ?? {}) as Partial<Record<keyof WebhookJobData, unknown>>;
  if (
    typeof value.tenantId !== 'string' ||
    !UUID.test(value.tenantId) ||
    typeof value.deliveryId !== 'string' ||
    !UUID.test(value.deliveryId)
  ) {
    throw new TypeError('webhook job data must be { tenantId, deliveryId } (UUIDs)');
  }
  return { tenantId: value.tenantId, deliveryId: value.deliveryId };
}

const fetchers = new WeakMap<OutboundPolicy, FetchLike>();
const defaultPolicy: OutboundPolicy = { mode: 'production' };

/** One guarded fetch (one connection pool) per policy object. */
function fetchFor(deps: WebhookJobDeps): FetchLike {
  if (deps.fetch) return deps.fetch;
  const policy = deps.outbound ?? defaultPolicy;
  let fetch = fetchers.get(policy);
  if (!fetch) {
    fetch = createGuardedFetch(policy, {
      timeoutMs: deps.timeoutMs ?? WEBHOOK_TIMEOUT_MS,
      userAgent: 'Tessera-Webhooks/1',
    });
    fetchers.set(policy, fetch);
  }
  return fetch;
}

export async function handleWebhookDeliveryJob(
  job: GdprJob,
  deps: WebhookJobDeps,
): Promise<WebhookJobResult> {
  const { tenantId, deliveryId } = parseWebhookJobData(job.data);
  const now = deps.now ?? ((): Date => new Date());
  const result = await withGdprJobLock(
    deps.database,
    deliveryId,
    async (): Promise<WebhookJobResult> => {
      const prepared = await withTenant(deps.database, tenantId, (tx) =>
        prepareWebhookDelivery(tx, deliveryId, deps.keyring, now()),
      );
      if (prepared.status === 'skip') return { status: 'skipped', reason: prepared.reason };
      const attempt = await sendWebhook(
        fetchFor(deps),
        prepared,
        now(),
        deps.timeoutMs ?? WEBHOOK_TIMEOUT_MS,
      );
      const status = await withTenant(deps.database, tenantId, (tx) =>
        recordWebhookAttempt(tx, deliveryId, attempt, now()),
      );
      return status
        ? { status, ...(attempt.error ? { reason: attempt.error } : {}) }
        : { status: 'skipped', reason: 'not_found' };
    },
  );
  const outcome = result ?? { status: 'locked' as const };
  deps.logger?.info(
    { tenantId, deliveryId, status: outcome.status },
    'privacy webhook delivery finished',
  );
  return outcome;
}

/** Sends one job per due delivery (singleton per delivery and minute); returns how many were queued. */
export async function dispatchWebhookDeliveries(
  send: (
    queue: string,
    data: WebhookJobData,
    options: { singletonKey: string; singletonSeconds: number },
  ) => Promise<string | null>,
  database: Database,
): Promise<number> {
  let sent = 0;
  for (const ref of await listDueWebhookDeliveries(database.pool, 100)) {
    if (
      await send(
        WEBHOOK_QUEUE,
        { tenantId: ref.tenantId, deliveryId: ref.id },
        { singletonKey: ref.id, singletonSeconds: 60 },
      )
    )
      sent += 1;
  }
  return sent;
}
