-- Tenants and users. Every tenant table: tenant_id leading its indexes, RLS enabled and forced,
-- one policy on app.tenant_id for every command, UNIQUE (tenant_id, id) for composite FKs.

CREATE TABLE public.tenants (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug            text NOT NULL,
  name            text NOT NULL,
  security_policy jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tenants_slug_format CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$'),
  CONSTRAINT tenants_name_length CHECK (char_length(name) BETWEEN 1 AND 100)
);
-- Slugs are global: they name the tenant before any tenant context exists.
CREATE UNIQUE INDEX tenants_slug_key ON public.tenants (slug);

ALTER TABLE public.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_isolation ON public.tenants
  USING (id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid));
GRANT SELECT, INSERT, UPDATE ON public.tenants TO tessera_app;

CREATE TABLE public.users (
  id                    uuid NOT NULL DEFAULT gen_random_uuid(),
  tenant_id             uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  email                 text NOT NULL,
  email_verified_at     timestamptz,
  display_name          text,
  password_hash         text,
  password_algorithm    text,
  role                  text NOT NULL DEFAULT 'member',
  failed_login_attempts integer NOT NULL DEFAULT 0,
  locked_until          timestamptz,
  last_login_at         timestamptz,
  last_login_ip         inet,
  disabled_at           timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id),
  CONSTRAINT users_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT users_role_check CHECK (role IN ('owner', 'admin', 'compliance', 'member')),
  CONSTRAINT users_password_algorithm_check CHECK (password_algorithm IN ('argon2id', 'bcrypt')),
  CONSTRAINT users_password_pair CHECK ((password_hash IS NULL) = (password_algorithm IS NULL)),
  CONSTRAINT users_email_normalised CHECK (email = lower(btrim(email)) AND char_length(email) BETWEEN 3 AND 254),
  CONSTRAINT users_failed_login_attempts_check CHECK (failed_login_attempts >= 0)
);
-- Uniqueness is per tenant; the index also serves every tenant_id-leading lookup.
CREATE UNIQUE INDEX users_tenant_email_key ON public.users (tenant_id, email);

ALTER TABLE public.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_isolation ON public.users
  USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid));
GRANT SELECT, INSERT, UPDATE, DELETE ON public.users TO tessera_app;

-- DESIGN rule 3: the one pre-tenant lookup by slug. SECURITY DEFINER with a pinned search_path
-- and schema-qualified names; takes an exact slug, returns only what the next step needs.
CREATE FUNCTION public.lookup_tenant_by_slug(p_slug text)
  RETURNS TABLE (id uuid, slug text, name text)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT t.id, t.slug, t.name FROM public.tenants t WHERE t.slug = p_slug $$;
REVOKE EXECUTE ON FUNCTION public.lookup_tenant_by_slug(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.lookup_tenant_by_slug(text) TO tessera_app;
