/**
 * Typed calls to the SECURITY DEFINER functions of migrations/0026_verified_domains.sql
 * (docs/design.md rule 3 and "Decisions"): sign-in routing by e-mail domain before the tenant is
 * known, and the daily re-check's list of (tenant_id, id).
 */
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

/** The tenant holding this exact, normalised domain with SSO enabled, or null. */
export async function routeEmailDomain(
  pool: Queryable,
  domain: string,
): Promise<{ tenantId: string; slug: string } | null> {
  const { rows } = await pool.query<{ tenant_id: string; slug: string }>(
    'SELECT tenant_id, slug FROM public.route_email_domain($1)',
    [domain],
  );
  const row = rows[0];
  return row ? { tenantId: row.tenant_id, slug: row.slug } : null;
}

/** Held and suspended domains whose last DNS check is more than a day old (database clock). */
export async function listDueDomainChecks(
  pool: Queryable,
  limit: number,
): Promise<{ tenantId: string; id: string }[]> {
  const { rows } = await pool.query<{ tenant_id: string; id: string }>(
    'SELECT tenant_id, id FROM public.list_due_domain_checks($1)',
    [limit],
  );
  return rows.map((row) => ({ tenantId: row.tenant_id, id: row.id }));
}
