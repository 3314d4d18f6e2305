-- Tamper-evident audit log (issue 3; docs/audit-log.md). One hash chain per tenant:
--   hash = SHA-256(prev_hash || canonical(event)), computed by the writer in packages/auth.
-- The database enforces the parts it can: rows are appended only through audit_append(), which
-- extends the tenant's chain head; nobody updates or deletes rows except two narrow definer paths
-- (GDPR redaction of clear personal data; retention prune behind a prune checkpoint), and
-- checkpoints are insert-only. Same RLS pattern as 0002: ENABLE + FORCE, fail-closed policy.

CREATE TABLE public.audit_logs (
  -- No foreign key: audit_append() only writes for a tenant whose head row exists, and the head
  -- row references tenants. (A per-event FK check would also share-lock the tenant row.)
  tenant_id         uuid NOT NULL,
  seq               bigint NOT NULL CHECK (seq >= 1),
  occurred_at       timestamptz NOT NULL,
  actor_type        text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system')),
  actor_id          text CHECK (char_length(actor_id) <= 200),
  action            text NOT NULL CHECK (char_length(action) <= 100 AND action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
  target_type       text CHECK (char_length(target_type) <= 100),
  target_id         text CHECK (char_length(target_id) <= 200),
  -- Clear personal data: erasable. The chain covers only the salted digests.
  ip                text CHECK (char_length(ip) <= 64),
  user_agent        text CHECK (char_length(user_agent) <= 512),
  pii               jsonb,  -- {"pii:<digest>": "clear value"} for the masked values in before/after/metadata/target_id
  pii_salt          bytea CHECK (octet_length(pii_salt) = 16),
  redacted_at       timestamptz,
  -- Chain-covered.
  ip_digest         bytea CHECK (octet_length(ip_digest) = 32),
  user_agent_digest bytea CHECK (octet_length(user_agent_digest) = 32),
  before            jsonb,
  after             jsonb,
  metadata          jsonb NOT NULL DEFAULT '{}'::jsonb,
  risk_score        smallint NOT NULL CHECK (risk_score BETWEEN 0 AND 100),
  prev_hash         bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
  hash              bytea NOT NULL CHECK (octet_length(hash) = 32),
  PRIMARY KEY (tenant_id, seq),
  CONSTRAINT audit_logs_clear_needs_salt CHECK (pii_salt IS NOT NULL OR (ip IS NULL AND user_agent IS NULL AND pii IS NULL)),
  CONSTRAINT audit_logs_ip_digest CHECK (ip IS NULL OR ip_digest IS NOT NULL),
  CONSTRAINT audit_logs_user_agent_digest CHECK (user_agent IS NULL OR user_agent_digest IS NOT NULL)
);
CREATE INDEX audit_logs_tenant_actor_idx ON public.audit_logs (tenant_id, actor_id, seq);
CREATE INDEX audit_logs_tenant_action_idx ON public.audit_logs (tenant_id, action, seq);
CREATE INDEX audit_logs_tenant_occurred_idx ON public.audit_logs (tenant_id, occurred_at);

-- One row per tenant: the chain head. Locked FOR UPDATE by every writer of that tenant, so seq is
-- gapless under concurrency while other tenants' writers never wait. Written only by definer code.
CREATE TABLE public.audit_chain_heads (
  tenant_id  uuid NOT NULL PRIMARY KEY REFERENCES public.tenants (id),
  seq        bigint NOT NULL CHECK (seq >= 0),
  hash       bytea NOT NULL CHECK (octet_length(hash) = 32),
  updated_at timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 50); -- room for HOT updates: the row is rewritten by every event

-- Signed (Ed25519) statements "the chain of tenant T had hash H at seq N". Insert-only.
CREATE TABLE public.audit_checkpoints (
  tenant_id uuid NOT NULL REFERENCES public.tenants (id),
  id        bigint GENERATED ALWAYS AS IDENTITY,
  seq       bigint NOT NULL CHECK (seq >= 0),
  hash      bytea NOT NULL CHECK (octet_length(hash) = 32),
  kind      text NOT NULL CHECK (kind IN ('head', 'prune')),
  signed_at timestamptz NOT NULL,
  key_id    text NOT NULL CHECK (key_id ~ '^[0-9a-f]{32}$'),
  signature bytea NOT NULL CHECK (octet_length(signature) = 64),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_checkpoints_tenant_seq_idx ON public.audit_checkpoints (tenant_id, seq);

-- Per-tenant retention; NULL keeps everything. At least 30 days, so a stolen admin session
-- cannot make the prune path erase recent history.
CREATE TABLE public.audit_settings (
  tenant_id      uuid NOT NULL PRIMARY KEY REFERENCES public.tenants (id) ON DELETE CASCADE,
  retention_days integer CHECK (retention_days BETWEEN 30 AND 36500),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['audit_logs', 'audit_chain_heads', 'audit_checkpoints', 'audit_settings'] LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($f$CREATE POLICY %I ON public.%I
      USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
      WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))$f$,
      t || '_isolation', t);
  END LOOP;
END
$$;
-- The runtime role reads, and appends only through audit_append(); it never inserts rows of its
-- choosing, and never updates, deletes or truncates history.
GRANT SELECT ON public.audit_logs TO tessera_app;
GRANT SELECT, INSERT ON public.audit_checkpoints TO tessera_app;
GRANT SELECT ON public.audit_chain_heads TO tessera_app;
GRANT SELECT, INSERT, UPDATE ON public.audit_settings TO tessera_app;

-- Locks the current tenant's chain head (creating it at seq 0 on first use) and returns it.
CREATE FUNCTION public.audit_lock_head()
  RETURNS TABLE (head_seq bigint, head_hash bytea)
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  t uuid := nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid;
BEGIN
  IF t IS NULL THEN RAISE EXCEPTION 'no tenant in context' USING ERRCODE = '42501'; END IF;
  RETURN QUERY SELECT h.seq, h.hash FROM public.audit_chain_heads h WHERE h.tenant_id = t FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO public.audit_chain_heads (tenant_id, seq, hash)
      VALUES (t, 0, pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex')) ON CONFLICT (tenant_id) DO NOTHING;
    RETURN QUERY SELECT h.seq, h.hash FROM public.audit_chain_heads h WHERE h.tenant_id = t FOR UPDATE;
  END IF;
END
$$;

-- The writer's one round trip under the head lock: takes the canonical text around seq from the
-- writer (canonical = head || seq || tail, docs/audit-log.md), locks the tenant's head row,
-- computes hash = SHA-256(prev_hash || canonical), inserts the row and moves the head. The only
-- way the runtime role can add audit rows, so every row extends the chain by exactly one.
CREATE FUNCTION public.audit_append(
    p_occurred_at timestamptz, p_actor_type text, p_actor_id text, p_action text, p_target_type text,
    p_target_id text, p_ip text, p_user_agent text, p_pii jsonb, p_pii_salt bytea, p_ip_digest bytea,
    p_user_agent_digest bytea, p_before jsonb, p_after jsonb, p_metadata jsonb, p_risk_score smallint,
    p_canonical_head text, p_canonical_tail text)
  RETURNS TABLE (new_seq bigint, new_prev_hash bytea, new_hash bytea)
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  t uuid := nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid;
  head record;
  s bigint;
  h bytea;
BEGIN
  IF t IS NULL THEN RAISE EXCEPTION 'no tenant in context' USING ERRCODE = '42501'; END IF;
  SELECT c.seq, c.hash INTO head FROM public.audit_chain_heads c WHERE c.tenant_id = t FOR UPDATE;
  IF NOT FOUND THEN -- first event of the tenant: create the head at seq 0
    SELECT l.head_seq AS seq, l.head_hash AS hash INTO head FROM public.audit_lock_head() l;
  END IF;
  s := head.seq + 1;
  h := pg_catalog.sha256(head.hash || pg_catalog.convert_to(p_canonical_head || s::text || p_canonical_tail, 'UTF8'));
  INSERT INTO public.audit_logs (tenant_id, seq, occurred_at, actor_type, actor_id, action, target_type, target_id,
      ip, user_agent, pii, pii_salt, ip_digest, user_agent_digest, before, after, metadata, risk_score, prev_hash, hash)
    VALUES (t, s, p_occurred_at, p_actor_type, p_actor_id, p_action, p_target_type, p_target_id, p_ip, p_user_agent,
      p_pii, p_pii_salt, p_ip_digest, p_user_agent_digest, p_before, p_after, p_metadata, p_risk_score, head.hash, h);
  UPDATE public.audit_chain_heads c SET seq = s, hash = h, updated_at = pg_catalog.now() WHERE c.tenant_id = t;
  RETURN QUERY SELECT s, head.hash, h;
END
$$;

-- UPDATE/DELETE are refused for every role. Two exceptions, each entered only through its
-- definer function below (which sets tessera.audit_path): redaction may null the clear personal
-- data and nothing else; prune may delete rows covered by a prune checkpoint.
CREATE FUNCTION public.audit_logs_guard() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  via text := coalesce(pg_catalog.current_setting('tessera.audit_path', true), '');
BEGIN
  IF TG_OP = 'UPDATE' AND via = 'redact'
     AND NEW.ip IS NULL AND NEW.user_agent IS NULL AND NEW.pii IS NULL AND NEW.pii_salt IS NULL
     AND (NEW.tenant_id, NEW.seq, NEW.occurred_at, NEW.actor_type, NEW.actor_id, NEW.action, NEW.target_type,
          NEW.target_id, NEW.ip_digest, NEW.user_agent_digest, NEW.before, NEW.after, NEW.metadata,
          NEW.risk_score, NEW.prev_hash, NEW.hash)
       IS NOT DISTINCT FROM
         (OLD.tenant_id, OLD.seq, OLD.occurred_at, OLD.actor_type, OLD.actor_id, OLD.action, OLD.target_type,
          OLD.target_id, OLD.ip_digest, OLD.user_agent_digest, OLD.before, OLD.after, OLD.metadata,
          OLD.risk_score, OLD.prev_hash, OLD.hash) THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'DELETE' AND via = 'prune' AND EXISTS (
       SELECT 1 FROM public.audit_checkpoints c
       WHERE c.tenant_id = OLD.tenant_id AND c.kind = 'prune' AND c.seq >= OLD.seq) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit history is append-only: % refused', TG_OP USING ERRCODE = 'P0001';
END
$$;
CREATE TRIGGER audit_logs_guard BEFORE UPDATE OR DELETE ON public.audit_logs FOR EACH ROW EXECUTE FUNCTION public.audit_logs_guard();

CREATE FUNCTION public.audit_refuse() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN RAISE EXCEPTION 'audit history is append-only: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'P0001'; END
$$;
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON public.audit_logs FOR EACH STATEMENT EXECUTE FUNCTION public.audit_refuse();
CREATE TRIGGER audit_checkpoints_immutable BEFORE UPDATE OR DELETE ON public.audit_checkpoints FOR EACH ROW EXECUTE FUNCTION public.audit_refuse();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON public.audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION public.audit_refuse();
CREATE TRIGGER audit_chain_heads_no_truncate BEFORE TRUNCATE ON public.audit_chain_heads FOR EACH STATEMENT EXECUTE FUNCTION public.audit_refuse();

-- A checkpoint may only state a hash the chain really has at that seq (runs as the inserting role,
-- under its RLS). Its signature is checked by verifiers holding the public key, not here.
CREATE FUNCTION public.audit_checkpoints_check() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF NOT ((NEW.seq = 0 AND NEW.hash = pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex'))
          OR EXISTS (SELECT 1 FROM public.audit_logs l WHERE l.tenant_id = NEW.tenant_id AND l.seq = NEW.seq AND l.hash = NEW.hash)) THEN
    RAISE EXCEPTION 'checkpoint does not match the chain' USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER audit_checkpoints_check BEFORE INSERT ON public.audit_checkpoints FOR EACH ROW EXECUTE FUNCTION public.audit_checkpoints_check();

-- GDPR erasure path: nulls the clear personal data (and its salt) of the current tenant's rows
-- that name the user as actor or target, or hold one of the given e-mail addresses. The digests
-- stay, so the chain still verifies; without the salt they cannot be brute-forced back.
CREATE FUNCTION public.redact_audit_personal_data(p_user_id text, p_emails text[])
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  t uuid := nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid;
  n bigint;
BEGIN
  IF t IS NULL THEN RAISE EXCEPTION 'no tenant in context' USING ERRCODE = '42501'; END IF;
  PERFORM pg_catalog.set_config('tessera.audit_path', 'redact', true);
  UPDATE public.audit_logs l
     SET ip = NULL, user_agent = NULL, pii = NULL, pii_salt = NULL, redacted_at = pg_catalog.now()
   WHERE l.tenant_id = t AND l.pii_salt IS NOT NULL
     AND ((p_user_id IS NOT NULL AND (l.actor_id = p_user_id OR l.target_id = p_user_id))
          OR EXISTS (SELECT 1 FROM pg_catalog.jsonb_each_text(l.pii) e
                     WHERE pg_catalog.lower(e.value) = ANY (coalesce(p_emails, '{}'::text[]))));
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM pg_catalog.set_config('tessera.audit_path', '', true);
  RETURN n;
END
$$;

-- Retention path: deletes the current tenant's rows up to a seq that a prune checkpoint already
-- anchors, only when retention is configured and every such row is older than it.
CREATE FUNCTION public.prune_audit_logs(p_through_seq bigint)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  t uuid := nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid;
  days integer;
  n bigint;
BEGIN
  IF t IS NULL THEN RAISE EXCEPTION 'no tenant in context' USING ERRCODE = '42501'; END IF;
  SELECT s.retention_days INTO days FROM public.audit_settings s WHERE s.tenant_id = t;
  IF days IS NULL THEN RAISE EXCEPTION 'no audit retention configured' USING ERRCODE = 'P0001'; END IF;
  IF NOT EXISTS (SELECT 1 FROM public.audit_checkpoints c WHERE c.tenant_id = t AND c.kind = 'prune' AND c.seq = p_through_seq) THEN
    RAISE EXCEPTION 'prune needs a prune checkpoint at that seq' USING ERRCODE = 'P0001';
  END IF;
  IF EXISTS (SELECT 1 FROM public.audit_logs l WHERE l.tenant_id = t AND l.seq <= p_through_seq
             AND l.occurred_at >= pg_catalog.now() - pg_catalog.make_interval(days => days)) THEN
    RAISE EXCEPTION 'rows within the retention period cannot be pruned' USING ERRCODE = 'P0001';
  END IF;
  PERFORM pg_catalog.set_config('tessera.audit_path', 'prune', true);
  DELETE FROM public.audit_logs l WHERE l.tenant_id = t AND l.seq <= p_through_seq;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM pg_catalog.set_config('tessera.audit_path', '', true);
  RETURN n;
END
$$;

-- Cross-tenant background work (DESIGN "Tenancy"): list due tenants only, then work in withTenant.
-- Due for a checkpoint: the head moved past the last checkpoint and its own checkpoint event.
CREATE FUNCTION public.audit_checkpoints_due()
  RETURNS TABLE (tenant_id uuid, id bigint)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
  SELECT h.tenant_id, h.seq FROM public.audit_chain_heads h
  WHERE h.seq > coalesce((SELECT max(c.seq) + 1 FROM public.audit_checkpoints c WHERE c.tenant_id = h.tenant_id), 0)
$$;

CREATE FUNCTION public.audit_retention_due(p_now timestamptz)
  RETURNS TABLE (tenant_id uuid, id bigint)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
  SELECT s.tenant_id, s.retention_days::bigint FROM public.audit_settings s
  WHERE s.retention_days IS NOT NULL AND EXISTS (
    SELECT 1 FROM public.audit_logs l
    WHERE l.tenant_id = s.tenant_id AND l.occurred_at < p_now - pg_catalog.make_interval(days => s.retention_days))
$$;

DO $$
DECLARE f text;
BEGIN
  FOREACH f IN ARRAY ARRAY['public.audit_lock_head()', 'public.redact_audit_personal_data(text, text[])',
      'public.prune_audit_logs(bigint)', 'public.audit_checkpoints_due()', 'public.audit_retention_due(timestamptz)',
      'public.audit_append(timestamptz, text, text, text, text, text, text, text, jsonb, bytea, bytea, bytea, jsonb, jsonb, jsonb, smallint, text, text)',
      'public.audit_logs_guard()', 'public.audit_refuse()', 'public.audit_checkpoints_check()'] LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
  FOREACH f IN ARRAY ARRAY['public.audit_lock_head()', 'public.redact_audit_personal_data(text, text[])',
      'public.prune_audit_logs(bigint)', 'public.audit_checkpoints_due()', 'public.audit_retention_due(timestamptz)',
      'public.audit_append(timestamptz, text, text, text, text, text, text, text, jsonb, bytea, bytea, bytea, jsonb, jsonb, jsonb, smallint, text, text)'] LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO tessera_app', f);
  END LOOP;
END
$$;
