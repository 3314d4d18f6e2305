/**
 * Typed calls to the SECURITY DEFINER functions of migrations/0008_privacy.sql. The download link
 * is found by the exact hash of its token before the tenant is known (docs/design.md rule 3); background
 * work lists only (tenant_id, id) across tenants and then works inside withTenant.
 */
import type pg from 'pg';
import type { PrivacyRequestType } from './schema/privacy.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface TenantRowRef {
  tenantId: string;
  id: string;
}

/** NOTIFY channel announcing that a request became pending (payload: its type). */
export const PRIVACY_REQUESTS_CHANNEL = 'tessera_privacy_requests';

async function refs(pool: Queryable, text: string, values: unknown[]): Promise<TenantRowRef[]> {
  const { rows } = await pool.query<{ tenant_id: string; id: string }>(text, values);
  return rows.map((row) => ({ tenantId: row.tenant_id, id: row.id }));
}

/** The download link whose token hashes to `tokenHash` (SHA-256), or null. */
export async function lookupPrivacyDownload(
  pool: Queryable,
  tokenHash: Buffer,
): Promise<TenantRowRef | null> {
  return (
    (
      await refs(pool, 'SELECT tenant_id, id FROM public.lookup_privacy_download($1)', [tokenHash])
    )[0] ?? null
  );
}

// Every listing below is measured on the database clock (docs/design.md "Decisions"): a caller chooses
// durations, never the time itself.

/** Pending requests of one type, and processing ones untouched for `staleSeconds`, oldest first (max 1000). */
export function listDuePrivacyRequests(
  pool: Queryable,
  type: PrivacyRequestType,
  staleSeconds: number,
  limit: number,
): Promise<TenantRowRef[]> {
  return refs(pool, 'SELECT tenant_id, id FROM public.privacy_requests_due($1, $2, $3)', [
    type,
    Math.ceil(staleSeconds),
    limit,
  ]);
}

/** Requests whose export file has expired and still has chunks. */
export function listExpiredPrivacyExports(pool: Queryable, limit: number): Promise<TenantRowRef[]> {
  return refs(pool, 'SELECT tenant_id, id FROM public.privacy_exports_expired($1)', [limit]);
}

/** Download links that have expired. */
export function listExpiredPrivacyDownloadTokens(
  pool: Queryable,
  limit: number,
): Promise<TenantRowRef[]> {
  return refs(pool, 'SELECT tenant_id, id FROM public.privacy_download_tokens_expired($1)', [
    limit,
  ]);
}

/** Open requests due within `withinSeconds` (at most 30 days) whose compliance reminder has not gone out yet. */
export function listPrivacyRemindersDue(
  pool: Queryable,
  withinSeconds: number,
  limit: number,
): Promise<TenantRowRef[]> {
  return refs(pool, 'SELECT tenant_id, id FROM public.privacy_reminders_due($1, $2)', [
    Math.floor(withinSeconds),
    limit,
  ]);
}

/** Every erasure on record as (tenant, request id), oldest first: replayed after a restore. */
export function listErasureLedger(pool: Queryable): Promise<TenantRowRef[]> {
  return refs(pool, 'SELECT tenant_id, id FROM public.privacy_erasure_ledger_entries()', []);
}

/** Delivered erasure confirmations (their rows still name the erased subject's address). */
export function listSentErasureConfirmations(
  pool: Queryable,
  limit: number,
): Promise<TenantRowRef[]> {
  return refs(pool, 'SELECT tenant_id, id FROM public.privacy_confirmations_sent($1)', [limit]);
}
