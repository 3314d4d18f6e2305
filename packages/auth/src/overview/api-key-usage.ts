/**
 * Calls and refusals per API key over the last 30 days. Tessera does not count every request a
 * key makes (a write per request would sit on the hot path; `last_used_at` is written at most once
 * a minute), so "calls" are the audited actions the key performed: every change it made and every
 * audit-log read (`actor_type = 'api_key'`), refusals excluded. Refusals are exact: the key's
 * `api_key.refused` events (one per refusal they report themselves, plus the
 * `refusalsSinceLastEvent` each carries, docs/api-keys.md "Refusals") plus the refusals that the
 * tally holds and no event has reported yet. Live keys and keys revoked within the window are
 * listed, busiest first; `lastUsedAt` shows keys that read without writing.
 */
import type { TenantTx } from '@tessera/db';
import { OVERVIEW_DAYS } from './sign-in-activity.js';

export interface ApiKeyUsage {
  id: string;
  name: string;
  prefix: string;
  type: 'publishable' | 'secret';
  environment: 'live' | 'test';
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  expiresAt: string | null;
  /** Audited actions by the key in the window (refusals excluded). */
  calls: number;
  refusals: number;
}

export const MAX_OVERVIEW_KEYS = 200;
const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const at = (column: string): string => `pg_catalog.to_char(${column} AT TIME ZONE 'UTC', ${ISO})`;

// Calls: one range per key on the partial index audit_logs_tenant_key_actor_idx (whose predicate
// this WHERE repeats, so the planner may use it). Refusals: the action index (tenant_id, action,
// seq); refusal events are few (at most one per key and reason per interval).
const SQL = `
  SELECT k.id::text AS id, k.name, k.prefix, k.type, k.environment, ${at('k.created_at')} AS "createdAt",
         ${at('k.last_used_at')} AS "lastUsedAt", ${at('k.revoked_at')} AS "revokedAt",
         ${at('k.expires_at')} AS "expiresAt", c.calls,
         (coalesce(r.refusals, 0) + coalesce(p.pending, 0))::int AS refusals
  FROM public.api_keys k
  CROSS JOIN LATERAL (
    SELECT count(*)::int AS calls FROM public.audit_logs l
    WHERE l.actor_type = 'api_key' AND l.action <> 'api_key.refused'
      AND l.actor_id = k.id::text AND l.occurred_at >= $1) c
  LEFT JOIN (
    SELECT l.target_id,
           sum(CASE WHEN l.metadata->>'summaryOnly' = 'true' THEN 0 ELSE 1 END
               + coalesce((l.metadata->>'refusalsSinceLastEvent')::int, 0)) AS refusals
    FROM public.audit_logs l
    WHERE l.action = 'api_key.refused' AND l.occurred_at >= $1
    GROUP BY l.target_id) r ON r.target_id = k.id::text
  LEFT JOIN (
    SELECT t.api_key_id, sum(t.suppressed) AS pending FROM public.api_key_refusal_tallies t
    WHERE t.suppressed > 0 GROUP BY t.api_key_id) p ON p.api_key_id = k.id
  WHERE k.revoked_at IS NULL OR k.revoked_at >= $1
  ORDER BY c.calls + coalesce(r.refusals, 0) + coalesce(p.pending, 0) DESC, k.name, k.id
  LIMIT ${MAX_OVERVIEW_KEYS}`;

export async function apiKeyUsage(
  tx: TenantTx,
  now: Date,
): Promise<{ since: string; keys: ApiKeyUsage[] }> {
  const since = new Date(now.getTime() - OVERVIEW_DAYS * 86_400_000);
  const { rows } = await tx.client.query<ApiKeyUsage>({
    name: 'tessera_overview_api_keys',
    text: SQL,
    values: [since],
  });
  return { since: since.toISOString(), keys: rows };
}
