import { eq } from 'drizzle-orm';
import { tenants, users, withTenant, type Database } from '@tessera/db';
import { AuthError } from '../errors.js';
import { hasSecondFactor } from '../passkeys/factors.js';
import { toTenantView, toUserView, type TenantView, type UserView } from './user-view.js';

export async function loadMe(db: Database, tenantId: string, userId: string): Promise<{ user: UserView; tenant: TenantView }> {
  return withTenant(db, tenantId, async (tx) => {
    const [user] = await tx.select().from(users).where(eq(users.id, userId));
    const [tenant] = await tx.select().from(tenants);
    if (!user || !tenant) throw new AuthError('unauthenticated');
    return { user: toUserView(user, await hasSecondFactor(tx, userId)), tenant: toTenantView(tenant) };
  }, { readOnly: true });
}
