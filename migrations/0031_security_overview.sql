-- Security overview and the readable audit page (docs/console.md "Security overview",
-- docs/audit-log.md "Reading the log"). Indexes only: every figure is an aggregate over one
-- tenant's rows, and each must be answered from a narrow index range rather than by reading the
-- tenant's whole log (plans in docs/benchmarks.md "Security overview aggregates"). All lead with
-- tenant_id (docs/design.md rule 1), so RLS's tenant condition is the first index condition.

-- Sign-ins, failures, lockouts and MFA failures per day over 30 days: one range per action,
-- counted from the index alone (index-only scan once the visibility map is set).
CREATE INDEX audit_logs_tenant_action_occurred_idx
  ON public.audit_logs (tenant_id, action, occurred_at);

-- Audited calls of each API key over 30 days: one range per key. Partial, so the other actors'
-- events (most of the log) pay nothing for it on insert; refusals are counted apart.
CREATE INDEX audit_logs_tenant_key_actor_idx
  ON public.audit_logs (tenant_id, actor_id, occurred_at)
  WHERE actor_type = 'api_key' AND action <> 'api_key.refused';

-- Free-text search over target names on the audit page: names resolve to ids (users, API keys),
-- then one range per id, newest first.
CREATE INDEX audit_logs_tenant_target_idx
  ON public.audit_logs (tenant_id, target_id, seq) WHERE target_id IS NOT NULL;
