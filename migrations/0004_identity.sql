-- Identity: sessions, sign-in throttles, single-use user tokens (invites, resets, e-mail
-- verification), known devices and the e-mail outbox. Same rules as 0002: RLS enabled and forced,
-- fail-closed policies, tenant_id leading every index, composite FKs to (tenant_id, id).

CREATE TABLE public.sessions (
  id               uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id          uuid NOT NULL,
  token_hash       bytea NOT NULL,            -- SHA-256 of the 32-byte cookie token; never the token
  aal              smallint NOT NULL DEFAULT 1 CHECK (aal IN (1, 2)),
  mfa_verified_at  timestamptz,
  enrollment_only  boolean NOT NULL DEFAULT false,
  ip_address       inet,
  user_agent       text CHECK (char_length(user_agent) <= 512),
  created_at       timestamptz NOT NULL DEFAULT now(),
  last_activity_at timestamptz NOT NULL DEFAULT now(),
  revoked_at       timestamptz,
  revoked_reason   text,
  CONSTRAINT sessions_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT sessions_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES public.users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX sessions_token_hash_key ON public.sessions (token_hash);
CREATE INDEX sessions_tenant_user_idx ON public.sessions (tenant_id, user_id, created_at);

CREATE TABLE public.login_throttles (
  tenant_id       uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  email           text NOT NULL,             -- normalised; counted whether or not the account exists
  failures        integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
  lockouts        integer NOT NULL DEFAULT 0 CHECK (lockouts >= 0),
  locked_until    timestamptz,
  last_failure_at timestamptz,
  PRIMARY KEY (tenant_id, email)
);

CREATE TABLE public.user_tokens (
  id          uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('invite', 'password_reset', 'email_verification')),
  user_id     uuid NOT NULL,
  token_hash  bytea NOT NULL,
  created_by  uuid,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  CONSTRAINT user_tokens_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT user_tokens_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES public.users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX user_tokens_token_hash_key ON public.user_tokens (token_hash);
CREATE INDEX user_tokens_tenant_user_idx ON public.user_tokens (tenant_id, user_id, kind);

CREATE TABLE public.known_devices (
  tenant_id       uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id         uuid NOT NULL,
  ip_address      inet NOT NULL,
  user_agent_hash bytea NOT NULL,            -- SHA-256 of the user agent: equality is all we need
  first_seen_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id, ip_address, user_agent_hash),
  CONSTRAINT known_devices_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES public.users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE public.email_outbox (
  id            uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id     uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id       uuid,
  to_address    text NOT NULL,
  template      text NOT NULL,
  subject       text NOT NULL,
  body          text,                        -- scrubbed (NULL) after delivery
  created_at    timestamptz NOT NULL DEFAULT now(),
  send_after    timestamptz NOT NULL DEFAULT now(),
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  sent_at       timestamptz,
  CONSTRAINT email_outbox_tenant_id_id_key UNIQUE (tenant_id, id)
);
CREATE INDEX email_outbox_tenant_pending_idx ON public.email_outbox (tenant_id, created_at) WHERE sent_at IS NULL;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['sessions', 'login_throttles', 'user_tokens', 'known_devices', 'email_outbox'] LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($f$CREATE POLICY %I ON public.%I
      USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
      WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))$f$, t || '_isolation', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON public.%I TO tessera_app', t);
  END LOOP;
END
$$;

-- DESIGN rule 3: resolve a session cookie before the tenant is known. Takes the exact token hash,
-- applies revocation, disabled users and the tenant's idle and absolute timeouts, records activity
-- at most once a minute, and returns only what the principal needs.
CREATE FUNCTION public.resolve_session(p_token_hash bytea, p_now timestamptz)
  RETURNS TABLE (tenant_id uuid, session_id uuid, user_id uuid, role text, aal smallint,
                 mfa_verified_at timestamptz, enrollment_only boolean, expires_at timestamptz)
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
  RETURN QUERY SELECT r.tenant_id, r.id, r.user_id, r.role, r.aal, r.mfa_verified_at, r.enrollment_only,
                      least(idle_expiry, absolute_expiry);
END
$$;

-- DESIGN rule 3: find a single-use token (invite, reset, verification) by its exact hash.
CREATE FUNCTION public.lookup_user_token(p_kind text, p_token_hash bytea)
  RETURNS TABLE (tenant_id uuid, token_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT ut.tenant_id, ut.id FROM public.user_tokens ut WHERE ut.kind = p_kind AND ut.token_hash = p_token_hash $$;

-- Cross-tenant worker listing (DESIGN "Decisions"): only (tenant_id, id) of mail due for delivery.
CREATE FUNCTION public.list_due_outbox(p_now timestamptz, p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT o.tenant_id, o.id FROM public.email_outbox o
        WHERE o.sent_at IS NULL AND o.send_after <= p_now AND o.attempts < 10
        ORDER BY o.created_at LIMIT least(p_limit, 1000) $$;

DO $$
DECLARE f text;
BEGIN
  FOREACH f IN ARRAY ARRAY['public.resolve_session(bytea, timestamptz)', 'public.lookup_user_token(text, bytea)',
                           'public.list_due_outbox(timestamptz, integer)'] LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO tessera_app', f);
  END LOOP;
END
$$;
