/**
 * Start-up refusal (docs/design.md rule 1): the runtime role must not be able to bypass RLS. Refuses a
 * superuser, BYPASSRLS, a role that owns (or is a member of the owner of) any table or view in
 * `public`, one that holds TRUNCATE, or one that is not a member of tessera_app.
 */
import type pg from 'pg';

export class UnsafeRuntimeRoleError extends Error {
  override readonly name = 'UnsafeRuntimeRoleError';
}

export async function runtimeRoleProblems(pool: pg.Pool | pg.Client): Promise<string[]> {
  const { rows } = await pool.query<{ problem: string }>(`
    SELECT 'is superuser' AS problem FROM pg_catalog.pg_roles WHERE rolname = current_user AND rolsuper
    UNION ALL SELECT 'has BYPASSRLS' FROM pg_catalog.pg_roles WHERE rolname = current_user AND rolbypassrls
    UNION ALL SELECT 'owns or is a member of the owner of table ' || c.relname
      FROM pg_catalog.pg_class c
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
        AND pg_catalog.pg_has_role(current_user, c.relowner, 'MEMBER')
    UNION ALL SELECT 'may TRUNCATE ' || c.relname
      FROM pg_catalog.pg_class c
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
        AND pg_catalog.has_table_privilege(current_user, c.oid, 'TRUNCATE')
    UNION ALL SELECT 'is not a member of tessera_app'
      WHERE NOT pg_catalog.pg_has_role(current_user, 'tessera_app', 'MEMBER')`);
  return rows.map((row) => row.problem);
}

export async function assertRuntimeRoleSafe(pool: pg.Pool | pg.Client): Promise<void> {
  const problems = await runtimeRoleProblems(pool);
  if (problems.length > 0) {
    throw new UnsafeRuntimeRoleError(
      `Refusing to serve: the runtime database role could bypass row-level security (${[...new Set(problems)].slice(0, 5).join('; ')}). Use a separate login role that is a member of tessera_app only (APP_DATABASE_URL).`,
    );
  }
}
