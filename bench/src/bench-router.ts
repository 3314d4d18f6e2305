/**
 * The router the bench mounts: the contract's `health`, `auth` and `users` namespaces plus three variants
 * of one tenant-scoped read (a page of 20 users in primary-key order), all built from the
 * contract's own `tenantProcedure`, so each goes through the same middlewares (error mapping,
 * per-call limit, authorize) with the same session-cookie principal.
 *
 * - `bench.rls`: `ctx.withTenant(..., { readOnly: true })` as the runtime role; RLS filters.
 * - `bench.rlsDrizzle`: the same, written with drizzle's query builder as procedures are.
 * - `bench.plain`: no transaction, an explicit `tenant_id = $1`, on a pool connected as the
 *   owner (a superuser). The runtime role cannot serve this: with no tenant set, RLS returns
 *   no rows (fail closed), so "without RLS" means a role that bypasses it.
 */
import { asc } from 'drizzle-orm';
import type { AnyRouter } from '@trpc/server';
import { appRouter, router, tenantProcedure } from '@tessera/api-contract';
import { users, type Database } from '@tessera/db';

export const PAGE_SIZE = 20;
const COLUMNS = 'id, email, display_name, role, created_at';
/** Under RLS the policy supplies the tenant; no WHERE clause (docs/design.md rule 1). */
export const RLS_PAGE_SQL = `SELECT ${COLUMNS} FROM public.users ORDER BY id LIMIT $1`;
export const PLAIN_PAGE_SQL = `SELECT ${COLUMNS} FROM public.users WHERE tenant_id = $1 ORDER BY id LIMIT $2`;

export interface PageRow {
  id: string;
  email: string;
  display_name: string | null;
  role: string;
  created_at: Date;
}

const signedIn = { access: { permission: 'self' } } as const;

export function benchRouter(owner: Pick<Database, 'pool'>): AnyRouter {
  return router({
    health: appRouter.health,
    auth: appRouter.auth,
    users: appRouter.users, // (e): users.list with an API key
    bench: router({
      rls: tenantProcedure.meta(signedIn).query(({ ctx }) =>
        ctx.withTenant(
          // The page size is a bind parameter in both variants, so both use the extended
          // protocol and only RLS and the transaction differ.
          async (tx) => (await tx.client.query<PageRow>(RLS_PAGE_SQL, [PAGE_SIZE])).rows,
          { readOnly: true, singleStatement: true },
        ),
      ),
      rlsDrizzle: tenantProcedure.meta(signedIn).query(({ ctx }) =>
        ctx.withTenant(
          (tx) =>
            tx
              .select({
                id: users.id,
                email: users.email,
                display_name: users.displayName,
                role: users.role,
                created_at: users.createdAt,
              })
              .from(users)
              .orderBy(asc(users.id))
              .limit(PAGE_SIZE),
          { readOnly: true, singleStatement: true },
        ),
      ),
      plain: tenantProcedure.meta(signedIn).query(async ({ ctx }) => {
        const { rows } = await owner.pool.query<PageRow>(PLAIN_PAGE_SQL, [
          ctx.principal.tenantId,
          PAGE_SIZE,
        ]);
        return rows;
      }),
    }),
  });
}
