-- SECURITY DEFINER lookups run as the owner, and FORCE ROW LEVEL SECURITY applies RLS to the
-- owner too: on an external database whose owner is not a superuser (and has no BYPASSRLS), the
-- pre-tenant lookups of DESIGN rule 3 would see no rows. Each tenant table therefore gets one
-- extra permissive policy for the owner role only (the role running this migration). The runtime
-- role is never the owner nor a member of it (start-up refuses that), so request traffic is
-- still confined by the tenant policy. See docs/decisions/0005-definer-owner-policy.md.
DO $$
DECLARE t text;
BEGIN
  FOR t IN
    SELECT c.relname FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relrowsecurity
  LOOP
    EXECUTE format('CREATE POLICY %I ON public.%I FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true)', t || '_owner_definer', t);
  END LOOP;
END
$$;

-- 0001 tried this per schema, which cannot take EXECUTE away from PUBLIC: function defaults are
-- global. Revoke the global default for functions this owner creates from now on.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
