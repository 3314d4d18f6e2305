-- The tenant's MFA requirement applies to live sessions at their next request (DESIGN "Identity"),
-- not only at the next sign-in. resolve_session (0018's body) now decides enrollment_only from
-- the policy and the user's factors as they are now:
--   * the user holds no second factor (an enabled TOTP app or a passkey, as hasSecondFactor() in
--     packages/auth counts them; SMS needs TOTP, e-mail codes never count): the session is
--     enrollment-only exactly when the policy now requires a factor for the user's role and the
--     session did not prove MFA some other way (aal 2: a trusted SSO provider's MFA). Raising
--     `mfaRequired` restricts such sessions; lowering it, or a lower role, releases them, as a
--     fresh sign-in would.
--   * the user holds a factor: the stored flag stands. A session that signed in enrollment-only
--     never presented the factor added since (in another session), so it is not widened into a
--     full session, whatever the policy does next; it can still sign out or list sessions.
-- No change of policy ever raises aal or mfa_verified_at. Pinned by
-- packages/api-contract/src/routers/mfa-policy-live-sessions.security.test.ts.
CREATE OR REPLACE FUNCTION public.resolve_session(p_token_hash bytea)
  RETURNS TABLE (tenant_id uuid, session_id uuid, user_id uuid, role text, aal smallint,
                 mfa_verified_at timestamptz, mfa_enabled boolean, enrollment_only boolean, expires_at timestamptz)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t_now constant timestamptz := pg_catalog.now();
  r record;
  idle_expiry timestamptz;
  absolute_expiry timestamptz;
  required boolean;
BEGIN
  SELECT s.id, s.tenant_id, s.user_id, s.aal, s.mfa_verified_at, s.enrollment_only, s.created_at,
         s.last_activity_at, u.role, u.disabled_at,
         (EXISTS (SELECT 1 FROM public.mfa_totp m WHERE m.tenant_id = s.tenant_id AND m.user_id = s.user_id AND m.enabled_at IS NOT NULL)
          OR EXISTS (SELECT 1 FROM public.webauthn_credentials w WHERE w.tenant_id = s.tenant_id AND w.user_id = s.user_id)) AS mfa_enabled,
         coalesce(t.security_policy ->> 'mfaRequired', 'off') AS mfa_required,
         coalesce((t.security_policy ->> 'sessionIdleMinutes')::int, 30) AS idle_minutes,
         coalesce((t.security_policy ->> 'sessionMaxHours')::int, 8) AS max_hours
    INTO r
    FROM public.sessions s
    JOIN public.users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
    JOIN public.tenants t ON t.id = s.tenant_id
   WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL;
  IF NOT FOUND OR r.disabled_at IS NOT NULL THEN RETURN; END IF;
  idle_expiry := r.last_activity_at + make_interval(mins => r.idle_minutes);
  absolute_expiry := r.created_at + make_interval(hours => r.max_hours);
  IF t_now >= idle_expiry OR t_now >= absolute_expiry THEN RETURN; END IF;
  IF t_now - r.last_activity_at >= interval '1 minute' THEN
    UPDATE public.sessions SET last_activity_at = t_now WHERE id = r.id;
    idle_expiry := t_now + make_interval(mins => r.idle_minutes);
  END IF;
  -- mfaRequiredFor() in packages/auth/src/accounts/complete-sign-in.ts; any other value is 'off'.
  required := r.mfa_required = 'all' OR (r.mfa_required = 'admins' AND r.role IN ('owner', 'admin'));
  RETURN QUERY SELECT r.tenant_id, r.id, r.user_id, r.role, r.aal, r.mfa_verified_at, r.mfa_enabled,
                      CASE WHEN r.mfa_enabled THEN r.enrollment_only ELSE required AND r.aal < 2 END,
                      least(idle_expiry, absolute_expiry);
END
$$;
REVOKE EXECUTE ON FUNCTION public.resolve_session(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.resolve_session(bytea) TO tessera_app;
