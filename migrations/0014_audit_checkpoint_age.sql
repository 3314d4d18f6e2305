-- The metrics gauge tessera_audit_checkpoint_age_seconds (issue 10): how long the oldest audit
-- event that no signed checkpoint covers yet has been waiting, across tenants; 0 when every
-- chain is anchored, so quiet tenants never alert. Only one number crosses the tenant boundary.
-- As in audit_checkpoints_due(), the event that records a checkpoint (seq + 1) counts as anchored.
CREATE FUNCTION public.audit_unanchored_age_seconds(p_now timestamptz)
  RETURNS double precision
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
  SELECT coalesce(max(extract(epoch FROM p_now - l.occurred_at)), 0)::double precision
  FROM public.audit_chain_heads h
  CROSS JOIN LATERAL (SELECT coalesce(max(c.seq) + 1, 0) AS upto FROM public.audit_checkpoints c WHERE c.tenant_id = h.tenant_id) a
  JOIN public.audit_logs l ON l.tenant_id = h.tenant_id AND l.seq = a.upto + 1
  WHERE h.seq > a.upto
$$;
REVOKE EXECUTE ON FUNCTION public.audit_unanchored_age_seconds(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.audit_unanchored_age_seconds(timestamptz) TO tessera_app;
