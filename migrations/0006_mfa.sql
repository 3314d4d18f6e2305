-- TOTP factors, hashed backup codes and sign-in challenges (issue 5). Same RLS rules as before,
-- including the owner-only policy the SECURITY DEFINER lookups need (0005).
CREATE TABLE public.mfa_totp (
  tenant_id          uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id            uuid NOT NULL,
  secret_ciphertext  text,                 -- AES-256-GCM under the keyring, bound to (tenant, user)
  pending_ciphertext text,                 -- enrollment in progress; activated only by a valid code
  pending_created_at timestamptz,
  enabled_at         timestamptz,
  last_used_step     bigint,               -- RFC 6238 time step last accepted: replay guard
  failed_attempts    integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
  locked_until       timestamptz,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id),
  CONSTRAINT mfa_totp_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES public.users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE public.mfa_backup_codes (
  id         uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL,
  code_hash  text NOT NULL,                -- Argon2id PHC string (salted), never the code
  created_at timestamptz NOT NULL DEFAULT now(),
  used_at    timestamptz,
  CONSTRAINT mfa_backup_codes_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT mfa_backup_codes_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES public.users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX mfa_backup_codes_tenant_user_idx ON public.mfa_backup_codes (tenant_id, user_id) WHERE used_at IS NULL;

CREATE TABLE public.mfa_challenges (
  id         uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL,
  token_hash bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  attempts   integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  used_at    timestamptz,
  CONSTRAINT mfa_challenges_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT mfa_challenges_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES public.users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX mfa_challenges_token_hash_key ON public.mfa_challenges (token_hash);
CREATE INDEX mfa_challenges_tenant_user_idx ON public.mfa_challenges (tenant_id, user_id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['mfa_totp', 'mfa_backup_codes', 'mfa_challenges'] LOOP
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

-- DESIGN rule 3: a sign-in challenge by its exact hash, before the tenant is known.
CREATE FUNCTION public.lookup_mfa_challenge(p_token_hash bytea)
  RETURNS TABLE (tenant_id uuid, challenge_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT c.tenant_id, c.id FROM public.mfa_challenges c WHERE c.token_hash = p_token_hash $$;
REVOKE EXECUTE ON FUNCTION public.lookup_mfa_challenge(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.lookup_mfa_challenge(bytea) TO tessera_app;

-- The session resolver now also says whether the user has an active factor (step-up applies).
DROP FUNCTION public.resolve_session(bytea, timestamptz);
CREATE FUNCTION public.resolve_session(p_token_hash bytea, p_now timestamptz)
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
         EXISTS (SELECT 1 FROM public.mfa_totp m WHERE m.tenant_id = s.tenant_id AND m.user_id = s.user_id AND m.enabled_at IS NOT NULL) AS mfa_enabled,
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

-- Key rotation (DESIGN "Secrets"): list every row holding keyring ciphertext as (kind, tenant, id)
-- only; the CLI re-encrypts each inside its tenant's context.
CREATE FUNCTION public.list_encrypted_rows()
  RETURNS TABLE (kind text, tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT 'mfa_totp', m.tenant_id, m.user_id FROM public.mfa_totp m
     WHERE m.secret_ciphertext IS NOT NULL OR m.pending_ciphertext IS NOT NULL
    UNION ALL
    SELECT 'email_outbox', o.tenant_id, o.id FROM public.email_outbox o WHERE o.body IS NOT NULL
  $$;
REVOKE EXECUTE ON FUNCTION public.list_encrypted_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.list_encrypted_rows() TO tessera_app;
