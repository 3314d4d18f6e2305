-- Scheduled upkeep for short-lived authentication rows that are dead weight once spent or
-- expired (issue 11 follow-up): MFA challenges, WebAuthn challenges and one-time codes a day after
-- they expired; remembered devices 30 days after they expired or were revoked (devices.list shows
-- recent revocations). The audit log keeps the evidence of every use and refusal. Runs across
-- tenants as the owner, deletes only rows past those bounds, and reports counts only.
CREATE FUNCTION public.prune_spent_auth_artifacts(p_now timestamptz)
  RETURNS TABLE (kind text, removed bigint)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE n bigint;
BEGIN
  DELETE FROM public.mfa_challenges c WHERE c.expires_at < p_now - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'mfa_challenges'; removed := n; RETURN NEXT;
  DELETE FROM public.webauthn_challenges c WHERE c.expires_at < p_now - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'webauthn_challenges'; removed := n; RETURN NEXT;
  DELETE FROM public.one_time_codes c WHERE c.expires_at < p_now - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'one_time_codes'; removed := n; RETURN NEXT;
  DELETE FROM public.remembered_devices d
    WHERE coalesce(least(d.revoked_at, d.expires_at), d.expires_at) < p_now - interval '30 days';
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'remembered_devices'; removed := n; RETURN NEXT;
END
$$;
REVOKE EXECUTE ON FUNCTION public.prune_spent_auth_artifacts(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.prune_spent_auth_artifacts(timestamptz) TO tessera_app;
