/**
 * The security overview's data at bench scale, set-based as the owner, on top of the 1,000 x 1,000
 * directory (seed.ts): second factors (40% TOTP, 20% passkeys, 5% SMS), 10 API keys and 20 privacy
 * requests per tenant, and an audit log of EVENTS_PER_TENANT events per tenant over 60 days in the
 * mix a sign-in-heavy tenant produces, plus one busy tenant with BUSY_EVENTS more in 30 days.
 * Audit rows carry placeholder hashes (the chain is not what is measured here); each tenant gets a
 * chain head and a checkpoint that names a real row, so the anchoring query reads real rows.
 */
import pg from 'pg';
import { QUICK } from './load.js';

export const EVENTS_PER_TENANT = QUICK ? 200 : 2_000;
export const BUSY_EVENTS = QUICK ? 5_000 : 200_000;
export const BUSY_SLUG = 'bench-0001';

// The action of event g: 60% sign-ins, 15% failures, 2% refused, 1% lockouts, 3% MFA failures,
// 5% changes made with an API key, 2% key refusals, 12% other.
// Users and keys are numbered per tenant and picked by number through a hash join (an array of
// ids per tenant would be decompressed once per generated row).
const EVENTS_SQL = `
  WITH t AS (
    SELECT t.id FROM public.tenants t WHERE t.slug BETWEEN $1 AND $2
  ), u AS (
    SELECT u.tenant_id, u.id::text AS id, (row_number() OVER (PARTITION BY u.tenant_id ORDER BY u.id) - 1)::int AS n,
           count(*) OVER (PARTITION BY u.tenant_id)::int AS users
    FROM public.users u JOIN t ON t.id = u.tenant_id
  ), k AS (
    SELECT k.tenant_id, k.id::text AS id, (row_number() OVER (PARTITION BY k.tenant_id ORDER BY k.name) - 1)::int AS n
    FROM public.api_keys k JOIN t ON t.id = k.tenant_id
  ), e AS (
    SELECT t.id AS tenant_id, g,
           now() - make_interval(secs => ($4::int - g) * ($5::float8 * 86400 / $4::int)) AS occurred_at,
           g % 100 AS r
    FROM t CROSS JOIN generate_series(1, $4::int) AS g
  ), picked AS (
    SELECT e.tenant_id, $3::bigint + e.g AS seq, e.occurred_at, e.r, k.id AS key_id, u.id AS user_id
    FROM e
    JOIN (SELECT DISTINCT tenant_id, users FROM u) c ON c.tenant_id = e.tenant_id
    JOIN u ON u.tenant_id = e.tenant_id AND u.n = (e.g * 7919) % c.users
    JOIN k ON k.tenant_id = e.tenant_id AND k.n = e.g % 10
  )
  INSERT INTO public.audit_logs (tenant_id, seq, occurred_at, actor_type, actor_id, action, target_type,
                                 target_id, metadata, risk_score, prev_hash, hash)
  SELECT tenant_id, seq, occurred_at,
         CASE WHEN r BETWEEN 81 AND 87 THEN 'api_key' ELSE 'user' END,
         CASE WHEN r BETWEEN 81 AND 87 THEN key_id ELSE user_id END,
         CASE WHEN r < 60 THEN 'auth.sign_in.succeeded' WHEN r < 75 THEN 'auth.sign_in.failed'
              WHEN r < 77 THEN 'auth.sign_in.refused' WHEN r < 78 THEN 'auth.account.locked'
              WHEN r < 81 THEN 'auth.mfa.failed' WHEN r < 86 THEN 'user.role.changed'
              WHEN r < 88 THEN 'api_key.refused' ELSE 'session.revoked' END,
         CASE WHEN r BETWEEN 86 AND 87 THEN 'api_key' ELSE 'user' END,
         CASE WHEN r BETWEEN 86 AND 87 THEN key_id ELSE user_id END,
         CASE WHEN r BETWEEN 86 AND 87 THEN '{"reason":"rate_limited","refusalsSinceLastEvent":3}'::jsonb ELSE '{}'::jsonb END,
         10, sha256(convert_to(tenant_id::text || (seq - 1), 'UTF8')), sha256(convert_to(tenant_id::text || seq, 'UTF8'))
  FROM picked`;

const slugOf = (i: number): string => `bench-${String(i).padStart(4, '0')}`;

async function events(url: string, from: number, to: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'tessera-bench-seed' });
  await client.connect();
  try {
    // Bulk load: the daily rollup's trigger is skipped here and the rollup filled once at the end.
    await client.query('SET session_replication_role = replica');
    for (let first = from; first <= to; first += 50)
      await client.query(EVENTS_SQL, [
        slugOf(first),
        slugOf(Math.min(first + 49, to)),
        0,
        EVENTS_PER_TENANT,
        60,
      ]);
  } finally {
    await client.end();
  }
}

export async function seedOverviewData(ownerUrl: string, tenants: number): Promise<number> {
  const started = performance.now();
  const client = new pg.Client({
    connectionString: ownerUrl,
    application_name: 'tessera-bench-seed',
  });
  await client.connect();
  try {
    await client.query(`
      INSERT INTO public.mfa_totp (tenant_id, user_id, secret_ciphertext, enabled_at)
        SELECT tenant_id, id, 'x', now() FROM public.users WHERE abs(hashtext(id::text)) % 10 < 4;
      INSERT INTO public.webauthn_credentials (tenant_id, user_id, credential_id, public_key, device_type, name)
        SELECT tenant_id, id, md5(id::text), '\\x00', 'multiDevice', 'key' FROM public.users
         WHERE abs(hashtext(id::text || 'p')) % 10 < 2;
      INSERT INTO public.mfa_phone_numbers (tenant_id, user_id, phone_ciphertext, phone_hint, verified_at)
        SELECT tenant_id, id, 'x', '42', now() FROM public.users WHERE abs(hashtext(id::text || 's')) % 20 = 0;
      INSERT INTO public.api_keys (tenant_id, name, type, environment, prefix, key_hash, pepper_version, last_used_at)
        SELECT t.id, 'key ' || lpad(g::text, 2, '0'), 'secret', 'live', 'sk_live_' || lpad(g::text, 4, '0'),
               sha256(convert_to(t.id::text || g, 'UTF8')), 'v1', now() - make_interval(hours => g)
          FROM public.tenants t CROSS JOIN generate_series(1, 10) AS g;
      INSERT INTO public.privacy_requests (tenant_id, user_id, type, format, status, requested_by_type, requested_by,
          requested_at, original_due_at, due_at)
        SELECT tenant_id, id, CASE WHEN n % 2 = 0 THEN 'export' ELSE 'deletion' END, CASE WHEN n % 2 = 0 THEN 'json' END,
               (ARRAY['pending', 'processing', 'blocked', 'completed', 'failed', 'rejected'])[1 + n % 6], 'user', id,
               now() - make_interval(days => n::int), now() + make_interval(days => 30 - n::int),
               now() + make_interval(days => 30 - n::int)
          FROM (SELECT tenant_id, id, row_number() OVER (PARTITION BY tenant_id ORDER BY id) AS n FROM public.users) u
         WHERE n <= 20;`);
    const half = Math.floor(tenants / 2);
    await Promise.all([events(ownerUrl, 1, half), events(ownerUrl, half + 1, tenants)]);
    await client.query('SET session_replication_role = replica');
    await client.query(EVENTS_SQL, [BUSY_SLUG, BUSY_SLUG, EVENTS_PER_TENANT, BUSY_EVENTS, 30]);
    await client.query('SET session_replication_role = DEFAULT');
    await client.query(`
      INSERT INTO public.audit_daily_counts (tenant_id, action, day, events)
        SELECT tenant_id, action, (occurred_at AT TIME ZONE 'UTC')::date, count(*) FROM public.audit_logs
         WHERE action IN ('auth.sign_in.succeeded', 'auth.sign_in.failed', 'auth.sign_in.refused',
                          'auth.account.locked', 'auth.mfa.failed', 'mfa.verification.failed')
         GROUP BY 1, 2, 3`);
    await client.query(`
      INSERT INTO public.audit_chain_heads (tenant_id, seq, hash)
        SELECT l.tenant_id, l.seq, l.hash FROM public.audit_logs l
         WHERE (l.tenant_id, l.seq) IN (SELECT tenant_id, max(seq) FROM public.audit_logs GROUP BY tenant_id);
      INSERT INTO public.audit_checkpoints (tenant_id, seq, hash, kind, signed_at, key_id, signature)
        SELECT h.tenant_id, h.seq - 10, l.hash, 'head', now() - interval '5 minutes', repeat('ab', 16), decode(repeat('00', 64), 'hex')
          FROM public.audit_chain_heads h JOIN public.audit_logs l ON l.tenant_id = h.tenant_id AND l.seq = h.seq - 10;`);
    // Visibility map and statistics now (index-only scans), as autovacuum would in time.
    await client.query('VACUUM (ANALYZE)');
    return (performance.now() - started) / 1000;
  } finally {
    await client.end();
  }
}
