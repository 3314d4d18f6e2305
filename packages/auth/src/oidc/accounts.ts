/** What the provider reads about a user: their claims (never of a disabled user) and sign-in time. */
import { and, eq, isNull } from 'drizzle-orm';
import { sessions, users, type TenantTx } from '@tessera/db';

export interface OidcAccount {
  id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A live user of the transaction's tenant; null for a disabled or unknown one (or a non-UUID). */
export async function findOidcAccount(tx: TenantTx, userId: string): Promise<OidcAccount | null> {
  if (!UUID.test(userId)) return null;
  const [user] = await tx
    .select({
      id: users.id,
      email: users.email,
      emailVerifiedAt: users.emailVerifiedAt,
      displayName: users.displayName,
    })
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.disabledAt)));
  if (!user) return null;
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.emailVerifiedAt !== null,
    name: user.displayName,
  };
}

/** When the console session was created: the user's authentication time for `auth_time`. */
export async function sessionSignedInAt(tx: TenantTx, sessionId: string): Promise<Date | null> {
  const [row] = await tx
    .select({ createdAt: sessions.createdAt })
    .from(sessions)
    .where(eq(sessions.id, sessionId));
  return row?.createdAt ?? null;
}
