-- Security overview and the readable audit page (docs/console.md "Security overview",
-- docs/audit-log.md "Reading the log"). Indexes only: every figure is an aggregate over one
-- tenant's rows, and each must be answered from a narrow index range rather than by reading the
-- tenant's whole log (plans in docs/benchmarks.md "Security overview aggregates"). All lead with
-- tenant_id (docs/design.md rule 1), so RLS's tenant condition is the first index condition.

-- Sign-ins, failures, lockouts and MFA failures per day over 30 days come from a daily rollup,
-- so the overview reads at most 30 rows per action however busy the tenant is (counting the log's
-- index range instead took 150 ms for a tenant with 200k sign-in events a month). A trigger keeps
-- it, in the transaction that appends the event, for the counted actions only; the chain head lock
-- already serialises a tenant's appends, so the rollup row adds no new contention. Restore
-- disables user triggers and copies the table as it was (packages/db/src/backup.ts).
CREATE TABLE public.audit_daily_counts (
  tenant_id uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  action    text NOT NULL CHECK (char_length(action) <= 100),
  day       date NOT NULL,                     -- UTC day of occurred_at
  events    integer NOT NULL CHECK (events >= 0),
  PRIMARY KEY (tenant_id, action, day)
);
ALTER TABLE public.audit_daily_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.audit_daily_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_daily_counts_isolation ON public.audit_daily_counts
  USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid));
-- The trigger below runs as the owner (definer), for the appended row's own tenant.
CREATE POLICY audit_daily_counts_owner_definer ON public.audit_daily_counts FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true);
GRANT SELECT ON public.audit_daily_counts TO tessera_app;

CREATE FUNCTION public.audit_daily_count() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  INSERT INTO public.audit_daily_counts AS c (tenant_id, action, day, events)
    VALUES (NEW.tenant_id, NEW.action, (NEW.occurred_at AT TIME ZONE 'UTC')::date, 1)
    ON CONFLICT (tenant_id, action, day) DO UPDATE SET events = c.events + 1;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION public.audit_daily_count() FROM PUBLIC;
CREATE TRIGGER audit_logs_daily_count AFTER INSERT ON public.audit_logs FOR EACH ROW
  WHEN (NEW.action IN ('auth.sign_in.succeeded', 'auth.sign_in.failed', 'auth.sign_in.refused',
                       'auth.account.locked', 'auth.mfa.failed', 'mfa.verification.failed'))
  EXECUTE FUNCTION public.audit_daily_count();

INSERT INTO public.audit_daily_counts (tenant_id, action, day, events)
  SELECT tenant_id, action, (occurred_at AT TIME ZONE 'UTC')::date, count(*)
  FROM public.audit_logs
  WHERE action IN ('auth.sign_in.succeeded', 'auth.sign_in.failed', 'auth.sign_in.refused',
                   'auth.account.locked', 'auth.mfa.failed', 'mfa.verification.failed')
  GROUP BY 1, 2, 3;

-- Audited calls of each API key over 30 days: one range per key. Partial, so the other actors'
-- events (most of the log) pay nothing for it on insert; refusals are counted apart.
CREATE INDEX audit_logs_tenant_key_actor_idx
  ON public.audit_logs (tenant_id, actor_id, occurred_at)
  WHERE actor_type = 'api_key' AND action <> 'api_key.refused';

-- Free-text search over target names on the audit page: names resolve to ids (users, API keys),
-- then one range per id, newest first.
CREATE INDEX audit_logs_tenant_target_idx
  ON public.audit_logs (tenant_id, target_id, seq) WHERE target_id IS NOT NULL;
