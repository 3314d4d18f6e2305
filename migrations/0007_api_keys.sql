-- Hashed API keys (issue 6; docs/api-keys.md). Same RLS rules as 0002/0004 plus the owner-only
-- policy the SECURITY DEFINER lookups need (0005). The key itself is never stored: only
-- HMAC-SHA-256(pepper[pepper_version], key) and a 12-character display prefix.

CREATE TABLE public.api_keys (
  id                        uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id                 uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  name                      text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  type                      text NOT NULL CHECK (type IN ('publishable', 'secret')),
  environment               text NOT NULL CHECK (environment IN ('live', 'test')),
  prefix                    text NOT NULL CHECK (prefix ~ '^(pk|sk)_(live|test)_[A-Za-z0-9]{4}$'),
  key_hash                  bytea NOT NULL CHECK (octet_length(key_hash) = 32),
  pepper_version            text NOT NULL CHECK (pepper_version ~ '^v[1-9][0-9]{0,8}$'),
  scopes                    jsonb NOT NULL DEFAULT '[]'::jsonb,
  allowed_cidrs             jsonb NOT NULL DEFAULT '[]'::jsonb,  -- canonical CIDR strings; [] = any address
  rate_limit_max            integer CHECK (rate_limit_max BETWEEN 1 AND 1000000),
  rate_limit_window_seconds integer CHECK (rate_limit_window_seconds BETWEEN 1 AND 86400),
  quota_remaining           integer CHECK (quota_remaining >= 0),      -- NULL = no usage quota
  quota_refill_amount       integer CHECK (quota_refill_amount >= 1),
  quota_refill_seconds      integer CHECK (quota_refill_seconds >= 60),
  quota_refilled_at         timestamptz,
  expires_at                timestamptz,
  revoked_at                timestamptz,
  created_by                uuid,                                      -- the user, when a user created it
  created_by_key_id         uuid,                                      -- the key, when a key created it
  rotated_from_id           uuid,
  created_at                timestamptz NOT NULL DEFAULT now(),
  last_used_at              timestamptz,                               -- written at most once a minute
  last_used_ip              inet,
  CONSTRAINT api_keys_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT api_keys_scopes_check CHECK (
    jsonb_typeof(scopes) = 'array'
    AND scopes <@ '["users:read", "users:write", "audit:read", "privacy:read", "privacy:write", "api_keys:read", "api_keys:write"]'::jsonb),
  CONSTRAINT api_keys_publishable_unscoped CHECK (type = 'secret' OR scopes = '[]'::jsonb),
  CONSTRAINT api_keys_prefix_type CHECK (left(prefix, 3) = CASE type WHEN 'secret' THEN 'sk_' ELSE 'pk_' END
                                         AND substr(prefix, 4, 4) = environment),
  CONSTRAINT api_keys_allowed_cidrs_check CHECK (jsonb_typeof(allowed_cidrs) = 'array' AND jsonb_array_length(allowed_cidrs) <= 100),
  CONSTRAINT api_keys_rate_limit_pair CHECK ((rate_limit_max IS NULL) = (rate_limit_window_seconds IS NULL)),
  CONSTRAINT api_keys_refill_pair CHECK ((quota_refill_amount IS NULL) = (quota_refill_seconds IS NULL)
                                         AND (quota_refill_amount IS NULL OR (quota_remaining IS NOT NULL AND quota_refilled_at IS NOT NULL))),
  CONSTRAINT api_keys_created_by_fk FOREIGN KEY (tenant_id, created_by)
    REFERENCES public.users (tenant_id, id) ON DELETE SET NULL (created_by),
  CONSTRAINT api_keys_created_by_key_fk FOREIGN KEY (tenant_id, created_by_key_id)
    REFERENCES public.api_keys (tenant_id, id) ON DELETE SET NULL (created_by_key_id),
  CONSTRAINT api_keys_rotated_from_fk FOREIGN KEY (tenant_id, rotated_from_id)
    REFERENCES public.api_keys (tenant_id, id) ON DELETE SET NULL (rotated_from_id)
);
-- Global: the hash names the key before any tenant context exists (DESIGN rule 3).
CREATE UNIQUE INDEX api_keys_key_hash_key ON public.api_keys (key_hash);
CREATE INDEX api_keys_tenant_created_idx ON public.api_keys (tenant_id, created_at);

ALTER TABLE public.api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY api_keys_isolation ON public.api_keys
  USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid));
CREATE POLICY api_keys_owner_definer ON public.api_keys FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true);

-- The runtime role inserts keys and revokes or shortens them; it never reads key_hash back (the
-- lookups below do that as the owner), never renames scopes in place, and never deletes history.
GRANT INSERT ON public.api_keys TO tessera_app;
GRANT SELECT (id, tenant_id, name, type, environment, prefix, pepper_version, scopes, allowed_cidrs,
              rate_limit_max, rate_limit_window_seconds, quota_remaining, quota_refill_amount,
              quota_refill_seconds, quota_refilled_at, expires_at, revoked_at, created_by,
              created_by_key_id, rotated_from_id, created_at, last_used_at, last_used_ip)
  ON public.api_keys TO tessera_app;
GRANT UPDATE (revoked_at, expires_at) ON public.api_keys TO tessera_app;

-- Cache invalidation across API processes: every change that can make a cached verification
-- wrong is announced, on commit, to LISTENers of tessera_api_keys (payload: the key id).
CREATE FUNCTION public.api_keys_announce_change() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('tessera_api_keys', OLD.id::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER api_keys_announce_update AFTER UPDATE ON public.api_keys FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
        OR OLD.key_hash IS DISTINCT FROM NEW.key_hash OR OLD.scopes IS DISTINCT FROM NEW.scopes
        OR OLD.allowed_cidrs IS DISTINCT FROM NEW.allowed_cidrs OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
        OR OLD.rate_limit_max IS DISTINCT FROM NEW.rate_limit_max
        OR OLD.rate_limit_window_seconds IS DISTINCT FROM NEW.rate_limit_window_seconds
        OR (OLD.quota_remaining IS NULL) IS DISTINCT FROM (NEW.quota_remaining IS NULL))
  EXECUTE FUNCTION public.api_keys_announce_change();
CREATE TRIGGER api_keys_announce_delete AFTER DELETE ON public.api_keys FOR EACH ROW
  EXECUTE FUNCTION public.api_keys_announce_change();

-- DESIGN rule 3: find a key by the exact hashes of the presented key under the current and
-- previous peppers (at most 4), in one round trip. Returns what verification needs: no hash, no
-- name, no quota counters. Revoked keys are returned (flagged) so their use can be audited.
CREATE FUNCTION public.lookup_api_key(p_key_hashes bytea[])
  RETURNS TABLE (id uuid, tenant_id uuid, type text, environment text, prefix text, pepper_version text,
                 scopes jsonb, allowed_cidrs jsonb, rate_limit_max integer, rate_limit_window_seconds integer,
                 has_quota boolean, expires_at timestamptz, revoked boolean)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT k.id, k.tenant_id, k.type, k.environment, k.prefix, k.pepper_version, k.scopes, k.allowed_cidrs,
               k.rate_limit_max, k.rate_limit_window_seconds, k.quota_remaining IS NOT NULL, k.expires_at,
               k.revoked_at IS NOT NULL
          FROM public.api_keys k
         WHERE k.key_hash = ANY (p_key_hashes[1:4])
         LIMIT 1 $$;

-- Atomic usage quota: refills when due, then takes p_cost uses or refuses. Row-locked, so
-- concurrent requests on any number of processes never overspend. No row: not a live key.
CREATE FUNCTION public.consume_api_key_quota(p_key_hash bytea, p_cost integer, p_now timestamptz)
  RETURNS TABLE (allowed boolean, remaining integer, retry_after_seconds integer)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
  periods bigint;
  left_over integer;
  next_refill timestamptz;
BEGIN
  IF p_cost IS NULL OR p_cost < 1 OR p_cost > 100 THEN
    RAISE EXCEPTION 'quota cost must be 1..100' USING ERRCODE = '22023';
  END IF;
  SELECT k.id, k.quota_remaining, k.quota_refill_amount, k.quota_refill_seconds, k.quota_refilled_at INTO r
    FROM public.api_keys k
   WHERE k.key_hash = p_key_hash AND k.revoked_at IS NULL AND k.quota_remaining IS NOT NULL
     FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF;
  left_over := r.quota_remaining;
  next_refill := NULL;
  IF r.quota_refill_seconds IS NOT NULL THEN
    periods := floor(extract(epoch FROM (p_now - r.quota_refilled_at)) / r.quota_refill_seconds)::bigint;
    IF periods >= 1 THEN
      left_over := r.quota_refill_amount;
      r.quota_refilled_at := r.quota_refilled_at + make_interval(secs => periods * r.quota_refill_seconds);
    END IF;
    next_refill := r.quota_refilled_at + make_interval(secs => r.quota_refill_seconds);
  END IF;
  IF left_over >= p_cost THEN
    left_over := left_over - p_cost;
    UPDATE public.api_keys SET quota_remaining = left_over, quota_refilled_at = r.quota_refilled_at WHERE id = r.id;
    RETURN QUERY SELECT true, left_over, 0;
  ELSE
    UPDATE public.api_keys SET quota_remaining = left_over, quota_refilled_at = r.quota_refilled_at WHERE id = r.id;
    RETURN QUERY SELECT false, left_over,
      CASE WHEN next_refill IS NULL THEN NULL ELSE greatest(1, ceil(extract(epoch FROM (next_refill - p_now))))::integer END;
  END IF;
END
$$;

-- Usage bookkeeping, batched off the request path: last_used_at/last_used_ip move at most once a
-- minute per key, whatever the number of processes reporting (at most 500 keys per call).
CREATE FUNCTION public.touch_api_keys(p_key_hashes bytea[], p_used_at timestamptz[], p_ips inet[])
  RETURNS integer
  LANGUAGE sql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
    WITH u AS (SELECT * FROM unnest(p_key_hashes[1:500], p_used_at[1:500], p_ips[1:500]) AS u(h, at, ip)),
         done AS (UPDATE public.api_keys k SET last_used_at = u.at, last_used_ip = u.ip
                    FROM u
                   WHERE k.key_hash = u.h AND u.at IS NOT NULL
                     AND (k.last_used_at IS NULL OR k.last_used_at <= u.at - interval '1 minute')
                  RETURNING 1)
    SELECT count(*)::integer FROM done $$;

-- Pepper rotation: a key that verified under a retired pepper is re-hashed under the current one,
-- so the retired pepper can be dropped once no row names it. Needs the old hash, i.e. the key.
CREATE FUNCTION public.rehash_api_key(p_old_hash bytea, p_new_hash bytea, p_pepper_version text)
  RETURNS boolean
  LANGUAGE sql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
    WITH done AS (UPDATE public.api_keys k SET key_hash = p_new_hash, pepper_version = p_pepper_version
                   WHERE k.key_hash = p_old_hash AND k.pepper_version <> p_pepper_version RETURNING 1)
    SELECT count(*) = 1 FROM done $$;

DO $$
DECLARE f text;
BEGIN
  FOREACH f IN ARRAY ARRAY['public.lookup_api_key(bytea[])', 'public.consume_api_key_quota(bytea, integer, timestamptz)',
                           'public.touch_api_keys(bytea[], timestamptz[], inet[])',
                           'public.rehash_api_key(bytea, bytea, text)'] LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO tessera_app', f);
  END LOOP;
END
$$;
REVOKE EXECUTE ON FUNCTION public.api_keys_announce_change() FROM PUBLIC;
