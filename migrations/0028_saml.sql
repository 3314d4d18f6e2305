-- SAML 2.0 single sign-on (docs/sso.md "SAML"). Same RLS rules as 0009: RLS enabled and forced,
-- the fail-closed tenant policy, the owner-only policy for SECURITY DEFINER work, tenant_id
-- leading every key, composite foreign keys to (tenant_id, id).

-- A tenant's SAML connections: one service provider each, with its identity provider's metadata.
CREATE TABLE public.saml_connections (
  id                   uuid NOT NULL DEFAULT gen_random_uuid(),
  tenant_id            uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  name                 text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  enabled              boolean NOT NULL DEFAULT false,
  idp_entity_id        text CHECK (char_length(idp_entity_id) BETWEEN 1 AND 1024),
  idp_sso_url          text CHECK (char_length(idp_sso_url) <= 1024 AND idp_sso_url ~ '^https?://[^\s#]+$'),
  -- Base64 DER of the IdP's signing certificates; one, or two while the IdP rotates.
  idp_certificates     jsonb NOT NULL DEFAULT '[]'::jsonb,
  idp_metadata_url     text CHECK (char_length(idp_metadata_url) <= 1024 AND idp_metadata_url ~ '^https?://[^\s#]+$'),
  allow_idp_initiated  boolean NOT NULL DEFAULT false,
  jit_provisioning     boolean NOT NULL DEFAULT false,
  -- The IdP vouches for the addresses it asserts (a directory the tenant's IT manages).
  emails_verified      boolean NOT NULL DEFAULT false,
  -- An AuthnContextClassRef in mfa_contexts satisfies the tenant's MFA requirement.
  trust_idp_mfa        boolean NOT NULL DEFAULT false,
  mfa_contexts         jsonb NOT NULL DEFAULT '[]'::jsonb,
  email_attribute      text CHECK (char_length(email_attribute) BETWEEN 1 AND 255),
  name_attribute       text CHECK (char_length(name_attribute) BETWEEN 1 AND 255),
  groups_attribute     text CHECK (char_length(groups_attribute) BETWEEN 1 AND 255),
  -- [{ "group": "...", "role": "admin" | "compliance" | "member" }]: the role a new user gets.
  group_roles          jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT saml_connections_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT saml_connections_enabled_complete CHECK (
    NOT enabled OR (idp_entity_id IS NOT NULL AND idp_sso_url IS NOT NULL AND jsonb_array_length(idp_certificates) >= 1)),
  CONSTRAINT saml_connections_certificates_check CHECK (
    jsonb_typeof(idp_certificates) = 'array' AND jsonb_array_length(idp_certificates) <= 2),
  CONSTRAINT saml_connections_mfa_contexts_check CHECK (
    jsonb_typeof(mfa_contexts) = 'array' AND jsonb_array_length(mfa_contexts) <= 20),
  CONSTRAINT saml_connections_group_roles_check CHECK (
    jsonb_typeof(group_roles) = 'array' AND jsonb_array_length(group_roles) <= 50)
);

-- Replay cache: an assertion id is accepted once per connection until its NotOnOrAfter. Shared
-- by every API process because it lives here.
CREATE TABLE public.saml_assertion_ids (
  tenant_id     uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  connection_id uuid NOT NULL,
  assertion_id  text NOT NULL CHECK (char_length(assertion_id) BETWEEN 1 AND 256),
  expires_at    timestamptz NOT NULL,
  CONSTRAINT saml_assertion_ids_pkey PRIMARY KEY (tenant_id, connection_id, assertion_id),
  CONSTRAINT saml_assertion_ids_connection_fk FOREIGN KEY (tenant_id, connection_id)
    REFERENCES public.saml_connections (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX saml_assertion_ids_tenant_expires_idx ON public.saml_assertion_ids (tenant_id, expires_at);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['saml_connections', 'saml_assertion_ids'] LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($f$CREATE POLICY %I ON public.%I
      USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
      WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))$f$, t || '_isolation', t);
    EXECUTE format('CREATE POLICY %I ON public.%I FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true)', t || '_owner_definer', t);
  END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON public.saml_connections TO tessera_app;
GRANT SELECT, INSERT, DELETE ON public.saml_assertion_ids TO tessera_app;
