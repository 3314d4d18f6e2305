-- Verified domains and SAML (docs/domains.md "Require SSO", "Routing by e-mail domain"): an
-- enabled SAML connection counts as the tenant's SSO, as the OIDC connection does.
--
-- route_email_domain now also names the connection to start: none (the tenant's own OIDC
-- connection, preferred while it is enabled) or the first enabled SAML connection (oldest
-- created_at, then id). Its result gains a column, which CREATE OR REPLACE cannot do, so the
-- function is dropped and created again in this file's transaction (callers never see it
-- missing) with the same grants; callers that select tenant_id, slug keep working.
DROP FUNCTION public.route_email_domain(text);
CREATE FUNCTION public.route_email_domain(p_domain text)
  RETURNS TABLE (tenant_id uuid, slug text, saml_connection_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT t.id, t.slug, CASE WHEN s.tenant_id IS NULL THEN c.id END
      FROM public.tenant_domains d
      JOIN public.tenants t ON t.id = d.tenant_id
      LEFT JOIN public.sso_settings s ON s.tenant_id = d.tenant_id AND s.enabled
      LEFT JOIN LATERAL (
        SELECT c.id FROM public.saml_connections c
         WHERE c.tenant_id = d.tenant_id AND c.enabled
         ORDER BY c.created_at, c.id
         LIMIT 1) c ON true
     WHERE d.domain = p_domain AND d.verified_at IS NOT NULL
       AND (s.tenant_id IS NOT NULL OR c.id IS NOT NULL)
  $$;
REVOKE EXECUTE ON FUNCTION public.route_email_domain(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.route_email_domain(text) TO tessera_app;
