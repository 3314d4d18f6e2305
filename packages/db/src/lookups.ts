/** Typed calls to the SECURITY DEFINER lookups made before the tenant is known (DESIGN rule 3). */
import type pg from 'pg';

export interface TenantRef {
  id: string;
  slug: string;
  name: string;
}

export async function lookupTenantBySlug(pool: pg.Pool | pg.PoolClient, slug: string): Promise<TenantRef | null> {
  const { rows } = await pool.query<TenantRef>('SELECT id, slug, name FROM public.lookup_tenant_by_slug($1)', [slug]);
  return rows[0] ?? null;
}
