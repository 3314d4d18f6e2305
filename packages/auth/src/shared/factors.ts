/** Does a user hold a second factor (an enabled TOTP app or at least one passkey)? */
import { and, eq, isNotNull, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { mfaTotp, webauthnCredentials, type TenantTx } from '@tessera/db';

export async function hasPasskey(tx: TenantTx, userId: string): Promise<boolean> {
  const rows = await tx
    .select({ id: webauthnCredentials.id })
    .from(webauthnCredentials)
    .where(eq(webauthnCredentials.userId, userId))
    .limit(1);
  return rows.length > 0;
}

export async function hasTotp(tx: TenantTx, userId: string): Promise<boolean> {
  const rows = await tx
    .select({ userId: mfaTotp.userId })
    .from(mfaTotp)
    .where(and(eq(mfaTotp.userId, userId), isNotNull(mfaTotp.enabledAt)));
  return rows.length > 0;
}

/** SQL boolean: the user holds a second factor. For a select list, so callers need no extra round trip. */
export function secondFactorExists(userId: AnyColumn | string): SQL<boolean> {
  return sql<boolean>`(EXISTS (SELECT 1 FROM ${mfaTotp} WHERE ${mfaTotp.userId} = ${userId} AND ${mfaTotp.enabledAt} IS NOT NULL)
      OR EXISTS (SELECT 1 FROM ${webauthnCredentials} WHERE ${webauthnCredentials.userId} = ${userId}))`;
}

/** A passkey counts as MFA for `mfaRequired`, step-up and `auth.me.mfaEnabled` (docs/passkeys.md). */
export async function hasSecondFactor(tx: TenantTx, userId: string): Promise<boolean> {
  // One round trip on the sign-in path (it runs for every password sign-in).
  const [row] = await tx.select({ any: secondFactorExists(userId) }).from(sql`(SELECT 1) AS one`);
  return row?.any === true;
}
