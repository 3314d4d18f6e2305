import { eq } from 'drizzle-orm';
import { users, type TenantTx } from '@tessera/db';
import { disableUserRow } from '../accounts/manage-users.js';
import { recordAuditEvent } from '../audit/index.js';
import { revokeUserDevices } from '../mfa/remembered-devices.js';
import { scimAuditOf, type ScimActor } from './actor.js';

/**
 * `active: false` disables the account through the console's path (sessions revoked, caches
 * invalidated on commit) and revokes remembered devices too; `active: true` enables it again.
 */
export async function setActive(
  tx: TenantTx,
  actor: ScimActor,
  userId: string,
  active: boolean,
  now: Date,
): Promise<void> {
  const audit = scimAuditOf(actor);
  if (active) {
    await tx.update(users).set({ disabledAt: null, updatedAt: now }).where(eq(users.id, userId));
    await recordAuditEvent(tx, {
      ...audit,
      action: 'user.enabled',
      target: { type: 'user', id: userId },
      occurredAt: now,
    });
    return;
  }
  const sessionsRevoked = await disableUserRow(tx, userId, now);
  const request =
    actor.origin.ip === null ? null : { ip: actor.origin.ip, userAgent: actor.origin.userAgent };
  const devicesRevoked = await revokeUserDevices(
    tx,
    { actor: { userId: null }, request, now },
    userId,
    'user_disabled',
  );
  await recordAuditEvent(tx, {
    ...audit,
    action: 'user.disabled',
    target: { type: 'user', id: userId },
    after: { sessionsRevoked, devicesRevoked },
    occurredAt: now,
  });
}
