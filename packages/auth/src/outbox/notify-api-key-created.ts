import { eq } from 'drizzle-orm';
import { tenants, users, type TenantTx } from '@tessera/db';
import type { Keyring } from '../crypto/keyring.js';
import { enqueueEmail } from './enqueue-email.js';
import type { EmailTemplate } from './templates.js';

/** Mails a security notice to a user of the transaction's tenant, in the transaction that did it. */
export async function notifyUser(
  tx: TenantTx,
  keyring: Keyring,
  userId: string,
  notice: DistributiveOmit<EmailTemplate, 'tenantName'>,
  now: Date,
): Promise<void> {
  const [user] = await tx.select({ email: users.email }).from(users).where(eq(users.id, userId));
  const [tenant] = await tx.select({ name: tenants.name }).from(tenants);
  if (!user) return;
  await enqueueEmail(
    tx,
    keyring,
    { userId, address: user.email },
    { ...notice, tenantName: tenant?.name ?? '' },
    now,
  );
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Security notification: the user who created a key is told, in the creating transaction. */
export async function notifyApiKeyCreated(
  tx: TenantTx,
  keyring: Keyring,
  userId: string,
  key: { name: string; prefix: string },
  now: Date,
): Promise<void> {
  await notifyUser(
    tx,
    keyring,
    userId,
    { name: 'api_key_created', keyName: key.name, prefix: key.prefix },
    now,
  );
}
