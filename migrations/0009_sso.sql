-- Single sign-on through OpenID Connect (issue 8; docs/sso.md). Same RLS rules as 0002/0004/0006:
-- RLS enabled and forced, the fail-closed tenant policy, the owner-only policy the SECURITY
-- DEFINER functions need (0005), tenant_id leading every index, composite FKs to (tenant_id, id).

-- One row per tenant: its own OIDC connection and which platform-wide providers it accepts.
CREATE TABLE public.sso_settings (
  id                       uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id                uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  enabled                  boolean NOT NULL DEFAULT false,      -- the tenant's own OIDC connection
  display_name             text CHECK (char_length(display_name) BETWEEN 1 AND 100),
  issuer                   text CHECK (char_length(issuer) <= 512 AND issuer ~ '^https?://[^\s?#]+$'),
  client_id                text CHECK (char_length(client_id) BETWEEN 1 AND 255),
  -- AES-256-GCM under the keyring, bound to ('sso.client_secret', tenant_id, id); never the secret.
  client_secret_ciphertext text CHECK (char_length(client_secret_ciphertext) <= 2048),
  platform_providers       jsonb NOT NULL DEFAULT '[]'::jsonb,  -- ids of platform providers accepted
  jit_provisioning         boolean NOT NULL DEFAULT false,      -- own connection only
  trust_provider_mfa       boolean NOT NULL DEFAULT false,      -- amr ∋ mfa|otp|hwk satisfies MFA
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT sso_settings_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT sso_settings_tenant_key UNIQUE (tenant_id),
  CONSTRAINT sso_settings_enabled_complete CHECK (
    NOT enabled OR (issuer IS NOT NULL AND client_id IS NOT NULL AND client_secret_ciphertext IS NOT NULL)),
  CONSTRAINT sso_settings_platform_providers_check CHECK (
    jsonb_typeof(platform_providers) = 'array' AND jsonb_array_length(platform_providers) <= 20)
);

-- A provider account linked to a user. OIDC Core §5.7: (iss, sub) is the only stable identifier,
-- so the issuer is kept with the subject and a changed tenant issuer drops the old links.
CREATE TABLE public.user_identities (
  id           uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id      uuid NOT NULL,
  provider     text NOT NULL CHECK (provider ~ '^[a-z][a-z0-9-]{1,39}$'),  -- 'tenant' or a platform id
  issuer       text NOT NULL CHECK (char_length(issuer) BETWEEN 1 AND 512),
  subject      text NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 255),
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  CONSTRAINT user_identities_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT user_identities_tenant_provider_subject_key UNIQUE (tenant_id, provider, subject),
  CONSTRAINT user_identities_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES public.users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_identities_tenant_user_idx ON public.user_identities (tenant_id, user_id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['sso_settings', 'user_identities'] LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($f$CREATE POLICY %I ON public.%I
      USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
      WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))$f$, t || '_isolation', t);
    EXECUTE format('CREATE POLICY %I ON public.%I FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true)', t || '_owner_definer', t);
  END LOOP;
END
$$;

-- Settings are never deleted by request traffic (disable instead); identities are unlinked.
GRANT SELECT, INSERT, UPDATE ON public.sso_settings TO tessera_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.user_identities TO tessera_app;

-- Key rotation (DESIGN "Secrets"): every sso_settings row holding keyring ciphertext, as
-- (tenant_id, id) only; the CLI re-encrypts each inside its tenant's context.
CREATE FUNCTION public.list_sso_encrypted_rows()
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT s.tenant_id, s.id FROM public.sso_settings s WHERE s.client_secret_ciphertext IS NOT NULL $$;
REVOKE EXECUTE ON FUNCTION public.list_sso_encrypted_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.list_sso_encrypted_rows() TO tessera_app;
