-- Out-of-band one-time codes (SMS, e-mail) and remembered devices (issue 11). Same RLS rules as
-- 0006: ENABLE + FORCE, the tenant policy, and the owner-only policy the SECURITY DEFINER
-- functions need. No pre-tenant lookup is added: a code is reached through its MFA challenge
-- (lookup_mfa_challenge) or the signed-in session, and a device token is checked at password
-- sign-in, after the tenant slug and the password have been resolved.

-- One phone number per user for SMS codes. Personal data: only the ciphertext (AES-256-GCM under the
-- keyring, bound to tenant and user) and a display hint (the last two digits) are stored.
CREATE TABLE public.mfa_phone_numbers (
  tenant_id         uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id           uuid NOT NULL,
  phone_ciphertext  text NOT NULL,
  phone_hint        text NOT NULL CHECK (char_length(phone_hint) <= 8),
  created_at        timestamptz NOT NULL DEFAULT now(),
  verified_at       timestamptz,          -- NULL while the enrollment code is outstanding
  PRIMARY KEY (tenant_id, user_id),
  CONSTRAINT mfa_phone_numbers_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES public.users (tenant_id, id) ON DELETE CASCADE
);

-- 6-digit codes, 10 minutes, 3 attempts. code_hash = HMAC-SHA-256 under a random per-code key that
-- is stored encrypted under the keyring (key_ciphertext): a database dump alone says nothing about
-- the code. An e-mail code can never serve a sign-in challenge (DESIGN "MFA", NIST SP 800-63B):
-- the CHECK makes that a property of the table, not of one code path.
CREATE TABLE public.one_time_codes (
  id             uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id      uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id        uuid NOT NULL,
  purpose        text NOT NULL CHECK (purpose IN ('mfa_sign_in', 'sms_enrollment', 'email_verification')),
  channel        text NOT NULL CHECK (channel IN ('sms', 'email')),
  challenge_id   uuid,
  code_hash      bytea NOT NULL,
  key_ciphertext text NOT NULL,
  attempts       integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  consumed_at    timestamptz,
  superseded_at  timestamptz,
  CONSTRAINT one_time_codes_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT one_time_codes_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES public.users (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT one_time_codes_challenge_fk FOREIGN KEY (tenant_id, challenge_id) REFERENCES public.mfa_challenges (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT one_time_codes_no_email_factor CHECK (purpose <> 'mfa_sign_in' OR (channel = 'sms' AND challenge_id IS NOT NULL)),
  CONSTRAINT one_time_codes_channel_purpose CHECK (purpose <> 'sms_enrollment' OR channel = 'sms')
);
CREATE INDEX one_time_codes_tenant_user_idx ON public.one_time_codes (tenant_id, user_id, purpose);
CREATE INDEX one_time_codes_tenant_challenge_idx ON public.one_time_codes (tenant_id, challenge_id) WHERE challenge_id IS NOT NULL;

-- "Remember this device": a separate long-lived bearer token (only its SHA-256 is stored), bound to
-- one user of one tenant, listed next to sessions and revocable.
CREATE TABLE public.remembered_devices (
  id             uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id      uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id        uuid NOT NULL,
  token_hash     bytea NOT NULL,
  created_at     timestamptz NOT NULL,
  last_used_at   timestamptz,
  expires_at     timestamptz NOT NULL,
  revoked_at     timestamptz,
  revoked_reason text,
  ip_address     inet,
  user_agent     text CHECK (char_length(user_agent) <= 512),
  CONSTRAINT remembered_devices_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT remembered_devices_user_fk FOREIGN KEY (tenant_id, user_id) REFERENCES public.users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX remembered_devices_token_hash_key ON public.remembered_devices (token_hash);
CREATE INDEX remembered_devices_tenant_user_idx ON public.remembered_devices (tenant_id, user_id) WHERE revoked_at IS NULL;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['mfa_phone_numbers', 'one_time_codes', 'remembered_devices'] LOOP
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

-- Key rotation (0006) also lists phone-number ciphertexts, which live as long as the number is
-- registered. One-time-code keys live 10 minutes and are not listed: an old key stays in the ring
-- longer than that anyway. NOTE for later migrations: CREATE OR REPLACE this function with every
-- branch, these included.
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
  $$;
REVOKE EXECUTE ON FUNCTION public.list_encrypted_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.list_encrypted_rows() TO tessera_app;
