/** Does a user hold a second factor (an enabled TOTP app or at least one passkey)? */
import { and, eq, isNotNull } from 'drizzle-orm';
import { mfaTotp, webauthnCredentials, type TenantTx } from '@tessera/db';

export async function hasPasskey(tx: TenantTx, userId: string): Promise<boolean> {
  const rows = await tx.select({ id: webauthnCredentials.id }).from(webauthnCredentials).where(eq(webauthnCredentials.userId, userId)).limit(1);
  return rows.length > 0;
}

export async function hasTotp(tx: TenantTx, userId: string): Promise<boolean> {
  const rows = await tx.select({ userId: mfaTotp.userId }).from(mfaTotp).where(and(eq(mfaTotp.userId, userId), isNotNull(mfaTotp.enabledAt)));
  return rows.length > 0;
}

/** A passkey counts as MFA for `mfaRequired`, step-up and `auth.me.mfaEnabled` (docs/passkeys.md). */
export async function hasSecondFactor(tx: TenantTx, userId: string): Promise<boolean> {
  return (await hasTotp(tx, userId)) || (await hasPasskey(tx, userId));
}
