-- Tessera as the OpenID Provider of a tenant's own apps (docs/oidc-provider.md). Same RLS rules as
-- 0002-0027: tenant_id leads every index, RLS enabled and forced with the fail-closed policy, the
-- owner-only policy for SECURITY DEFINER functions (0005), composite foreign keys to (tenant_id, id).
-- Every request to /oidc/<slug> resolves the tenant by slug first (lookup_tenant_by_slug, 0005) and
-- then works inside that tenant's transaction: no new pre-tenant lookup is needed.

-- The tenant's token-signing keys. The private JWK is AES-256-GCM under DATA_ENCRYPTION_KEYS
-- (context: purpose 'oidc.signing_key', tenant id, row id); the public JWK is published. A key
-- signs from activates_at until it is retired, and stays published until published_until.
CREATE TABLE public.oidc_signing_keys (
  id                      uuid NOT NULL DEFAULT gen_random_uuid(),
  tenant_id               uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  kid                     text NOT NULL CHECK (kid ~ '^[A-Za-z0-9_-]{16,64}$'),
  alg                     text NOT NULL CHECK (alg IN ('RS256')),
  public_jwk              jsonb NOT NULL,
  private_jwk_ciphertext  text NOT NULL,
  created_at              timestamptz NOT NULL DEFAULT now(),
  activates_at            timestamptz NOT NULL DEFAULT now(),
  retired_at              timestamptz,
  published_until         timestamptz,
  CONSTRAINT oidc_signing_keys_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT oidc_signing_keys_tenant_kid_key UNIQUE (tenant_id, kid)
);

-- Relying parties registered by the tenant's admins. A confidential client's secret is stored as
-- SHA-256 only (32 random bytes: no stretching needed, as for session tokens); public clients
-- (SPAs, mobile and CLI apps) have none and must use PKCE.
CREATE TABLE public.oidc_clients (
  id                         uuid NOT NULL DEFAULT gen_random_uuid(),
  tenant_id                  uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  client_id                  text NOT NULL CHECK (client_id ~ '^oc_[A-Za-z0-9_-]{22}$'),
  name                       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  kind                       text NOT NULL CHECK (kind IN ('web', 'spa', 'native', 'machine')),
  redirect_uris              jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(redirect_uris) = 'array' AND jsonb_array_length(redirect_uris) <= 20),
  post_logout_redirect_uris  jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(post_logout_redirect_uris) = 'array' AND jsonb_array_length(post_logout_redirect_uris) <= 20),
  backchannel_logout_uri     text CHECK (char_length(backchannel_logout_uri) <= 2000),
  scopes                     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(scopes) = 'array' AND jsonb_array_length(scopes) <= 50),
  secret_hash                bytea CHECK (octet_length(secret_hash) = 32),
  secret_prefix              text,
  created_by                 uuid,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  revoked_at                 timestamptz,
  CONSTRAINT oidc_clients_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT oidc_clients_client_id_key UNIQUE (tenant_id, client_id),
  CONSTRAINT oidc_clients_secret_kind_check CHECK ((secret_hash IS NOT NULL) = (kind IN ('web', 'machine'))),
  CONSTRAINT oidc_clients_created_by_fk FOREIGN KEY (tenant_id, created_by)
    REFERENCES public.users (tenant_id, id) ON DELETE SET NULL (created_by)
);

-- The provider's own state (grants, codes, refresh tokens, device codes, its sessions and
-- interactions) through its adapter interface. Every key is stored as SHA-256 of the value
-- (docs/design.md rule 4: a refresh token's id is the token), and the payload never holds it.
CREATE TABLE public.oidc_payloads (
  tenant_id       uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  kind            text NOT NULL CHECK (char_length(kind) BETWEEN 1 AND 64),
  id_hash         bytea NOT NULL CHECK (octet_length(id_hash) = 32),
  payload         jsonb NOT NULL,
  grant_id        text CHECK (char_length(grant_id) <= 128),
  uid_hash        bytea CHECK (octet_length(uid_hash) = 32),
  user_code_hash  bytea CHECK (octet_length(user_code_hash) = 32),
  account_id      text CHECK (char_length(account_id) <= 128),
  client_id       text CHECK (char_length(client_id) <= 128),
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz,
  consumed_at     timestamptz,
  PRIMARY KEY (tenant_id, kind, id_hash)
);
CREATE INDEX oidc_payloads_grant_idx ON public.oidc_payloads (tenant_id, grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_payloads_uid_idx ON public.oidc_payloads (tenant_id, uid_hash) WHERE uid_hash IS NOT NULL;
CREATE INDEX oidc_payloads_user_code_idx ON public.oidc_payloads (tenant_id, user_code_hash) WHERE user_code_hash IS NOT NULL;
CREATE INDEX oidc_payloads_account_idx ON public.oidc_payloads (tenant_id, account_id, kind) WHERE account_id IS NOT NULL;
CREATE INDEX oidc_payloads_expires_idx ON public.oidc_payloads (tenant_id, expires_at);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['oidc_signing_keys', 'oidc_clients', 'oidc_payloads'] LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($f$CREATE POLICY %I ON public.%I
      USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
      WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))$f$, t || '_isolation', t);
    EXECUTE format('CREATE POLICY %I ON public.%I FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true)', t || '_owner_definer', t);
  END LOOP;
END
$$;

-- Signing keys are never deleted by the runtime role (retired keys age out of the JWKS instead);
-- clients are revoked, not deleted, for the audit trail.
GRANT SELECT, INSERT ON public.oidc_signing_keys TO tessera_app;
GRANT UPDATE (retired_at, published_until, private_jwk_ciphertext) ON public.oidc_signing_keys TO tessera_app;
GRANT SELECT, INSERT ON public.oidc_clients TO tessera_app;
GRANT UPDATE (revoked_at, created_by) ON public.oidc_clients TO tessera_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.oidc_payloads TO tessera_app;

-- `rotate-keys` re-encrypts signing keys with every other secret under the newest data key.
CREATE OR REPLACE FUNCTION public.list_encrypted_rows()
  RETURNS TABLE (kind text, tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT 'mfa_totp', m.tenant_id, m.user_id FROM public.mfa_totp m
     WHERE m.secret_ciphertext IS NOT NULL OR m.pending_ciphertext IS NOT NULL
    UNION ALL
    SELECT 'email_outbox', o.tenant_id, o.id FROM public.email_outbox o WHERE o.body IS NOT NULL
    UNION ALL
    SELECT 'mfa_phone_numbers', p.tenant_id, p.user_id FROM public.mfa_phone_numbers p
    UNION ALL
    SELECT 'oidc_signing_keys', k.tenant_id, k.id FROM public.oidc_signing_keys k
  $$;
REVOKE EXECUTE ON FUNCTION public.list_encrypted_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.list_encrypted_rows() TO tessera_app;

-- The upkeep job's prune (0016, 0018) also removes provider rows a day after they expired.
CREATE OR REPLACE FUNCTION public.prune_spent_auth_artifacts()
  RETURNS TABLE (kind text, removed bigint)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  t_now constant timestamptz := pg_catalog.now();
  n bigint;
BEGIN
  DELETE FROM public.mfa_challenges c WHERE c.expires_at < t_now - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'mfa_challenges'; removed := n; RETURN NEXT;
  DELETE FROM public.webauthn_challenges c WHERE c.expires_at < t_now - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'webauthn_challenges'; removed := n; RETURN NEXT;
  DELETE FROM public.one_time_codes c WHERE c.expires_at < t_now - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'one_time_codes'; removed := n; RETURN NEXT;
  DELETE FROM public.remembered_devices d
    WHERE coalesce(least(d.revoked_at, d.expires_at), d.expires_at) < t_now - interval '30 days';
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'remembered_devices'; removed := n; RETURN NEXT;
  DELETE FROM public.oidc_payloads p WHERE p.expires_at < t_now - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; kind := 'oidc_payloads'; removed := n; RETURN NEXT;
END
$$;
REVOKE EXECUTE ON FUNCTION public.prune_spent_auth_artifacts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.prune_spent_auth_artifacts() TO tessera_app;
