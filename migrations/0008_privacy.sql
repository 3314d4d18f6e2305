-- GDPR data-subject requests (issue 7; docs/privacy.md). Same RLS rules as 0002-0007: tenant_id
-- leads an index, RLS enabled and forced, fail-closed policy, the owner-only policy the SECURITY
-- DEFINER functions need (0005), composite foreign keys to (tenant_id, id).
--
-- Subjects are referenced by user id without a foreign key to users: an erased user's row is
-- deleted, and the request, the hold history and the erasure ledger must outlive it with the id
-- as a pseudonym (DESIGN "Privacy").

CREATE TABLE public.privacy_requests (
  id                  uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id           uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id             uuid NOT NULL,
  type                text NOT NULL CHECK (type IN ('export', 'deletion')),
  format              text CHECK (format IN ('json', 'csv', 'pdf')),
  status              text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'rejected', 'blocked')),
  requested_by_type   text NOT NULL CHECK (requested_by_type IN ('user', 'api_key')),
  requested_by        uuid NOT NULL,
  requested_at        timestamptz NOT NULL,
  original_due_at     timestamptz NOT NULL,                 -- one calendar month after receipt (Art. 12(3))
  due_at              timestamptz NOT NULL,                 -- original_due_at + extended_months
  extended_months     smallint NOT NULL DEFAULT 0 CHECK (extended_months BETWEEN 0 AND 2),
  extension_reason    text CHECK (char_length(extension_reason) <= 1000),
  contact_email       text CHECK (char_length(contact_email) <= 254),  -- deletion: confirmation address, cleared once queued
  rejection_reason    text CHECK (char_length(rejection_reason) <= 1000),
  failure_reason      text CHECK (char_length(failure_reason) <= 200),
  attempts            integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  started_at          timestamptz,
  completed_at        timestamptz,
  reminded_at         timestamptz,
  export_content_type text CHECK (char_length(export_content_type) <= 100),
  export_file_name    text CHECK (char_length(export_file_name) <= 200),
  export_bytes        bigint CHECK (export_bytes >= 0),
  export_chunks       integer CHECK (export_chunks >= 0),
  export_expires_at   timestamptz,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT privacy_requests_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT privacy_requests_format_for_exports CHECK ((type = 'export') = (format IS NOT NULL)),
  CONSTRAINT privacy_requests_due_not_earlier CHECK (due_at >= original_due_at)
);
-- DESIGN "Privacy": one open request per subject and type; a second one returns the open one.
CREATE UNIQUE INDEX privacy_requests_one_open_key ON public.privacy_requests (tenant_id, user_id, type)
  WHERE status IN ('pending', 'processing', 'blocked');
CREATE INDEX privacy_requests_tenant_status_idx ON public.privacy_requests (tenant_id, status, due_at, id);
CREATE INDEX privacy_requests_tenant_user_idx ON public.privacy_requests (tenant_id, user_id, requested_at);
CREATE INDEX privacy_requests_open_idx ON public.privacy_requests (type, requested_at) WHERE status IN ('pending', 'processing');
CREATE INDEX privacy_requests_export_expiry_idx ON public.privacy_requests (export_expires_at) WHERE export_chunks IS NOT NULL;

CREATE TABLE public.privacy_legal_holds (
  id          uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL,
  reason      text CHECK (char_length(reason) BETWEEN 1 AND 1000),   -- NULL only once erased after release
  placed_by   uuid NOT NULL,
  placed_at   timestamptz NOT NULL,
  released_by uuid,
  released_at timestamptz,
  CONSTRAINT privacy_legal_holds_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT privacy_legal_holds_reason_while_active CHECK (released_at IS NOT NULL OR reason IS NOT NULL)
);
CREATE INDEX privacy_legal_holds_tenant_user_idx ON public.privacy_legal_holds (tenant_id, user_id) WHERE released_at IS NULL;

-- Export files, encrypted per chunk under the keyring with the chunk index in the associated data,
-- so chunks cannot be reordered, swapped between exports or moved to another tenant.
CREATE TABLE public.privacy_export_chunks (
  tenant_id   uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  request_id  uuid NOT NULL,
  chunk_index integer NOT NULL CHECK (chunk_index >= 0),
  ciphertext  text NOT NULL,
  PRIMARY KEY (tenant_id, request_id, chunk_index),
  CONSTRAINT privacy_export_chunks_request_fk FOREIGN KEY (tenant_id, request_id)
    REFERENCES public.privacy_requests (tenant_id, id) ON DELETE CASCADE
);

-- Download links: only the SHA-256 of the token is stored; single use, at most five minutes.
CREATE TABLE public.privacy_download_tokens (
  id              uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  request_id      uuid NOT NULL,
  token_hash      bytea NOT NULL CHECK (octet_length(token_hash) = 32),
  created_by_type text NOT NULL CHECK (created_by_type IN ('user', 'api_key')),
  created_by      uuid NOT NULL,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz,
  CONSTRAINT privacy_download_tokens_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT privacy_download_tokens_short_lived CHECK (expires_at > created_at AND expires_at <= created_at + interval '5 minutes'),
  CONSTRAINT privacy_download_tokens_request_fk FOREIGN KEY (tenant_id, request_id)
    REFERENCES public.privacy_requests (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX privacy_download_tokens_token_hash_key ON public.privacy_download_tokens (token_hash);
CREATE INDEX privacy_download_tokens_tenant_request_idx ON public.privacy_download_tokens (tenant_id, request_id);
CREATE INDEX privacy_download_tokens_expiry_idx ON public.privacy_download_tokens (expires_at);

-- Erasure ledger: ids only, replayed after any restore before traffic (DESIGN "Privacy").
CREATE TABLE public.privacy_erasure_ledger (
  tenant_id  uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  request_id uuid NOT NULL,
  user_id    uuid NOT NULL,
  erased_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, request_id)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['privacy_requests', 'privacy_legal_holds', 'privacy_export_chunks',
                           'privacy_download_tokens', 'privacy_erasure_ledger'] LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($f$CREATE POLICY %I ON public.%I
      USING (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))
      WITH CHECK (tenant_id = (SELECT nullif(pg_catalog.current_setting('app.tenant_id', true), '')::uuid))$f$, t || '_isolation', t);
    EXECUTE format('CREATE POLICY %I ON public.%I FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true)', t || '_owner_definer', t);
  END LOOP;
END
$$;
-- Requests and holds are history: never deleted by the runtime role (tenant deletion cascades as owner).
GRANT SELECT, INSERT, UPDATE ON public.privacy_requests TO tessera_app;
GRANT SELECT, INSERT, UPDATE ON public.privacy_legal_holds TO tessera_app;
GRANT SELECT, INSERT, DELETE ON public.privacy_export_chunks TO tessera_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.privacy_download_tokens TO tessera_app;
GRANT SELECT, INSERT ON public.privacy_erasure_ledger TO tessera_app;

-- Wakes the GDPR workers when a request becomes pending (created, or resumed after a hold). The
-- payload is the request type only: ids never travel on a channel every session may LISTEN to.
CREATE FUNCTION public.privacy_requests_announce() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('tessera_privacy_requests', NEW.type);
  RETURN NULL;
END
$$;
CREATE TRIGGER privacy_requests_announce AFTER INSERT OR UPDATE OF status ON public.privacy_requests
  FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION public.privacy_requests_announce();

-- DESIGN rule 3: a download link by the exact hash of its token, before the tenant is known.
CREATE FUNCTION public.lookup_privacy_download(p_token_hash bytea)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT d.tenant_id, d.id FROM public.privacy_download_tokens d WHERE d.token_hash = p_token_hash $$;

-- Cross-tenant worker listings (DESIGN "Decisions"): (tenant_id, id) only; the work itself runs
-- in withTenant of each tenant.
-- Pending requests, and processing ones that made no progress since p_stale_before (their worker
-- died); a processing request that is merely retrying keeps the queue's backoff.
CREATE FUNCTION public.privacy_requests_due(p_type text, p_stale_before timestamptz, p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT r.tenant_id, r.id FROM public.privacy_requests r
        WHERE r.type = p_type AND r.status IN ('pending', 'processing')
          AND (r.status = 'pending' OR r.updated_at < p_stale_before)
        ORDER BY r.requested_at LIMIT least(p_limit, 1000) $$;

CREATE FUNCTION public.privacy_exports_expired(p_now timestamptz, p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT r.tenant_id, r.id FROM public.privacy_requests r
        WHERE r.export_chunks IS NOT NULL AND r.export_expires_at <= p_now
        ORDER BY r.export_expires_at LIMIT least(p_limit, 1000) $$;

CREATE FUNCTION public.privacy_download_tokens_expired(p_now timestamptz, p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT d.tenant_id, d.id FROM public.privacy_download_tokens d
        WHERE d.expires_at <= p_now ORDER BY d.expires_at LIMIT least(p_limit, 1000) $$;

CREATE FUNCTION public.privacy_reminders_due(p_due_before timestamptz, p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT r.tenant_id, r.id FROM public.privacy_requests r
        WHERE r.status IN ('pending', 'processing', 'blocked') AND r.reminded_at IS NULL AND r.due_at <= p_due_before
        ORDER BY r.due_at LIMIT least(p_limit, 1000) $$;

-- Erasure confirmations go to the address captured at request time; once delivered (the sender
-- scrubs the body) the row, which still names that address, is deleted by the maintenance job.
CREATE FUNCTION public.privacy_confirmations_sent(p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT o.tenant_id, o.id FROM public.email_outbox o
        WHERE o.template = 'privacy_erasure_completed' AND o.sent_at IS NOT NULL
        ORDER BY o.sent_at LIMIT least(p_limit, 1000) $$;

CREATE FUNCTION public.privacy_erasure_ledger_entries()
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT l.tenant_id, l.request_id FROM public.privacy_erasure_ledger l ORDER BY l.erased_at $$;

DO $$
DECLARE f text;
BEGIN
  FOREACH f IN ARRAY ARRAY['public.lookup_privacy_download(bytea)', 'public.privacy_requests_due(text, timestamptz, integer)',
                           'public.privacy_exports_expired(timestamptz, integer)',
                           'public.privacy_download_tokens_expired(timestamptz, integer)',
                           'public.privacy_reminders_due(timestamptz, integer)',
                           'public.privacy_confirmations_sent(integer)',
                           'public.privacy_erasure_ledger_entries()'] LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO tessera_app', f);
  END LOOP;
END
$$;
REVOKE EXECUTE ON FUNCTION public.privacy_requests_announce() FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Job queue (DESIGN "Jobs and backups"; docs/privacy.md "Queue"): pg-boss 10, schema version 24,
-- installed here by the migrator as the owner, in its own schema `tessera_jobs`, instead of by
-- pg-boss at start. Generated with PgBoss.getConstructionPlans('tessera_jobs') from pg-boss 10.4.2
-- (its BEGIN/advisory-lock/COMMIT wrapper dropped: the migrator runs this file in one transaction).
-- Workers start pg-boss with `migrate: false`, which refuses to run against another schema
-- version; a pg-boss upgrade that changes the schema ships as a new migration made from
-- PgBoss.getMigrationPlans(). The runtime role gets DML on the queue tables only: no DDL, no
-- TRUNCATE, and not create_queue, so every queue (a partition of tessera_jobs.job) is created
-- below by the owner.
CREATE SCHEMA tessera_jobs
  ;

    CREATE TYPE tessera_jobs.job_state AS ENUM (
      'created',
      'retry',
      'active',
      'completed',
      'cancelled',
      'failed'
    )
  ;

    CREATE TABLE tessera_jobs.version (
      version int primary key,
      maintained_on timestamp with time zone,
      cron_on timestamp with time zone,
      monitored_on timestamp with time zone
    )
  ;

    CREATE TABLE tessera_jobs.queue (
      name text,
      policy text,
      retry_limit int,
      retry_delay int,
      retry_backoff bool,
      expire_seconds int,
      retention_minutes int,
      dead_letter text REFERENCES tessera_jobs.queue (name),
      partition_name text,
      created_on timestamp with time zone not null default now(),
      updated_on timestamp with time zone not null default now(),
      PRIMARY KEY (name)
    )
  ;

    CREATE TABLE tessera_jobs.schedule (
      name text REFERENCES tessera_jobs.queue ON DELETE CASCADE,
      cron text not null,
      timezone text,
      data jsonb,
      options jsonb,
      created_on timestamp with time zone not null default now(),
      updated_on timestamp with time zone not null default now(),
      PRIMARY KEY (name)
    )
  ;

    CREATE TABLE tessera_jobs.subscription (
      event text not null,
      name text not null REFERENCES tessera_jobs.queue ON DELETE CASCADE,
      created_on timestamp with time zone not null default now(),
      updated_on timestamp with time zone not null default now(),
      PRIMARY KEY(event, name)
    )
  ;

    CREATE TABLE tessera_jobs.job (
      id uuid not null default gen_random_uuid(),
      name text not null,
      priority integer not null default(0),
      data jsonb,
      state tessera_jobs.job_state not null default('created'),
      retry_limit integer not null default(2),
      retry_count integer not null default(0),
      retry_delay integer not null default(0),
      retry_backoff boolean not null default false,
      start_after timestamp with time zone not null default now(),
      started_on timestamp with time zone,
      singleton_key text,
      singleton_on timestamp without time zone,
      expire_in interval not null default interval '15 minutes',
      created_on timestamp with time zone not null default now(),
      completed_on timestamp with time zone,
      keep_until timestamp with time zone NOT NULL default now() + interval '14 days',
      output jsonb,
      dead_letter text,
      policy text
    ) PARTITION BY LIST (name)
  ;
ALTER TABLE tessera_jobs.job ADD PRIMARY KEY (name, id);
CREATE TABLE tessera_jobs.archive (LIKE tessera_jobs.job);
ALTER TABLE tessera_jobs.archive ADD PRIMARY KEY (name, id);
ALTER TABLE tessera_jobs.archive ADD archived_on timestamptz NOT NULL DEFAULT now();
CREATE INDEX archive_i1 ON tessera_jobs.archive(archived_on);

    CREATE FUNCTION tessera_jobs.create_queue(queue_name text, options json)
    RETURNS VOID AS
    $$
    DECLARE
      table_name varchar := 'j' || encode(sha224(queue_name::bytea), 'hex');
      queue_created_on timestamptz;
    BEGIN

      WITH q as (
      INSERT INTO tessera_jobs.queue (
        name,
        policy,
        retry_limit,
        retry_delay,
        retry_backoff,
        expire_seconds,
        retention_minutes,
        dead_letter,
        partition_name
      )
      VALUES (
        queue_name,
        options->>'policy',
        (options->>'retryLimit')::int,
        (options->>'retryDelay')::int,
        (options->>'retryBackoff')::bool,
        (options->>'expireInSeconds')::int,
        (options->>'retentionMinutes')::int,
        options->>'deadLetter',
        table_name
      )
      ON CONFLICT DO NOTHING
      RETURNING created_on
      )
      SELECT created_on into queue_created_on from q;

      IF queue_created_on IS NULL THEN
        RETURN;
      END IF;

      EXECUTE format('CREATE TABLE tessera_jobs.%I (LIKE tessera_jobs.job INCLUDING DEFAULTS)', table_name);

      EXECUTE format('ALTER TABLE tessera_jobs.%1$I ADD PRIMARY KEY (name, id)', table_name);
      EXECUTE format('ALTER TABLE tessera_jobs.%1$I ADD CONSTRAINT q_fkey FOREIGN KEY (name) REFERENCES tessera_jobs.queue (name) ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED', table_name);
      EXECUTE format('ALTER TABLE tessera_jobs.%1$I ADD CONSTRAINT dlq_fkey FOREIGN KEY (dead_letter) REFERENCES tessera_jobs.queue (name) ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED', table_name);
      EXECUTE format('CREATE UNIQUE INDEX %1$s_i1 ON tessera_jobs.%1$I (name, COALESCE(singleton_key, '''')) WHERE state = ''created'' AND policy = ''short''', table_name);
      EXECUTE format('CREATE UNIQUE INDEX %1$s_i2 ON tessera_jobs.%1$I (name, COALESCE(singleton_key, '''')) WHERE state = ''active'' AND policy = ''singleton''', table_name);
      EXECUTE format('CREATE UNIQUE INDEX %1$s_i3 ON tessera_jobs.%1$I (name, state, COALESCE(singleton_key, '''')) WHERE state <= ''active'' AND policy = ''stately''', table_name);
      EXECUTE format('CREATE UNIQUE INDEX %1$s_i4 ON tessera_jobs.%1$I (name, singleton_on, COALESCE(singleton_key, '''')) WHERE state <> ''cancelled'' AND singleton_on IS NOT NULL', table_name);
      EXECUTE format('CREATE INDEX %1$s_i5 ON tessera_jobs.%1$I (name, start_after) INCLUDE (priority, created_on, id) WHERE state < ''active''', table_name);

      EXECUTE format('ALTER TABLE tessera_jobs.%I ADD CONSTRAINT cjc CHECK (name=%L)', table_name, queue_name);
      EXECUTE format('ALTER TABLE tessera_jobs.job ATTACH PARTITION tessera_jobs.%I FOR VALUES IN (%L)', table_name, queue_name);
    END;
    $$
    LANGUAGE plpgsql;
  ;

    CREATE FUNCTION tessera_jobs.delete_queue(queue_name text)
    RETURNS VOID AS
    $$
    DECLARE
      table_name varchar;
    BEGIN
      WITH deleted as (
        DELETE FROM tessera_jobs.queue
        WHERE name = queue_name
        RETURNING partition_name
      )
      SELECT partition_name from deleted INTO table_name;

      EXECUTE format('DROP TABLE IF EXISTS tessera_jobs.%I', table_name);
    END;
    $$
    LANGUAGE plpgsql;
  ;
INSERT INTO tessera_jobs.version(version) VALUES ('24');

SELECT tessera_jobs.create_queue('gdpr-export', '{"policy": "standard", "retryLimit": 5, "retryDelay": 30, "retryBackoff": true, "expireInSeconds": 900, "retentionMinutes": 1440}');
SELECT tessera_jobs.create_queue('gdpr-deletion', '{"policy": "standard", "retryLimit": 5, "retryDelay": 30, "retryBackoff": true, "expireInSeconds": 900, "retentionMinutes": 1440}');
SELECT tessera_jobs.create_queue('gdpr-maintenance', '{"policy": "standard", "retryLimit": 1, "retryDelay": 60, "expireInSeconds": 600, "retentionMinutes": 1440}');
-- pg-boss's own cron relay queue (its timekeeper would otherwise try to create it at start).
SELECT tessera_jobs.create_queue('__pgboss__send-it', '{"policy": "standard"}');

REVOKE EXECUTE ON FUNCTION tessera_jobs.create_queue(text, json) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tessera_jobs.delete_queue(text) FROM PUBLIC;
GRANT USAGE ON SCHEMA tessera_jobs TO tessera_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tessera_jobs TO tessera_app;
