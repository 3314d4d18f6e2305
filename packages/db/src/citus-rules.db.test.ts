// Sharding by tenant on Citus (docs/scaling.md "Sharding by tenant"): a table with a tenant_id
// column can be distributed by tenant_id only if every primary key and unique index includes
// tenant_id and every foreign key between tenant tables carries it, so each check and each join
// stays inside one shard. Read from pg_catalog of the migrated database; a new table or index
// breaking a rule fails here. Today's exceptions are listed below, each with its reason.
import type pg from 'pg';
import { expect, test } from 'vitest';
import { useTestDatabase } from './testing/index.js';

const db = useTestDatabase({ poolSize: 1 });

/**
 * Today's exceptions, by index name, and why. Each has to change before the tables are distributed
 * (docs/scaling.md "Sharding by tenant"). Never add to these lists for a new table: give its keys
 * tenant_id instead.
 */
// Primary key on id alone. Each of these tables also has UNIQUE (tenant_id, id), the target of
// the composite foreign keys (checked below), so distributing means promoting that one to primary
// key and dropping the id-only index.
const PRIMARY_KEY_ON_ID: readonly string[] = [
  'api_keys_pkey',
  'email_outbox_pkey',
  'mfa_backup_codes_pkey',
  'mfa_challenges_pkey',
  'one_time_codes_pkey',
  'privacy_download_tokens_pkey',
  'privacy_legal_holds_pkey',
  'privacy_requests_pkey',
  'privacy_webhook_deliveries_pkey',
  'privacy_webhook_endpoints_pkey',
  'remembered_devices_pkey',
  'sessions_pkey',
  'sso_settings_pkey',
  'user_identities_pkey',
  'user_tokens_pkey',
  'users_pkey',
  'webauthn_challenges_pkey',
  'webauthn_credentials_pkey',
];
// Unique across all tenants on purpose: the hash of a bearer secret is looked up before the
// tenant is known (SECURITY DEFINER lookups of a session cookie, an API key, an MFA challenge,
// a remembered device, an e-mailed token, a download link). On Citus these lookups move to a
// reference table (hash -> tenant_id) or the secret carries its tenant.
// A new kind of bearer secret looked up before its tenant is known is the one addition this list
// may take (a SCIM token, like an API key).
const GLOBAL_SECRET_LOOKUPS: readonly string[] = [
  'api_keys_key_hash_key',
  'mfa_challenges_token_hash_key',
  'privacy_download_tokens_token_hash_key',
  'remembered_devices_token_hash_key',
  'scim_tokens_token_hash_key',
  'sessions_token_hash_key',
  'user_tokens_token_hash_key',
];
const ALLOWED = new Set([...PRIMARY_KEY_ON_ID, ...GLOBAL_SECRET_LOOKUPS]);

interface Violation {
  name: string;
  detail: string;
}

async function violations(pool: Pick<pg.ClientBase, 'query'>): Promise<Violation[]> {
  const found: Violation[] = [];
  // Tables (not partitions) in public with a tenant_id column.
  const { rows: tables } = await pool.query<{ oid: number; name: string; tenant_att: number }>(`
    SELECT c.oid::int AS oid, c.relname AS name, a.attnum::int AS tenant_att
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     ORDER BY c.relname`);
  const tenantAtt = new Map(tables.map((t) => [t.oid, t.tenant_att]));

  const { rows: noKey } = await pool.query<{ name: string }>(
    `
    SELECT c.relname AS name FROM pg_catalog.pg_class c
     WHERE c.oid = ANY($1::oid[]) AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)`,
    [tables.map((t) => t.oid)],
  );
  for (const row of noKey)
    found.push({ name: `${row.name} (no primary key)`, detail: `${row.name} has no primary key` });

  // Primary keys, unique constraints and unique indexes (partial and expression ones too).
  const { rows: uniques } = await pool.query<{
    table_oid: number;
    table_name: string;
    index_name: string;
    keys: number[];
    definition: string;
  }>(
    `
    SELECT i.indrelid::int AS table_oid, t.relname AS table_name, x.relname AS index_name,
           (i.indkey::int2[])::int[] AS keys, pg_catalog.pg_get_indexdef(i.indexrelid) AS definition
      FROM pg_catalog.pg_index i
      JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
      JOIN pg_catalog.pg_class x ON x.oid = i.indexrelid
     WHERE i.indisunique AND i.indrelid = ANY($1::oid[])
     ORDER BY 2, 3`,
    [tables.map((t) => t.oid)],
  );
  for (const u of uniques) {
    if (!u.keys.includes(tenantAtt.get(u.table_oid) ?? -1))
      found.push({
        name: u.index_name,
        detail: `${u.table_name}: unique without tenant_id: ${u.definition}`,
      });
  }

  // Foreign keys touching a tenant table.
  const { rows: fks } = await pool.query<{
    name: string;
    from_oid: number;
    from_name: string;
    to_oid: number;
    to_name: string;
    from_keys: number[];
    to_keys: number[];
    to_cols: string[];
    definition: string;
  }>(
    `
    SELECT k.conname AS name, k.conrelid::int AS from_oid, f.relname AS from_name, k.confrelid::int AS to_oid, r.relname AS to_name,
           k.conkey::int[] AS from_keys, k.confkey::int[] AS to_keys,
           ARRAY(SELECT a.attname::text FROM unnest(k.confkey) AS key(n) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = key.n) AS to_cols,
           pg_catalog.pg_get_constraintdef(k.oid) AS definition
      FROM pg_catalog.pg_constraint k
      JOIN pg_catalog.pg_class f ON f.oid = k.conrelid
      JOIN pg_catalog.pg_class r ON r.oid = k.confrelid
     WHERE k.contype = 'f' AND (k.conrelid = ANY($1::oid[]) OR k.confrelid = ANY($1::oid[]))
     ORDER BY 1`,
    [tables.map((t) => t.oid)],
  );
  for (const fk of fks) {
    const fromTenant = tenantAtt.get(fk.from_oid);
    const toTenant = tenantAtt.get(fk.to_oid);
    let problem: string | null = null;
    if (fromTenant !== undefined && toTenant !== undefined) {
      // Composite: tenant_id on one side matches tenant_id on the other.
      const at = fk.from_keys.indexOf(fromTenant);
      if (at < 0 || fk.to_keys[at] !== toTenant)
        problem = 'between tenant tables without tenant_id = tenant_id';
    } else if (fromTenant === undefined && toTenant !== undefined) {
      problem = 'from a table without tenant_id into a tenant table';
    } else if (fromTenant !== undefined && fk.to_name === 'tenants') {
      // The tenants table is distributed by its id: a reference to it must be tenant_id -> id.
      const at = fk.from_keys.indexOf(fromTenant);
      if (fk.from_keys.length !== 1 || at !== 0 || fk.to_cols[0] !== 'id')
        problem = 'to tenants not on tenant_id -> id';
    }
    if (problem)
      found.push({
        name: fk.name,
        detail: `${fk.from_name} -> ${fk.to_name}: foreign key ${problem}: ${fk.definition}`,
      });
  }
  return found;
}

test('every tenant table could be distributed by tenant_id: keys and unique indexes include it, foreign keys carry it (exceptions listed)', async () => {
  const found = await violations(db.owner.pool);
  const unexpected = found.filter((v) => !ALLOWED.has(v.name));
  expect(
    unexpected.map((v) => `${v.name}: ${v.detail}`),
    'a tenant table breaks the Citus rules (docs/scaling.md)',
  ).toEqual([]);
  // An exception that was fixed leaves the list, so the list never hides a new break.
  const stale = [...ALLOWED].filter((name) => !found.some((v) => v.name === name));
  expect(stale, 'fixed: remove from the exceptions').toEqual([]);
  // Each id-only primary key has the (tenant_id, id) key beside it that would replace it.
  const { rows } = await db.owner.pool.query<{ table_name: string }>(`
    SELECT t.relname AS table_name
      FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
     WHERE i.indisunique AND i.indpred IS NULL AND t.relnamespace = 'public'::regnamespace
       AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM unnest(i.indkey) AS k(n)
              JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n) = ARRAY['id', 'tenant_id']`);
  const withTenantKey = new Set(rows.map((r) => r.table_name));
  expect(
    PRIMARY_KEY_ON_ID.filter((pkey) => !withTenantKey.has(pkey.replace(/_pkey$/, ''))),
  ).toEqual([]);
});

test('the rules see the catalog: a new table breaking each of them is caught', async () => {
  const client = await db.owner.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      'CREATE TABLE public.citus_probe_parent (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id))',
    );
    await client.query(`CREATE TABLE public.citus_probe (
      tenant_id uuid NOT NULL, id uuid NOT NULL, email text, parent_id uuid,
      CONSTRAINT citus_probe_pkey PRIMARY KEY (id),
      CONSTRAINT citus_probe_email_key UNIQUE (email),
      CONSTRAINT citus_probe_tenant_fk FOREIGN KEY (id) REFERENCES public.tenants (id),
      CONSTRAINT citus_probe_parent_fk FOREIGN KEY (tenant_id, parent_id) REFERENCES public.citus_probe_parent (id, tenant_id))`);
    await client.query(
      'CREATE TABLE public.citus_probe_global (id uuid PRIMARY KEY, tenant_ref uuid, child_tenant uuid, child_id uuid, CONSTRAINT citus_probe_global_fk FOREIGN KEY (child_tenant, child_id) REFERENCES public.citus_probe_parent (tenant_id, id))',
    );
    await client.query(
      'CREATE TABLE public.citus_probe_keyless (tenant_id uuid NOT NULL, note text)',
    );
    const found = (await violations(client))
      .map((v) => v.name)
      .filter((name) => name.startsWith('citus_probe'));
    expect(found.sort()).toEqual([
      'citus_probe_email_key',
      'citus_probe_global_fk',
      'citus_probe_keyless (no primary key)',
      'citus_probe_parent_fk',
      'citus_probe_pkey',
      'citus_probe_tenant_fk',
    ]);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
});
