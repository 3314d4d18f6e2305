-- Custom roles (docs/roles.md): a tenant's own named permission sets ("billing viewer", "support
-- agent"), assigned to members and invites in place of a built-in role. Same RLS rules as 0026:
-- RLS enabled and forced, the fail-closed tenant policy, the owner-only policy SECURITY DEFINER
-- functions need (0005), tenant_id leading the primary key and every index.
--
-- A user with a custom role keeps users.role = 'member' (the fallback): deleting the role sets
-- users.custom_role_id to NULL, so its members keep plain member rights and nothing more.
-- Permission names are checked against the closed list in packages/auth/src/roles/permissions.ts
-- by the service that writes them; the column only bounds their shape.
CREATE TABLE public.tenant_roles (
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 60),
  description text CHECK (description IS NULL OR char_length(description) <= 300),
  permissions text[] NOT NULL DEFAULT '{}'
                CHECK (cardinality(permissions) <= 100 AND array_position(permissions, NULL) IS NULL),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tenant_roles_pkey PRIMARY KEY (tenant_id, id)
);
-- Names are unique per tenant, case-insensitively, and never shadow a built-in role.
CREATE UNIQUE INDEX tenant_roles_tenant_name_key ON public.tenant_roles (tenant_id, lower(name));
ALTER TABLE public.tenant_roles ADD CONSTRAINT tenant_roles_not_built_in
  CHECK (lower(name) NOT IN ('owner', 'admin', 'compliance', 'member'));

ALTER TABLE public.tenant_roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.tenant_roles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_roles_isolation ON public.tenant_roles
  USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid));
CREATE POLICY tenant_roles_owner_definer ON public.tenant_roles FOR ALL TO CURRENT_USER
  USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON public.tenant_roles TO tessera_app;

-- A member's custom role. Composite key, so a role of another tenant can never be named (rule 1);
-- deleting the role clears only this column (PostgreSQL 15+ column list), the user stays a member.
ALTER TABLE public.users ADD COLUMN custom_role_id uuid;
ALTER TABLE public.users ADD CONSTRAINT users_custom_role_fk
  FOREIGN KEY (tenant_id, custom_role_id) REFERENCES public.tenant_roles (tenant_id, id)
  ON DELETE SET NULL (custom_role_id);
ALTER TABLE public.users ADD CONSTRAINT users_custom_role_member_check
  CHECK (custom_role_id IS NULL OR role = 'member');
CREATE INDEX users_tenant_custom_role_idx ON public.users (tenant_id, custom_role_id)
  WHERE custom_role_id IS NOT NULL;

-- Session cache (0024, 0025): a member's custom role is part of the resolved session, so a change
-- of the column (assignment, or the SET NULL of a deleted role) evicts that user's sessions...
DROP TRIGGER users_announce_session_update ON public.users;
CREATE TRIGGER users_announce_session_update AFTER UPDATE ON public.users FOR EACH ROW
  WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.disabled_at IS DISTINCT FROM NEW.disabled_at
        OR OLD.id IS DISTINCT FROM NEW.id OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
        OR OLD.email IS DISTINCT FROM NEW.email OR OLD.display_name IS DISTINCT FROM NEW.display_name
        OR OLD.custom_role_id IS DISTINCT FROM NEW.custom_role_id)
  EXECUTE FUNCTION public.users_announce_session_change();

-- ...and an edit of a role's permissions evicts every member holding it, on commit, ids only. The
-- function runs as the caller, under the caller's tenant scope, so it sees that tenant's members only.
CREATE FUNCTION public.tenant_roles_announce_session_change() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('tessera_sessions', 'u:' || u.tenant_id::text || ':' || u.id::text)
     FROM public.users u
    WHERE u.tenant_id = OLD.tenant_id AND u.custom_role_id = OLD.id;
  RETURN NULL;
END
$$;
CREATE TRIGGER tenant_roles_announce_session_update AFTER UPDATE ON public.tenant_roles FOR EACH ROW
  WHEN (OLD.permissions IS DISTINCT FROM NEW.permissions OR OLD.id IS DISTINCT FROM NEW.id
        OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
  EXECUTE FUNCTION public.tenant_roles_announce_session_change();

-- resolve_session (0020's body) also returns the custom role's permissions, read in the same
-- statement, so a cached session carries them and authorising costs no extra round trip. A custom
-- role holding any permission counts as an administrator for mfaRequired = 'admins'.
DROP FUNCTION public.resolve_session(bytea);
CREATE FUNCTION public.resolve_session(p_token_hash bytea)
  RETURNS TABLE (tenant_id uuid, session_id uuid, user_id uuid, role text, aal smallint,
                 mfa_verified_at timestamptz, mfa_enabled boolean, enrollment_only boolean, expires_at timestamptz,
                 custom_role_id uuid, permissions text[])
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
         s.last_activity_at, u.role, u.disabled_at, u.custom_role_id, cr.permissions,
         (EXISTS (SELECT 1 FROM public.mfa_totp m WHERE m.tenant_id = s.tenant_id AND m.user_id = s.user_id AND m.enabled_at IS NOT NULL)
          OR EXISTS (SELECT 1 FROM public.webauthn_credentials w WHERE w.tenant_id = s.tenant_id AND w.user_id = s.user_id)) AS mfa_enabled,
         coalesce(t.security_policy ->> 'mfaRequired', 'off') AS mfa_required,
         coalesce((t.security_policy ->> 'sessionIdleMinutes')::int, 30) AS idle_minutes,
         coalesce((t.security_policy ->> 'sessionMaxHours')::int, 8) AS max_hours
    INTO r
    FROM public.sessions s
    JOIN public.users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
    JOIN public.tenants t ON t.id = s.tenant_id
    LEFT JOIN public.tenant_roles cr ON cr.tenant_id = u.tenant_id AND cr.id = u.custom_role_id
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
  required := r.mfa_required = 'all' OR (r.mfa_required = 'admins'
              AND (r.role IN ('owner', 'admin') OR coalesce(cardinality(r.permissions), 0) > 0));
  RETURN QUERY SELECT r.tenant_id, r.id, r.user_id, r.role, r.aal, r.mfa_verified_at, r.mfa_enabled,
                      CASE WHEN r.mfa_enabled THEN r.enrollment_only ELSE required AND r.aal < 2 END,
                      least(idle_expiry, absolute_expiry), r.custom_role_id, r.permissions;
END
$$;
REVOKE EXECUTE ON FUNCTION public.resolve_session(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.resolve_session(bytea) TO tessera_app;
