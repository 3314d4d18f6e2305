-- Cache invalidation for resolved sessions (packages/auth/src/sessions/session-cache.ts): every
-- change to a row that resolve_session (0020) reads, and that can change or end what it returns,
-- is announced on commit to LISTENers of tessera_sessions. Triggers rather than calls in the
-- services, so that every code path, including ones written later and manual fixes made as the
-- owner, evicts. NOTIFY is transactional: a rolled-back change announces nothing, a committed one
-- is delivered at commit.
--
-- Payloads carry ids only, never a token or its hash:
--   s:<session id>             one session
--   u:<tenant id>:<user id>    every session of one user
--   t:<tenant id>              every session of one tenant
--
-- Not announced: new sessions (nothing cached yet), resolve_session's own last_activity_at bump
-- (forward moves only postpone the idle expiry, and the cache never reports a later one than the
-- database did), and passkey sign-in counters. Moving last_activity_at or created_at backwards
-- (which only tests and operators do) is announced: it can end a session sooner.
CREATE FUNCTION public.sessions_announce_change() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('tessera_sessions', 's:' || OLD.id::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER sessions_announce_update AFTER UPDATE ON public.sessions FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.aal IS DISTINCT FROM NEW.aal
        OR OLD.mfa_verified_at IS DISTINCT FROM NEW.mfa_verified_at
        OR OLD.enrollment_only IS DISTINCT FROM NEW.enrollment_only
        OR OLD.token_hash IS DISTINCT FROM NEW.token_hash OR OLD.user_id IS DISTINCT FROM NEW.user_id
        OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.created_at IS DISTINCT FROM NEW.created_at
        OR NEW.last_activity_at < OLD.last_activity_at)
  EXECUTE FUNCTION public.sessions_announce_change();
-- A session revoked before it is deleted was announced at its revocation.
CREATE TRIGGER sessions_announce_delete AFTER DELETE ON public.sessions FOR EACH ROW
  WHEN (OLD.revoked_at IS NULL)
  EXECUTE FUNCTION public.sessions_announce_change();

-- Users: role (and so the tenant's MFA requirement for it), disabling, deletion.
CREATE FUNCTION public.users_announce_session_change() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('tessera_sessions', 'u:' || OLD.tenant_id::text || ':' || OLD.id::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER users_announce_session_update AFTER UPDATE ON public.users FOR EACH ROW
  WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.disabled_at IS DISTINCT FROM NEW.disabled_at
        OR OLD.id IS DISTINCT FROM NEW.id OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
  EXECUTE FUNCTION public.users_announce_session_change();
CREATE TRIGGER users_announce_session_delete AFTER DELETE ON public.users FOR EACH ROW
  EXECUTE FUNCTION public.users_announce_session_change();

-- Second factors: their presence decides mfa_enabled and, with the policy, enrollment_only.
-- (A NEW row names the same user as OLD unless its keys change; both are announced then.)
CREATE FUNCTION public.factors_announce_session_change() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM pg_catalog.pg_notify('tessera_sessions', 'u:' || OLD.tenant_id::text || ':' || OLD.user_id::text);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM pg_catalog.pg_notify('tessera_sessions', 'u:' || NEW.tenant_id::text || ':' || NEW.user_id::text);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER mfa_totp_announce_session_insert AFTER INSERT ON public.mfa_totp FOR EACH ROW
  WHEN (NEW.enabled_at IS NOT NULL)
  EXECUTE FUNCTION public.factors_announce_session_change();
CREATE TRIGGER mfa_totp_announce_session_update AFTER UPDATE ON public.mfa_totp FOR EACH ROW
  WHEN ((OLD.enabled_at IS NULL) IS DISTINCT FROM (NEW.enabled_at IS NULL)
        OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
  EXECUTE FUNCTION public.factors_announce_session_change();
CREATE TRIGGER mfa_totp_announce_session_delete AFTER DELETE ON public.mfa_totp FOR EACH ROW
  WHEN (OLD.enabled_at IS NOT NULL)
  EXECUTE FUNCTION public.factors_announce_session_change();
CREATE TRIGGER webauthn_credentials_announce_session_insert AFTER INSERT ON public.webauthn_credentials FOR EACH ROW
  EXECUTE FUNCTION public.factors_announce_session_change();
CREATE TRIGGER webauthn_credentials_announce_session_update AFTER UPDATE ON public.webauthn_credentials FOR EACH ROW
  WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
  EXECUTE FUNCTION public.factors_announce_session_change();
CREATE TRIGGER webauthn_credentials_announce_session_delete AFTER DELETE ON public.webauthn_credentials FOR EACH ROW
  EXECUTE FUNCTION public.factors_announce_session_change();

-- Tenants: the security policy (mfaRequired, session lengths) applies to live sessions.
CREATE FUNCTION public.tenants_announce_session_change() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('tessera_sessions', 't:' || OLD.id::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER tenants_announce_session_update AFTER UPDATE ON public.tenants FOR EACH ROW
  WHEN (OLD.security_policy IS DISTINCT FROM NEW.security_policy OR OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION public.tenants_announce_session_change();
CREATE TRIGGER tenants_announce_session_delete AFTER DELETE ON public.tenants FOR EACH ROW
  EXECUTE FUNCTION public.tenants_announce_session_change();
