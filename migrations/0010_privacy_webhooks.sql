-- Art. 19 propagation webhooks (issue 7; docs/privacy.md "Webhooks"). Same RLS rules as 0002-0009:
-- tenant_id leads an index, RLS enabled and forced, the fail-closed tenant policy, the owner-only
-- policy the SECURITY DEFINER functions need (0005), composite foreign keys to (tenant_id, id).

-- A tenant's endpoint. The signing secret is AES-256-GCM under the data keyring, bound to
-- ('privacy.webhook_secret', tenant_id, id); during a rotation's grace period the previous secret
-- is kept the same way and both sign. created_by is a user id without a foreign key (the
-- personal-data registry clears it on erasure).
CREATE TABLE public.privacy_webhook_endpoints (
  id                         uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id                  uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  url                        text NOT NULL CHECK (char_length(url) <= 2048 AND url ~ '^https?://[^\s?#]+$'),
  description                text CHECK (char_length(description) <= 200),
  secret_ciphertext          text NOT NULL CHECK (char_length(secret_ciphertext) <= 1024),
  previous_secret_ciphertext text CHECK (char_length(previous_secret_ciphertext) <= 1024),
  previous_secret_expires_at timestamptz,
  events                     text[] NOT NULL CHECK (
    cardinality(events) BETWEEN 1 AND 4
    AND events <@ ARRAY['privacy.export.started', 'privacy.export.completed', 'privacy.erasure.started', 'privacy.erasure.completed']::text[]),
  -- The tenant's erasures wait for this endpoint's acknowledgement of privacy.erasure.started.
  require_ack                boolean NOT NULL DEFAULT false,
  created_by                 uuid,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now(),
  secret_rotated_at          timestamptz,
  disabled_at                timestamptz,
  CONSTRAINT privacy_webhook_endpoints_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT privacy_webhook_endpoints_ack_needs_started CHECK (NOT require_ack OR 'privacy.erasure.started' = ANY (events)),
  CONSTRAINT privacy_webhook_endpoints_previous_secret_pair CHECK ((previous_secret_ciphertext IS NULL) = (previous_secret_expires_at IS NULL))
);
CREATE INDEX privacy_webhook_endpoints_tenant_idx ON public.privacy_webhook_endpoints (tenant_id, created_at, id);

-- The delivery log: one row per (endpoint, request, event), so a rerun of a job cannot queue an
-- event twice; the row carries the retry state and a bounded log of every attempt. The body is
-- stored as sent (ids only: event, tenant, request, subject user id as a pseudonym) so every
-- attempt sends the same bytes. A deleted endpoint leaves its log (endpoint_id becomes NULL).
CREATE TABLE public.privacy_webhook_deliveries (
  id                    uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id             uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  endpoint_id           uuid,
  request_id            uuid NOT NULL,
  event_id              uuid NOT NULL,
  event_type            text NOT NULL CHECK (event_type IN ('privacy.export.started', 'privacy.export.completed', 'privacy.erasure.started', 'privacy.erasure.completed')),
  payload               text NOT NULL CHECK (char_length(payload) <= 2000),
  -- This delivery gates the request's erasure (privacy.erasure.started to a require_ack endpoint).
  requires_ack          boolean NOT NULL DEFAULT false,
  status                text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'delivered', 'acknowledged', 'failed', 'cancelled')),
  attempts              integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  attempt_log           jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(attempt_log) = 'array' AND jsonb_array_length(attempt_log) <= 20),
  last_status_code      integer,
  last_error            text CHECK (char_length(last_error) <= 200),
  next_attempt_at       timestamptz,
  delivered_at          timestamptz,
  acknowledged_at       timestamptz,
  acknowledged_by_type  text CHECK (acknowledged_by_type IN ('response', 'user', 'api_key')),
  acknowledged_by       uuid,
  created_at            timestamptz NOT NULL,
  updated_at            timestamptz NOT NULL,
  CONSTRAINT privacy_webhook_deliveries_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT privacy_webhook_deliveries_endpoint_fk FOREIGN KEY (tenant_id, endpoint_id)
    REFERENCES public.privacy_webhook_endpoints (tenant_id, id) ON DELETE SET NULL (endpoint_id),
  CONSTRAINT privacy_webhook_deliveries_request_fk FOREIGN KEY (tenant_id, request_id)
    REFERENCES public.privacy_requests (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT privacy_webhook_deliveries_pending_scheduled CHECK (status <> 'pending' OR next_attempt_at IS NOT NULL)
);
CREATE UNIQUE INDEX privacy_webhook_deliveries_once_key ON public.privacy_webhook_deliveries (tenant_id, endpoint_id, request_id, event_type);
CREATE INDEX privacy_webhook_deliveries_tenant_request_idx ON public.privacy_webhook_deliveries (tenant_id, request_id);
CREATE INDEX privacy_webhook_deliveries_tenant_created_idx ON public.privacy_webhook_deliveries (tenant_id, created_at DESC, id DESC);
CREATE INDEX privacy_webhook_deliveries_due_idx ON public.privacy_webhook_deliveries (next_attempt_at) WHERE status = 'pending';

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['privacy_webhook_endpoints', 'privacy_webhook_deliveries'] LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($f$CREATE POLICY %I ON public.%I
      USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
      WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))$f$, t || '_isolation', t);
    EXECUTE format('CREATE POLICY %I ON public.%I FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true)', t || '_owner_definer', t);
  END LOOP;
END
$$;
-- Endpoints are deleted by their tenant; the delivery log is history (never deleted by requests).
GRANT SELECT, INSERT, UPDATE, DELETE ON public.privacy_webhook_endpoints TO tessera_app;
GRANT SELECT, INSERT, UPDATE ON public.privacy_webhook_deliveries TO tessera_app;

-- Wakes the delivery dispatcher when deliveries are queued; no payload (ids never travel on a
-- channel every session may LISTEN to).
CREATE FUNCTION public.privacy_webhook_deliveries_announce() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('tessera_privacy_webhooks', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER privacy_webhook_deliveries_announce AFTER INSERT ON public.privacy_webhook_deliveries
  FOR EACH STATEMENT EXECUTE FUNCTION public.privacy_webhook_deliveries_announce();
REVOKE EXECUTE ON FUNCTION public.privacy_webhook_deliveries_announce() FROM PUBLIC;

-- Cross-tenant worker listing (DESIGN "Decisions"): deliveries whose next attempt is due, as
-- (tenant_id, id) only.
CREATE FUNCTION public.privacy_webhook_deliveries_due(p_now timestamptz, p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT d.tenant_id, d.id FROM public.privacy_webhook_deliveries d
        WHERE d.status = 'pending' AND d.next_attempt_at <= p_now
        ORDER BY d.next_attempt_at LIMIT least(p_limit, 1000) $$;

-- Key rotation (DESIGN "Secrets"): endpoints holding keyring ciphertext, as (tenant_id, id).
CREATE FUNCTION public.list_privacy_webhook_encrypted_rows()
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT e.tenant_id, e.id FROM public.privacy_webhook_endpoints e $$;

-- An erasure waiting for webhook acknowledgements stays `processing` but is not "stale": it is
-- resumed (set back to pending, which NOTIFYs the workers) when the last acknowledgement arrives,
-- instead of being re-claimed every 15 minutes until it runs out of attempts. Same signature and
-- grants as 0008's version.
CREATE OR REPLACE FUNCTION public.privacy_requests_due(p_type text, p_stale_before timestamptz, p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT r.tenant_id, r.id FROM public.privacy_requests r
        WHERE r.type = p_type AND r.status IN ('pending', 'processing')
          AND (r.status = 'pending' OR (r.updated_at < p_stale_before
               AND NOT EXISTS (SELECT 1 FROM public.privacy_webhook_deliveries d
                               WHERE d.tenant_id = r.tenant_id AND d.request_id = r.id AND d.requires_ack
                                 AND d.status NOT IN ('acknowledged', 'cancelled'))))
        ORDER BY r.requested_at LIMIT least(p_limit, 1000) $$;

DO $$
DECLARE f text;
BEGIN
  FOREACH f IN ARRAY ARRAY['public.privacy_webhook_deliveries_due(timestamptz, integer)',
                           'public.list_privacy_webhook_encrypted_rows()'] LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO tessera_app', f);
  END LOOP;
END
$$;

-- The delivery queue (pg-boss 10, schema installed by 0008), created by the owner like the GDPR
-- queues. Retries here only cover a handler that throws (database trouble); HTTP failures are
-- retried from the delivery row's own backoff, so every attempt is logged.
SELECT tessera_jobs.create_queue('privacy-webhook-delivery', '{"policy": "standard", "retryLimit": 3, "retryDelay": 30, "retryBackoff": true, "expireInSeconds": 120, "retentionMinutes": 1440}');
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tessera_jobs TO tessera_app;
