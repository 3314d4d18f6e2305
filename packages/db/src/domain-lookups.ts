/**
 * Typed calls to the SECURITY DEFINER functions of migrations/0026_verified_domains.sql and
 * 0033_domain_saml_routing.sql (docs/design.md rule 3 and "Decisions"): sign-in routing by e-mail domain before the tenant is
 * known, and the daily re-check's list of (tenant_id, id).
 */
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * The tenant holding this exact, normalised domain with SSO enabled, or null; and the SAML
 * connection to start, or null for the tenant's own OIDC connection (preferred while enabled).
 */
export async function routeEmailDomain(
  pool: Queryable,
  domain: string,
): Promise<{ tenantId: string; slug: string; samlConnectionId: string | null } | null> {
  const { rows } = await pool.query<{
    tenant_id: string;
    slug: string;
    saml_connection_id: string | null;
  }>('SELECT tenant_id, slug, saml_connection_id FROM public.route_email_domain($1)', [domain]);
  const row = rows[0];
  return row
    ? { tenantId: row.tenant_id, slug: row.slug, samlConnectionId: row.saml_connection_id }
    : null;
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
