-- Verified domains (docs/domains.md): a tenant proves control of an e-mail domain with a DNS TXT
-- record. Same RLS rules as 0009: RLS enabled and forced, the fail-closed tenant policy, the
-- owner-only policy the SECURITY DEFINER functions need (0005), tenant_id leading every index.
--
-- State, as timestamps: pending (neither set), verified (verified_at: the tenant holds the domain
-- and its settings are in force), suspended (suspended_at: a re-check found the record gone, the
-- hold is released and nothing is enforced until it verifies again).
CREATE TABLE public.tenant_domains (
  id                 uuid NOT NULL DEFAULT gen_random_uuid(),
  tenant_id          uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  -- Lower-case ASCII (IDNA A-labels), no trailing dot; validated in packages/auth/src/domains.
  domain             text NOT NULL CHECK (char_length(domain) BETWEEN 3 AND 253
                       AND domain ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$'),
  -- Published by the tenant in DNS, so not a secret; random, so nobody else's record matches it.
  verification_token text NOT NULL CHECK (verification_token ~ '^[A-Za-z0-9_-]{32,64}$'),
  require_sso        boolean NOT NULL DEFAULT false,
  auto_join          boolean NOT NULL DEFAULT false,
  created_at         timestamptz NOT NULL DEFAULT now(),
  verified_at        timestamptz,
  suspended_at       timestamptz,
  last_checked_at    timestamptz,
  -- tenant_id leads the primary key, so the table could be distributed by tenant (docs/scaling.md).
  CONSTRAINT tenant_domains_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT tenant_domains_tenant_domain_key UNIQUE (tenant_id, domain),
  CONSTRAINT tenant_domains_state_check CHECK (verified_at IS NULL OR suspended_at IS NULL)
);
-- The daily re-check lists held and suspended domains by their last check.
CREATE INDEX tenant_domains_tenant_checked_idx ON public.tenant_domains (tenant_id, last_checked_at);

ALTER TABLE public.tenant_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.tenant_domains FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_domains_isolation ON public.tenant_domains
  USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid));
CREATE POLICY tenant_domains_owner_definer ON public.tenant_domains FOR ALL TO CURRENT_USER
  USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON public.tenant_domains TO tessera_app;

-- One domain, one tenant. A unique index on (domain) across tenants would break the tenant-key
-- rule (packages/db/src/citus-rules.db.test.ts), so the rule is this trigger: it runs as the
-- owner (it must see other tenants' rows), and a transaction-scoped advisory lock per domain
-- serialises two tenants verifying the same name at once; the second sees the first's committed
-- row (a fresh snapshot per statement under READ COMMITTED) and fails with unique_violation.
CREATE FUNCTION public.tenant_domains_hold_once()
  RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('tenant_domains:' || NEW.domain, 0));
  IF EXISTS (SELECT 1 FROM public.tenant_domains d
              WHERE d.domain = NEW.domain AND d.verified_at IS NOT NULL AND d.tenant_id <> NEW.tenant_id) THEN
    RAISE EXCEPTION 'domain is verified by another tenant'
      USING ERRCODE = 'unique_violation', CONSTRAINT = 'tenant_domains_domain_held';
  END IF;
  RETURN NEW;
END
$$;
REVOKE EXECUTE ON FUNCTION public.tenant_domains_hold_once() FROM PUBLIC;
CREATE TRIGGER tenant_domains_hold_once BEFORE INSERT OR UPDATE OF verified_at, domain
  ON public.tenant_domains FOR EACH ROW WHEN (NEW.verified_at IS NOT NULL)
  EXECUTE FUNCTION public.tenant_domains_hold_once();

-- Sign-in routing before the tenant is known (docs/design.md rule 3): an exact, normalised domain
-- in, the tenant's slug out, only for a held (verified, not suspended) domain of a tenant whose
-- own SSO connection is enabled. A pending, suspended or unknown domain answers no row alike.
CREATE FUNCTION public.route_email_domain(p_domain text)
  RETURNS TABLE (tenant_id uuid, slug text)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT t.id, t.slug
      FROM public.tenant_domains d
      JOIN public.tenants t ON t.id = d.tenant_id
      JOIN public.sso_settings s ON s.tenant_id = d.tenant_id AND s.enabled
     WHERE d.domain = p_domain AND d.verified_at IS NOT NULL
  $$;
REVOKE EXECUTE ON FUNCTION public.route_email_domain(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.route_email_domain(text) TO tessera_app;

-- The daily re-check (docs/design.md "Decisions": cross-tenant work lists (tenant_id, id) only,
-- on the database clock): held and suspended domains not checked in the last day.
CREATE FUNCTION public.list_due_domain_checks(p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT d.tenant_id, d.id FROM public.tenant_domains d
     WHERE (d.verified_at IS NOT NULL OR d.suspended_at IS NOT NULL)
       AND (d.last_checked_at IS NULL OR d.last_checked_at < pg_catalog.now() - interval '1 day')
     ORDER BY d.last_checked_at NULLS FIRST
     LIMIT least(greatest(p_limit, 1), 500)
  $$;
REVOKE EXECUTE ON FUNCTION public.list_due_domain_checks(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.list_due_domain_checks(integer) TO tessera_app;
