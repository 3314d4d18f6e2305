// Catalog spec (docs/design.md rule 1): every table holding tenant data is protected by RLS that Postgres
// enforces even for the owner (FORCE), every policy uses the fail-closed nullif form, and the
// runtime role cannot bypass any of it. A new table that forgets any of this fails here.
import { expect, test } from 'vitest';
import { useTestDatabase } from './testing/index.js';
import { runtimeRoleProblems } from './role-check.js';

const db = useTestDatabase();

test('every table with a tenant_id column has RLS enabled and forced and at least one policy', async () => {
  const { rows } = await db.owner.pool.query<{
    table: string;
    rls: boolean;
    forced: boolean;
    policies: number;
  }>(`
    SELECT c.relname AS table, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
           (SELECT count(*)::int FROM pg_policies p WHERE p.schemaname = 'public' AND p.tablename = c.relname) AS policies
    FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
      AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
           OR c.relname = 'tenants')`);
  expect(rows.length).toBeGreaterThanOrEqual(2);
  for (const row of rows) {
    expect(row, row.table).toMatchObject({ rls: true, forced: true });
    expect(row.policies, row.table).toBeGreaterThan(0);
  }
});

test('every policy reads app.tenant_id through the fail-closed nullif sub-select', async () => {
  const { rows } = await db.owner.pool.query<{
    name: string;
    qual: string | null;
    check: string | null;
  }>(
    `SELECT policyname AS name, qual, with_check AS check FROM pg_policies WHERE schemaname = 'public' AND policyname NOT LIKE '%\\_owner\\_definer'`,
  );
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) {
    for (const expr of [row.qual, row.check]) {
      expect(expr, row.name).toMatch(
        /\( SELECT \(NULLIF\(current_setting\('app\.tenant_id'::text, true\), ''::text\)\)::uuid AS "nullif"\)/,
      );
    }
  }
});

test('the only other policy per table is the owner-only one that SECURITY DEFINER lookups need', async () => {
  const { rows } = await db.owner.pool.query<{ table: string; roles: string[]; owner: string }>(`
    SELECT p.tablename AS table, p.roles::text[] AS roles, pg_get_userbyid(c.relowner) AS owner
    FROM pg_policies p JOIN pg_class c ON c.relname = p.tablename AND c.relnamespace = 'public'::regnamespace
    WHERE p.schemaname = 'public' AND p.policyname LIKE '%\\_owner\\_definer'`);
  const { rows: tables } = await db.owner.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relrowsecurity`,
  );
  expect(rows).toHaveLength(tables[0]?.n ?? -1);
  for (const row of rows) expect(row.roles, row.table).toEqual([row.owner]);
});

test('every tenant_id column leads an index', async () => {
  const { rows } = await db.owner.pool.query<{ table: string }>(`
    SELECT c.relname AS table FROM pg_class c
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
      AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indkey[0] = a.attnum)`);
  expect(rows).toEqual([]);
});

test('the runtime role is not superuser, has no BYPASSRLS or TRUNCATE, and owns nothing', async () => {
  expect(await runtimeRoleProblems(db.app.pool)).toEqual([]);
  const { rows } = await db.app.pool.query<{ super: boolean; bypass: boolean }>(
    'SELECT rolsuper AS super, rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user',
  );
  expect(rows[0]).toEqual({ super: false, bypass: false });
});

test('the owner connection is reported as unsafe to serve with', async () => {
  const problems = await runtimeRoleProblems(db.owner.pool);
  expect(problems).toContain('is superuser');
});

test('every view is security_invoker', async () => {
  const { rows } = await db.owner.pool.query<{ view: string }>(`
    SELECT c.relname AS view FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'v'
      AND NOT coalesce(c.reloptions @> ARRAY['security_invoker=true'], false)`);
  expect(rows).toEqual([]);
});

test('every SECURITY DEFINER function pins search_path and is not executable by PUBLIC', async () => {
  const { rows } = await db.owner.pool.query<{
    name: string;
    config: string[] | null;
    public_exec: boolean;
  }>(`
    SELECT p.proname AS name, p.proconfig AS config,
           has_function_privilege('public', p.oid, 'EXECUTE') AS public_exec
    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef`);
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) {
    expect(row.config, row.name).toContain('search_path=pg_catalog, pg_temp');
    expect(row.public_exec, row.name).toBe(false);
  }
});
