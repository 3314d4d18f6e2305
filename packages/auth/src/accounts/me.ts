import { eq } from 'drizzle-orm';
import { tenants, users, type TenantTx } from '@tessera/db';
import { AuthError } from '../errors.js';
import { secondFactorExists } from '../shared/factors.js';
import { toTenantView, toUserView, type TenantView, type UserView } from '../shared/user-view.js';

/**
 * The signed-in user and their tenant, read in the caller's tenant transaction (`auth.me` opens a
 * read-only one): one statement, so the transaction costs two round trips.
 */
export async function loadMe(
  tx: TenantTx,
  userId: string,
): Promise<{ user: UserView; tenant: TenantView }> {
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
}
