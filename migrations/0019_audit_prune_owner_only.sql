-- Audit history cannot be erased from the runtime role (docs/audit-log.md "Retention"). Before
-- this, the runtime role could insert a `prune` checkpoint (the database checks its hash, never its
-- signature), set retention down to 30 days and call prune_audit_logs(): a compromised API process
-- could delete a month-old history. Now only the owner role (the audit CLI, DATABASE_URL) anchors
-- prunes, sets retention and prunes, and retention has a floor of 365 days that is part of the
-- table, so no role below the owner can change it. Pinned by
-- packages/auth/src/audit/audit-prune.security.test.ts.

-- The floor. A tenant that had chosen less keeps more from now on; nothing is deleted here.
UPDATE public.audit_settings SET retention_days = 365, updated_at = pg_catalog.now() WHERE retention_days < 365;
ALTER TABLE public.audit_settings DROP CONSTRAINT audit_settings_retention_days_check;
ALTER TABLE public.audit_settings ADD CONSTRAINT audit_settings_retention_days_check
  CHECK (retention_days BETWEEN 365 AND 36500);

-- The runtime role reads retention; it never sets it.
REVOKE INSERT, UPDATE ON public.audit_settings FROM tessera_app;

-- The runtime role may still sign head checkpoints (they anchor, never delete); a `prune`
-- checkpoint comes only from the table's owner (or a role that has its rights). Same body as 0003
-- otherwise: a checkpoint may only state a hash the chain really has at that seq.
CREATE OR REPLACE FUNCTION public.audit_checkpoints_check() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF NOT ((NEW.seq = 0 AND NEW.hash = pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex'))
          OR EXISTS (SELECT 1 FROM public.audit_logs l WHERE l.tenant_id = NEW.tenant_id AND l.seq = NEW.seq AND l.hash = NEW.hash)) THEN
    RAISE EXCEPTION 'checkpoint does not match the chain' USING ERRCODE = '23514';
  END IF;
  IF NEW.kind = 'prune' AND NOT pg_catalog.pg_has_role(current_user,
       (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID), 'USAGE') THEN
    RAISE EXCEPTION 'only the owner role may anchor an audit prune' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;

-- Retention path (0003's body, plus the floor again in case the constraint is ever relaxed): the
-- owner's only DELETE path, no longer executable by the runtime role.
CREATE OR REPLACE FUNCTION public.prune_audit_logs(p_through_seq bigint)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  t uuid := nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid;
  days integer;
  n bigint;
BEGIN
  IF t IS NULL THEN RAISE EXCEPTION 'no tenant in context' USING ERRCODE = '42501'; END IF;
  SELECT s.retention_days INTO days FROM public.audit_settings s WHERE s.tenant_id = t;
  IF days IS NULL THEN RAISE EXCEPTION 'no audit retention configured' USING ERRCODE = 'P0001'; END IF;
  days := greatest(days, 365);
  IF NOT EXISTS (SELECT 1 FROM public.audit_checkpoints c WHERE c.tenant_id = t AND c.kind = 'prune' AND c.seq = p_through_seq) THEN
    RAISE EXCEPTION 'prune needs a prune checkpoint at that seq' USING ERRCODE = 'P0001';
  END IF;
  IF EXISTS (SELECT 1 FROM public.audit_logs l WHERE l.tenant_id = t AND l.seq <= p_through_seq
             AND l.occurred_at >= pg_catalog.now() - pg_catalog.make_interval(days => days)) THEN
    RAISE EXCEPTION 'rows within the retention period cannot be pruned' USING ERRCODE = 'P0001';
  END IF;
  PERFORM pg_catalog.set_config('tessera.audit_path', 'prune', true);
  DELETE FROM public.audit_logs l WHERE l.tenant_id = t AND l.seq <= p_through_seq;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM pg_catalog.set_config('tessera.audit_path', '', true);
  RETURN n;
END
$$;
REVOKE EXECUTE ON FUNCTION public.prune_audit_logs(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.prune_audit_logs(bigint) FROM tessera_app;

-- The retention job lists due tenants as the owner, too.
REVOKE EXECUTE ON FUNCTION public.audit_retention_due() FROM tessera_app;
