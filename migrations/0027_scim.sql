-- SCIM 2.0 provisioning (RFC 7643/7644; docs/scim.md). Same RLS rules as 0002-0025: tenant_id leads
-- every index, RLS enabled and forced with the fail-closed policy, the owner-only policy the
-- SECURITY DEFINER function needs (0005), composite foreign keys to (tenant_id, id).

-- Bearer tokens an identity provider presents on /scim/v2. Like API keys (0007), the token itself is
-- never stored: only HMAC-SHA-256(pepper[pepper_version], token) and a short display prefix.
CREATE TABLE public.scim_tokens (
  id              uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  prefix          text NOT NULL CHECK (prefix ~ '^scim_[A-Za-z0-9_-]{4}$'),
  token_hash      bytea NOT NULL CHECK (octet_length(token_hash) = 32),
  pepper_version  text NOT NULL CHECK (pepper_version ~ '^v[1-9][0-9]{0,8}$'),
  created_by      uuid,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_used_at    timestamptz,                       -- written at most once a minute
  revoked_at      timestamptz,
  CONSTRAINT scim_tokens_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT scim_tokens_created_by_fk FOREIGN KEY (tenant_id, created_by)
    REFERENCES public.users (tenant_id, id) ON DELETE SET NULL (created_by)
);
-- Global: the hash names the token before any tenant context exists (docs/design.md rule 3).
CREATE UNIQUE INDEX scim_tokens_token_hash_key ON public.scim_tokens (token_hash);
CREATE INDEX scim_tokens_tenant_created_idx ON public.scim_tokens (tenant_id, created_at);

-- Per-tenant provisioning choices: what a SCIM DELETE does to the user.
CREATE TABLE public.scim_settings (
  tenant_id      uuid NOT NULL PRIMARY KEY REFERENCES public.tenants (id) ON DELETE CASCADE,
  delete_action  text NOT NULL DEFAULT 'disable' CHECK (delete_action IN ('disable', 'erase')),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The SCIM face of a Tessera user: the directory's own names for them. A user with no row here is
-- not a SCIM resource (created in the console, or deleted through SCIM).
CREATE TABLE public.scim_users (
  tenant_id    uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id      uuid NOT NULL,
  user_name    text NOT NULL CHECK (char_length(user_name) BETWEEN 1 AND 254),
  external_id  text CHECK (char_length(external_id) BETWEEN 1 AND 256),
  given_name   text CHECK (char_length(given_name) <= 200),
  family_name  text CHECK (char_length(family_name) <= 200),
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, user_id),
  CONSTRAINT scim_users_user_fk FOREIGN KEY (tenant_id, user_id)
    REFERENCES public.users (tenant_id, id) ON DELETE CASCADE
);
-- RFC 7643 §4.1.1: userName is unique and not case-sensitive.
CREATE UNIQUE INDEX scim_users_user_name_key ON public.scim_users (tenant_id, lower(user_name));
CREATE UNIQUE INDEX scim_users_external_id_key ON public.scim_users (tenant_id, external_id)
  WHERE external_id IS NOT NULL;

-- Directory groups; `role`, when an admin sets it, is the Tessera role the group's members get.
-- Never 'owner': ownership is given in the console only.
CREATE TABLE public.scim_groups (
  id            uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id     uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  display_name  text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 256),
  external_id   text CHECK (char_length(external_id) BETWEEN 1 AND 256),
  role          text CHECK (role IN ('admin', 'compliance', 'member')),
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  CONSTRAINT scim_groups_tenant_id_id_key UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX scim_groups_display_name_key ON public.scim_groups (tenant_id, lower(display_name));

CREATE TABLE public.scim_group_members (
  tenant_id   uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  group_id    uuid NOT NULL,
  user_id     uuid NOT NULL,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, group_id, user_id),
  CONSTRAINT scim_group_members_group_fk FOREIGN KEY (tenant_id, group_id)
    REFERENCES public.scim_groups (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT scim_group_members_user_fk FOREIGN KEY (tenant_id, user_id)
    REFERENCES public.scim_users (tenant_id, user_id) ON DELETE CASCADE
);
CREATE INDEX scim_group_members_user_idx ON public.scim_group_members (tenant_id, user_id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['scim_tokens', 'scim_settings', 'scim_users', 'scim_groups', 'scim_group_members'] LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($f$CREATE POLICY %I ON public.%I
      USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
      WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))$f$, t || '_isolation', t);
    EXECUTE format('CREATE POLICY %I ON public.%I FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true)', t || '_owner_definer', t);
  END LOOP;
END
$$;

-- The runtime role never reads token_hash back (the lookup below does, as the owner) and never
-- deletes a token: revocation keeps the row for the audit trail.
GRANT INSERT ON public.scim_tokens TO tessera_app;
GRANT SELECT (id, tenant_id, name, prefix, pepper_version, created_by, created_at, last_used_at, revoked_at)
  ON public.scim_tokens TO tessera_app;
GRANT UPDATE (revoked_at, created_by) ON public.scim_tokens TO tessera_app;
GRANT SELECT, INSERT, UPDATE ON public.scim_settings TO tessera_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.scim_users, public.scim_groups, public.scim_group_members TO tessera_app;

-- docs/design.md rule 3: the live token whose stored hash is one of the presented token's hashes (one per
-- pepper version, at most 4). Returns only the token and tenant ids; revoked tokens return nothing.
-- Stamps last_used_at at most once a minute, from the database clock.
CREATE FUNCTION public.use_scim_token(p_token_hashes bytea[])
  RETURNS TABLE (id uuid, tenant_id uuid)
  LANGUAGE sql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
    WITH hit AS (
      SELECT t.id, t.tenant_id, t.last_used_at FROM public.scim_tokens t
       WHERE t.token_hash = ANY (p_token_hashes[1:4]) AND t.revoked_at IS NULL
       LIMIT 1
    ), touched AS (
      UPDATE public.scim_tokens t SET last_used_at = now() FROM hit
       WHERE t.id = hit.id AND (hit.last_used_at IS NULL OR hit.last_used_at < now() - interval '1 minute')
    )
    SELECT hit.id, hit.tenant_id FROM hit $$;
REVOKE EXECUTE ON FUNCTION public.use_scim_token(bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.use_scim_token(bytea[]) TO tessera_app;

-- A SCIM DELETE may erase the user through the GDPR request queue; the request names the token.
ALTER TABLE public.privacy_requests DROP CONSTRAINT privacy_requests_requested_by_type_check;
ALTER TABLE public.privacy_requests ADD CONSTRAINT privacy_requests_requested_by_type_check
  CHECK (requested_by_type IN ('user', 'api_key', 'scim_token'));
