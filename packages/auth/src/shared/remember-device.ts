/**
 * Issuing a remembered-device token, the last step of a sign-in that passed a second factor
 * (complete-sign-in.ts). Using, listing and revoking the tokens is mfa/remembered-devices.ts.
 */
import { rememberedDevices, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import type { RequestContext } from '../context/deps.js';
import { randomToken, sha256 } from '../crypto/tokens.js';
import type { SecurityPolicy } from '../tenants/security-policy.js';

const DAY_MS = 86_400_000;

export interface RememberedDeviceToken {
  deviceId: string;
  token: string;
  expiresAt: Date;
}

/** Issues a device token after a second factor; null when the tenant has switched the feature off. */
export async function rememberDevice(
  tx: TenantTx,
  policy: SecurityPolicy,
  userId: string,
  request: RequestContext,
  now: Date,
): Promise<RememberedDeviceToken | null> {
  if (policy.rememberDeviceDays <= 0) return null;
  const token = randomToken();
  const expiresAt = new Date(now.getTime() + policy.rememberDeviceDays * DAY_MS);
  const [row] = await tx
    .insert(rememberedDevices)
    .values({
      tenantId: tx.tenantId,
      userId,
      tokenHash: sha256(token),
      createdAt: now,
      expiresAt,
      ipAddress: request.ip,
      userAgent: request.userAgent?.slice(0, 512) ?? null,
    })
    .returning({ id: rememberedDevices.id });
  if (!row) throw new Error('remembered device insert returned nothing');
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: userId },
    action: 'mfa.device.remembered',
    target: { type: 'remembered_device', id: row.id },
    ip: request.ip,
    userAgent: request.userAgent,
    metadata: { expiresAt: expiresAt.toISOString(), days: policy.rememberDeviceDays },
    occurredAt: now,
  });
  return { deviceId: row.id, token, expiresAt };
}
