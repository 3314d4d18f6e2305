-- Definer functions read the database clock (DESIGN "Decisions", Tenancy): every SECURITY DEFINER
-- function that took a time from its caller is dropped (the old signature is no longer callable)
-- and recreated reading pg_catalog.now(). A caller could otherwise pick the time a definer
-- function decides by: 'infinity' made prune_spent_auth_artifacts delete every tenant's live
-- challenges, codes and remembered devices; a past time revived an idle-expired session; a future
-- one refilled an API key's quota or stamped last use where the once-a-minute rule never wrote
-- again. Bodies are otherwise those of 0003, 0007, 0008, 0010, 0011, 0014 and 0016. Where a caller
-- still chooses something (how stale a request must be, how far ahead a reminder looks), it is a
-- duration in seconds measured back or forward from the database clock. Tests move time by
-- backdating rows through the owner connection. Pinned by packages/db/src/definer-clock.security.test.ts.

-- Sessions (0011's body): timeouts and the once-a-minute activity stamp use the database clock.
DROP FUNCTION public.resolve_session(bytea, timestamptz);
CREATE FUNCTION public.resolve_session(p_token_hash bytea)
  RETURNS TABLE (tenant_id uuid, session_id uuid, user_id uuid, role text, aal smallint,
                 mfa_verified_at timestamptz, mfa_enabled boolean, enrollment_only boolean, expires_at timestamptz)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t_now constant timestamptz := pg_catalog.now();
  r record;
  idle_expiry timestamptz;
  absolute_expiry timestamptz;
BEGIN
  SELECT s.id, s.tenant_id, s.user_id, s.aal, s.mfa_verified_at, s.enrollment_only, s.created_at,
         s.last_activity_at, u.role, u.disabled_at,
         (EXISTS (SELECT 1 FROM public.mfa_totp m WHERE m.tenant_id = s.tenant_id AND m.user_id = s.user_id AND m.enabled_at IS NOT NULL)
          OR EXISTS (SELECT 1 FROM public.webauthn_credentials w WHERE w.tenant_id = s.tenant_id AND w.user_id = s.user_id)) AS mfa_enabled,
         coalesce((t.security_policy ->> 'sessionIdleMinutes')::int, 30) AS idle_minutes,
         coalesce((t.security_policy ->> 'sessionMaxHours')::int, 8) AS max_hours
    INTO r
    FROM public.sessions s
    JOIN public.users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
    JOIN public.tenants t ON t.id = s.tenant_id
   WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL;
  IF NOT FOUND OR r.disabled_at IS NOT NULL THEN RETURN; END IF;
  idle_expiry := r.last_activity_at + make_interval(mins => r.idle_minutes);
  absolute_expiry := r.created_at + make_interval(hours => r.max_hours);
  IF t_now >= idle_expiry OR t_now >= absolute_expiry THEN RETURN; END IF;
  IF t_now - r.last_activity_at >= interval '1 minute' THEN
    UPDATE public.sessions SET last_activity_at = t_now WHERE id = r.id;
    idle_expiry := t_now + make_interval(mins => r.idle_minutes);
  END IF;
  RETURN QUERY SELECT r.tenant_id, r.id, r.user_id, r.role, r.aal, r.mfa_verified_at, r.mfa_enabled,
                      r.enrollment_only, least(idle_expiry, absolute_expiry);
END
$$;

DROP FUNCTION public.list_due_outbox(timestamptz, integer);
CREATE FUNCTION public.list_due_outbox(p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT o.tenant_id, o.id FROM public.email_outbox o
        WHERE o.sent_at IS NULL AND o.send_after <= pg_catalog.now() AND o.attempts < 10
        ORDER BY o.created_at LIMIT least(p_limit, 1000) $$;

-- API keys (0007's bodies).
DROP FUNCTION public.consume_api_key_quota(bytea, integer, timestamptz);
CREATE FUNCTION public.consume_api_key_quota(p_key_hash bytea, p_cost integer)
  RETURNS TABLE (allowed boolean, remaining integer, retry_after_seconds integer)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t_now constant timestamptz := pg_catalog.now();
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
    periods := floor(extract(epoch FROM (t_now - r.quota_refilled_at)) / r.quota_refill_seconds)::bigint;
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
      CASE WHEN next_refill IS NULL THEN NULL ELSE greatest(1, ceil(extract(epoch FROM (next_refill - t_now))))::integer END;
  END IF;
END
$$;

-- Last use is stamped with the time of the (batched, about once a second) write.
DROP FUNCTION public.touch_api_keys(bytea[], timestamptz[], inet[]);
CREATE FUNCTION public.touch_api_keys(p_key_hashes bytea[], p_ips inet[])
  RETURNS integer
  LANGUAGE sql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
    WITH u AS (SELECT * FROM unnest(p_key_hashes[1:500], p_ips[1:500]) AS u(h, ip)),
         done AS (UPDATE public.api_keys k SET last_used_at = pg_catalog.now(), last_used_ip = u.ip
                    FROM u
                   WHERE k.key_hash = u.h
                     AND (k.last_used_at IS NULL OR k.last_used_at <= pg_catalog.now() - interval '1 minute')
                  RETURNING 1)
    SELECT count(*)::integer FROM done $$;

-- Privacy listings (0008 and 0010's bodies): (tenant_id, id) only, as before.
DROP FUNCTION public.privacy_requests_due(text, timestamptz, integer);
CREATE FUNCTION public.privacy_requests_due(p_type text, p_stale_seconds integer, p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT r.tenant_id, r.id FROM public.privacy_requests r
        WHERE r.type = p_type AND r.status IN ('pending', 'processing')
          AND (r.status = 'pending' OR (r.updated_at < pg_catalog.now() - pg_catalog.make_interval(secs => greatest(p_stale_seconds, 1))
               AND NOT EXISTS (SELECT 1 FROM public.privacy_webhook_deliveries d
                               WHERE d.tenant_id = r.tenant_id AND d.request_id = r.id AND d.requires_ack
                                 AND d.status NOT IN ('acknowledged', 'cancelled'))))
        ORDER BY r.requested_at LIMIT least(p_limit, 1000) $$;

DROP FUNCTION public.privacy_exports_expired(timestamptz, integer);
CREATE FUNCTION public.privacy_exports_expired(p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT r.tenant_id, r.id FROM public.privacy_requests r
        WHERE r.export_chunks IS NOT NULL AND r.export_expires_at <= pg_catalog.now()
        ORDER BY r.export_expires_at LIMIT least(p_limit, 1000) $$;

DROP FUNCTION public.privacy_download_tokens_expired(timestamptz, integer);
CREATE FUNCTION public.privacy_download_tokens_expired(p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT d.tenant_id, d.id FROM public.privacy_download_tokens d
        WHERE d.expires_at <= pg_catalog.now() ORDER BY d.expires_at LIMIT least(p_limit, 1000) $$;

DROP FUNCTION public.privacy_reminders_due(timestamptz, integer);
CREATE FUNCTION public.privacy_reminders_due(p_within_seconds integer, p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT r.tenant_id, r.id FROM public.privacy_requests r
        WHERE r.status IN ('pending', 'processing', 'blocked') AND r.reminded_at IS NULL
          AND r.due_at <= pg_catalog.now() + pg_catalog.make_interval(secs => least(greatest(p_within_seconds, 0), 2592000))
        ORDER BY r.due_at LIMIT least(p_limit, 1000) $$;

DROP FUNCTION public.privacy_webhook_deliveries_due(timestamptz, integer);
CREATE FUNCTION public.privacy_webhook_deliveries_due(p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT d.tenant_id, d.id FROM public.privacy_webhook_deliveries d
        WHERE d.status = 'pending' AND d.next_attempt_at <= pg_catalog.now()
        ORDER BY d.next_attempt_at LIMIT least(p_limit, 1000) $$;

-- Spent authentication rows (0016's body). The bounds are the function's own: a day after
-- expiry, 30 days after a device expired or was revoked, measured on the database clock.
DROP FUNCTION public.prune_spent_auth_artifacts(timestamptz);
CREATE FUNCTION public.prune_spent_auth_artifacts()
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
END
$$;

-- Audit (0003 and 0014's bodies).
DROP FUNCTION public.audit_retention_due(timestamptz);
CREATE FUNCTION public.audit_retention_due()
  RETURNS TABLE (tenant_id uuid, id bigint)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
  SELECT s.tenant_id, s.retention_days::bigint FROM public.audit_settings s
  WHERE s.retention_days IS NOT NULL AND EXISTS (
    SELECT 1 FROM public.audit_logs l
    WHERE l.tenant_id = s.tenant_id AND l.occurred_at < pg_catalog.now() - pg_catalog.make_interval(days => s.retention_days))
$$;

DROP FUNCTION public.audit_unanchored_age_seconds(timestamptz);
CREATE FUNCTION public.audit_unanchored_age_seconds()
  RETURNS double precision
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
  SELECT coalesce(max(extract(epoch FROM pg_catalog.now() - l.occurred_at)), 0)::double precision
  FROM public.audit_chain_heads h
  CROSS JOIN LATERAL (SELECT coalesce(max(c.seq) + 1, 0) AS upto FROM public.audit_checkpoints c WHERE c.tenant_id = h.tenant_id) a
  JOIN public.audit_logs l ON l.tenant_id = h.tenant_id AND l.seq = a.upto + 1
  WHERE h.seq > a.upto
$$;

DO $$
DECLARE f text;
BEGIN
  FOREACH f IN ARRAY ARRAY['public.resolve_session(bytea)', 'public.list_due_outbox(integer)',
      'public.consume_api_key_quota(bytea, integer)', 'public.touch_api_keys(bytea[], inet[])',
      'public.privacy_requests_due(text, integer, integer)', 'public.privacy_exports_expired(integer)',
      'public.privacy_download_tokens_expired(integer)', 'public.privacy_reminders_due(integer, integer)',
      'public.privacy_webhook_deliveries_due(integer)', 'public.prune_spent_auth_artifacts()',
      'public.audit_retention_due()', 'public.audit_unanchored_age_seconds()'] LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO tessera_app', f);
  END LOOP;
END
$$;
