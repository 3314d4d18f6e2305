import { eq } from 'drizzle-orm';
import { tenants, users, withTenant, type Database } from '@tessera/db';
import { AuthError } from '../errors.js';
import { secondFactorExists } from '../shared/factors.js';
import { toTenantView, toUserView, type TenantView, type UserView } from '../shared/user-view.js';

/** The signed-in user and their tenant: one statement, so one tenant transaction of two round trips. */
export async function loadMe(
  db: Database,
  tenantId: string,
  userId: string,
): Promise<{ user: UserView; tenant: TenantView }> {
  return withTenant(
    db,
    tenantId,
    async (tx) => {
      const [row] = await tx
        .select({
          user: users,
          tenant: { id: tenants.id, slug: tenants.slug, name: tenants.name },
          mfaEnabled: secondFactorExists(users.id),
        })
        .from(users)
        .innerJoin(tenants, eq(tenants.id, users.tenantId))
        .where(eq(users.id, userId));
      if (!row) throw new AuthError('unauthenticated');
      return { user: toUserView(row.user, row.mfaEnabled), tenant: toTenantView(row.tenant) };
    },
    { readOnly: true },
  );
}
