-- Passkeys (issue 11): WebAuthn credentials per user and single-use, short-lived ceremony
-- challenges. Same RLS rules as 0006, including the owner-only policy (0005).
CREATE TABLE public.webauthn_credentials (
  id            uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id     uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id       uuid NOT NULL,
  credential_id text NOT NULL CHECK (char_length(credential_id) BETWEEN 1 AND 1366 AND credential_id ~ '^[A-Za-z0-9_-]+$'), -- base64url, as the browser sends it
  public_key    bytea NOT NULL,            -- COSE_Key; public, but a credential: never exported
  counter       bigint NOT NULL DEFAULT 0 CHECK (counter >= 0), -- WebAuthn §6.1.1 signature counter
  transports    jsonb NOT NULL DEFAULT '[]'::jsonb,
  device_type   text NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')), -- from the BE flag; never changes
  backed_up     boolean NOT NULL DEFAULT false, -- the BS flag, as last reported
  name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  CONSTRAINT webauthn_credentials_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT webauthn_credentials_credential_key UNIQUE (tenant_id, credential_id),
  CONSTRAINT webauthn_credentials_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES public.users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webauthn_credentials_tenant_user_idx ON public.webauthn_credentials (tenant_id, user_id);

-- A challenge is stored as its SHA-256 only, bound to its purpose (and user, session or MFA
-- challenge), and consumed with DELETE ... RETURNING: one use, whether the ceremony succeeds or not.
CREATE TABLE public.webauthn_challenges (
  id               uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  challenge_hash   bytea NOT NULL,
  purpose          text NOT NULL CHECK (purpose IN ('registration', 'second_factor', 'passwordless', 'step_up')),
  user_id          uuid,                   -- null for passwordless: the credential names the user
  session_id       uuid,                   -- registration and step-up: the session that asked
  mfa_challenge_id uuid,                   -- second factor: the password step's challenge
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  CONSTRAINT webauthn_challenges_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT webauthn_challenges_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES public.users (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT webauthn_challenges_mfa_fk FOREIGN KEY (tenant_id, mfa_challenge_id) REFERENCES public.mfa_challenges (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX webauthn_challenges_hash_key ON public.webauthn_challenges (tenant_id, challenge_hash);
CREATE INDEX webauthn_challenges_tenant_expiry_idx ON public.webauthn_challenges (tenant_id, expires_at);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['webauthn_credentials', 'webauthn_challenges'] LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($f$CREATE POLICY %I ON public.%I
      USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
      WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))$f$, t || '_isolation', t);
    EXECUTE format('CREATE POLICY %I ON public.%I FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true)', t || '_owner_definer', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON public.%I TO tessera_app', t);
  END LOOP;
END
$$;

-- A passkey is a second factor too: step-up applies to users who hold one (same body as 0006,
-- plus the webauthn_credentials test in mfa_enabled).
CREATE OR REPLACE FUNCTION public.resolve_session(p_token_hash bytea, p_now timestamptz)
  RETURNS TABLE (tenant_id uuid, session_id uuid, user_id uuid, role text, aal smallint,
                 mfa_verified_at timestamptz, mfa_enabled boolean, enrollment_only boolean, expires_at timestamptz)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
  idle_expiry timestamptz;
  absolute_expiry timestamptz;
BEGIN
  SELECT s.id, s.tenant_id, s.user_id, s.aal, s.mfa_verified_at, s.enrollment_only, s.created_at,
         s.last_activity_at, u.role, u.disabled_at,
         (EXISTS (SELECT 1 FROM public.mfa_totp m WHERE m.tenant_id = s.tenant_id AND m.user_id = s.user_id AND m.enabled_at IS NOT NULL)
          OR EXISTS (SELECT 1 FROM public.webauthn_credentials w WHERE w.tenant_id = s.tenant_id AND w.user_id = s.user_id)) AS mfa_enabled,
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
  IF p_now >= idle_expiry OR p_now >= absolute_expiry THEN RETURN; END IF;
  IF p_now - r.last_activity_at >= interval '1 minute' THEN
    UPDATE public.sessions SET last_activity_at = p_now WHERE id = r.id;
    idle_expiry := p_now + make_interval(mins => r.idle_minutes);
  END IF;
  RETURN QUERY SELECT r.tenant_id, r.id, r.user_id, r.role, r.aal, r.mfa_verified_at, r.mfa_enabled,
                      r.enrollment_only, least(idle_expiry, absolute_expiry);
END
$$;
REVOKE EXECUTE ON FUNCTION public.resolve_session(bytea, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.resolve_session(bytea, timestamptz) TO tessera_app;
