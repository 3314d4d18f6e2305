/**
 * Typed calls to the SECURITY DEFINER functions of migrations/0007_api_keys.sql (docs/design.md rule 3):
 * API keys are found by the exact hashes of the presented key, before the tenant is known.
 */
import type pg from 'pg';
import type { ApiKeyEnvironment, ApiKeyType } from './schema/api-keys.js';

/** Postgres NOTIFY channel on which every change that can invalidate a cached key is announced. */
export const API_KEY_CHANGES_CHANNEL = 'tessera_api_keys';

type Queryable = Pick<pg.Pool, 'query'>;

export interface ApiKeyLookup {
  id: string;
  tenantId: string;
  type: ApiKeyType;
  environment: ApiKeyEnvironment;
  prefix: string;
  pepperVersion: string;
  scopes: string[];
  allowedCidrs: string[];
  rateLimit: { max: number; windowSeconds: number } | null;
  hasQuota: boolean;
  expiresAt: Date | null;
  revoked: boolean;
}

interface LookupRow {
  id: string;
  tenant_id: string;
  type: ApiKeyType;
  environment: ApiKeyEnvironment;
  prefix: string;
  pepper_version: string;
  scopes: string[];
  allowed_cidrs: string[];
  rate_limit_max: number | null;
  rate_limit_window_seconds: number | null;
  has_quota: boolean;
  expires_at: Date | null;
  revoked: boolean;
}

/** One round trip: the key whose stored hash is any of `keyHashes` (one per pepper version, max 4). */
export async function lookupApiKey(
  pool: Queryable,
  keyHashes: readonly Buffer[],
): Promise<ApiKeyLookup | null> {
  const { rows } = await pool.query<LookupRow>({
    name: 'tessera_lookup_api_key',
    text: 'SELECT * FROM public.lookup_api_key($1)',
    values: [keyHashes],
  });
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    tenantId: row.tenant_id,
    type: row.type,
    environment: row.environment,
    prefix: row.prefix,
    pepperVersion: row.pepper_version,
    scopes: row.scopes,
    allowedCidrs: row.allowed_cidrs,
    rateLimit:
      row.rate_limit_max !== null && row.rate_limit_window_seconds !== null
        ? { max: row.rate_limit_max, windowSeconds: row.rate_limit_window_seconds }
        : null,
    hasQuota: row.has_quota,
    expiresAt: row.expires_at,
    revoked: row.revoked,
  };
}

export interface QuotaDecision {
  allowed: boolean;
  remaining: number;
  /** Seconds until the next refill; null when the quota never refills. */
  retryAfterSeconds: number | null;
}

/**
 * Takes `cost` uses from a live key's quota atomically (refills are due by the database clock);
 * null when no live key has that hash.
 */
export async function consumeApiKeyQuota(
  pool: Queryable,
  keyHash: Buffer,
  cost: number,
): Promise<QuotaDecision | null> {
  const { rows } = await pool.query<{
    allowed: boolean;
    remaining: number;
    retry_after_seconds: number | null;
  }>({
    name: 'tessera_consume_api_key_quota',
    text: 'SELECT * FROM public.consume_api_key_quota($1, $2)',
    values: [keyHash, cost],
  });
  const row = rows[0];
  return row
    ? { allowed: row.allowed, remaining: row.remaining, retryAfterSeconds: row.retry_after_seconds }
    : null;
}

export interface ApiKeyUse {
  keyHash: Buffer;
  ip: string | null;
}

/**
 * Records last use, stamped with the database clock at the write (at most once a minute per key,
 * enforced in SQL); returns the rows written.
 */
export async function touchApiKeys(pool: Queryable, uses: readonly ApiKeyUse[]): Promise<number> {
  if (uses.length === 0) return 0;
  const { rows } = await pool.query<{ touched: number }>(
    'SELECT public.touch_api_keys($1::bytea[], $2::inet[]) AS touched',
    [uses.map((u) => u.keyHash), uses.map((u) => u.ip)],
  );
  return rows[0]?.touched ?? 0;
}

/** Moves a key verified under a retired pepper to the current one; false when nothing changed. */
export async function rehashApiKey(
  pool: Queryable,
  oldHash: Buffer,
  newHash: Buffer,
  pepperVersion: string,
): Promise<boolean> {
  const { rows } = await pool.query<{ done: boolean }>(
    'SELECT public.rehash_api_key($1, $2, $3) AS done',
    [oldHash, newHash, pepperVersion],
  );
  return rows[0]?.done === true;
}

export interface PendingRefusalTally {
  tenantId: string;
  apiKeyId: string;
  reason: string;
}

/** Keys with refusals no audit event has reported yet, across tenants (migration 0021); ids only. */
export async function listPendingRefusalTallies(
  pool: Queryable,
  limit: number,
): Promise<PendingRefusalTally[]> {
  const { rows } = await pool.query<{ tenant_id: string; api_key_id: string; reason: string }>(
    'SELECT tenant_id, api_key_id, reason FROM public.api_key_refusal_tallies_pending($1)',
    [limit],
  );
  return rows.map((r) => ({ tenantId: r.tenant_id, apiKeyId: r.api_key_id, reason: r.reason }));
}
