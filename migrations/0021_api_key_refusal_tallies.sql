-- Refusals of an existing API key are audited one event per key and reason per interval, each event
-- carrying how many refusals it summarises (docs/api-keys.md "Refusals"). The count of refusals not
-- yet reported lives here, committed with each refusal, so a restart or a crash loses none of them;
-- the next event, or the scheduled upkeep, reports it. A tenant table like any other (DESIGN rule 1).
CREATE TABLE public.api_key_refusal_tallies (
  tenant_id     uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  api_key_id    uuid NOT NULL,
  reason        text NOT NULL CHECK (reason IN ('revoked', 'expired', 'ip_not_allowed', 'rate_limited', 'quota_exhausted')),
  last_event_at timestamptz NOT NULL,                                  -- when the last audit event for this key and reason was written
  suppressed    integer NOT NULL DEFAULT 0 CHECK (suppressed >= 0),    -- refusals since then that no event reported yet
  PRIMARY KEY (tenant_id, api_key_id, reason),
  CONSTRAINT api_key_refusal_tallies_key_fk FOREIGN KEY (tenant_id, api_key_id)
    REFERENCES public.api_keys (tenant_id, id) ON DELETE CASCADE
);
-- The upkeep looks for unreported counts across tenants.
CREATE INDEX api_key_refusal_tallies_pending_idx ON public.api_key_refusal_tallies (tenant_id) WHERE suppressed > 0;

ALTER TABLE public.api_key_refusal_tallies ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.api_key_refusal_tallies FORCE ROW LEVEL SECURITY;
CREATE POLICY api_key_refusal_tallies_isolation ON public.api_key_refusal_tallies
  USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid));
CREATE POLICY api_key_refusal_tallies_owner_definer ON public.api_key_refusal_tallies FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE ON public.api_key_refusal_tallies TO tessera_app;

-- DESIGN "Decisions" (cross-tenant background work): the upkeep lists tallies with unreported
-- refusals as (tenant_id, api_key_id, reason) only, then reports each inside its tenant.
CREATE FUNCTION public.api_key_refusal_tallies_pending(p_limit integer)
  RETURNS TABLE (tenant_id uuid, api_key_id uuid, reason text)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT t.tenant_id, t.api_key_id, t.reason FROM public.api_key_refusal_tallies t
        WHERE t.suppressed > 0 ORDER BY t.last_event_at LIMIT least(greatest(p_limit, 1), 10000) $$;
REVOKE EXECUTE ON FUNCTION public.api_key_refusal_tallies_pending(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.api_key_refusal_tallies_pending(integer) TO tessera_app;
