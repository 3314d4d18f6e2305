-- Rotation moves a key's usage quota instead of copying it (docs/api-keys.md "Rotation").
-- A key that has been rotated keeps working through its grace period, but from then on its
-- calls are counted on its successor's row: the old key and every later successor spend one
-- counter, so no number of rotations adds calls to the quota. The application refuses to
-- rotate a key that already has a successor (rotate-api-key.ts), so a live chain stays short.

-- Successors are found by (tenant_id, rotated_from_id) on every quota charge.
CREATE INDEX api_keys_tenant_rotated_from_idx ON public.api_keys (tenant_id, rotated_from_id)
  WHERE rotated_from_id IS NOT NULL;

-- Same signature and contract as in 0018 (the database clock, never the caller's); only the row
-- that holds the counter changes: the
-- newest key of the presented key's rotation chain (the presented key itself when it was never
-- rotated). The holder is locked, then checked for a successor again, so a rotation that
-- committed while this call waited for the lock moves the charge on instead of losing it.
CREATE OR REPLACE FUNCTION public.consume_api_key_quota(p_key_hash bytea, p_cost integer)
  RETURNS TABLE (allowed boolean, remaining integer, retry_after_seconds integer)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t_now constant timestamptz := pg_catalog.now();
  r record;
  presented record;
  holder uuid;
  successor uuid;
  hops integer := 0;
  periods bigint;
  left_over integer;
  next_refill timestamptz;
BEGIN
  IF p_cost IS NULL OR p_cost < 1 OR p_cost > 100 THEN
    RAISE EXCEPTION 'quota cost must be 1..100' USING ERRCODE = '22023';
  END IF;
  SELECT k.id, k.tenant_id INTO presented
    FROM public.api_keys k
   WHERE k.key_hash = p_key_hash AND k.revoked_at IS NULL AND k.quota_remaining IS NOT NULL;
  IF NOT FOUND THEN RETURN; END IF;
  holder := presented.id;
  LOOP
    -- Walk to the newest successor without locks, then lock that one row only.
    LOOP
      SELECT s.id INTO successor
        FROM public.api_keys s
       WHERE s.tenant_id = presented.tenant_id AND s.rotated_from_id = holder
       ORDER BY s.created_at DESC, s.id DESC
       LIMIT 1;
      EXIT WHEN NOT FOUND;
      holder := successor;
      hops := hops + 1;
      -- Fail closed on a chain no rotation rule can produce.
      IF hops > 32 THEN RETURN QUERY SELECT false, 0, NULL::integer; RETURN; END IF;
    END LOOP;
    SELECT k.id, k.quota_remaining, k.quota_refill_amount, k.quota_refill_seconds, k.quota_refilled_at INTO r
      FROM public.api_keys k
     WHERE k.id = holder
       FOR UPDATE;
    EXIT WHEN NOT EXISTS (SELECT 1 FROM public.api_keys s
                           WHERE s.tenant_id = presented.tenant_id AND s.rotated_from_id = holder);
  END LOOP;
  -- A successor without a quota cannot carry the presented key's: refuse rather than guess.
  IF r.quota_remaining IS NULL THEN RETURN QUERY SELECT false, 0, NULL::integer; RETURN; END IF;
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
-- CREATE OR REPLACE keeps the grants of 0018; restate them so this file reads alone.
REVOKE EXECUTE ON FUNCTION public.consume_api_key_quota(bytea, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.consume_api_key_quota(bytea, integer) TO tessera_app;
