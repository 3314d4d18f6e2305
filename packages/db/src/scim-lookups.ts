/**
 * Typed call to the SECURITY DEFINER function of migrations/0027_scim.sql (docs/design.md rule 3): a
 * SCIM bearer token is found by the exact hashes of the presented token, before the tenant is known.
 */
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

export interface ScimTokenLookup {
  id: string;
  tenantId: string;
}

/** One round trip: the live (unrevoked) token whose stored hash is any of `tokenHashes` (max 4). */
export async function useScimToken(
  pool: Queryable,
  tokenHashes: readonly Buffer[],
): Promise<ScimTokenLookup | null> {
  const { rows } = await pool.query<{ id: string; tenant_id: string }>({
    name: 'tessera_use_scim_token',
    text: 'SELECT id, tenant_id FROM public.use_scim_token($1)',
    values: [tokenHashes],
  });
  const row = rows[0];
  return row ? { id: row.id, tenantId: row.tenant_id } : null;
}
