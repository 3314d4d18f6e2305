/**
 * Remembered devices ("trust this device for N days"). After a successful second factor the user
 * may get a separate long-lived bearer token (32 random bytes, only its SHA-256 stored) in its own
 * httpOnly cookie. At password sign-in it replaces the MFA challenge, and only for the user and
 * tenant it was issued to: the row is read under the tenant's RLS scope and must name the user.
 *
 * AAL (docs/mfa-factors.md): the token is not an authenticator. A session it opens is AAL1 with no
 * MFA time, so step-up still needs a fresh code; it only spares the challenge at sign-in.
 * The tenant's current `rememberDeviceDays` caps every token (0 switches them all off at once).
 * Password change or reset, MFA disable or reset, "sign out everywhere" and devices.revokeAll
 * revoke them. Pinned by remembered-devices.security.test.ts.
 */
import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import { rememberedDevices, type TenantTx } from '@tessera/db';
import type { RequestContext } from '../context/deps.js';
import { recordAuditEvent } from '../audit/index.js';
import { isWellFormedToken, sha256 } from '../crypto/tokens.js';
import { AuthError } from '../errors.js';
import type { SecurityPolicy } from '../tenants/security-policy.js';
import type { TenantUseCase } from '../context/use-case.js';

const DAY_MS = 86_400_000;

export type DeviceRevokeReason =
  | 'revoked'
  | 'revoked_all'
  | 'revoked_others'
  | 'password_changed'
  | 'password_reset'
  | 'mfa_disabled'
  | 'mfa_reset'
  | 'user_disabled';

export interface RememberedDeviceView {
  id: string;
  current: boolean;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string;
  ipAddress: string | null;
  userAgent: string | null;
}

interface DeviceOwner {
  tenantId: string;
  userId: string;
}

/** A live device of this user for this token, or null (malformed, unknown, other user, revoked, expired). */
async function findTrustedDevice(
  tx: TenantTx,
  policy: SecurityPolicy,
  userId: string,
  token: string,
  now: Date,
) {
  if (policy.rememberDeviceDays <= 0 || !isWellFormedToken(token)) return null;
  const [row] = await tx
    .select()
    .from(rememberedDevices)
    .where(
      and(
        eq(rememberedDevices.tokenHash, sha256(token)),
        eq(rememberedDevices.userId, userId),
        isNull(rememberedDevices.revokedAt),
        gt(rememberedDevices.expiresAt, now),
      ),
    )
    .for('update');
  if (!row) return null;
  // A tenant that shortens the period shortens existing tokens too.
  if (row.createdAt.getTime() + policy.rememberDeviceDays * DAY_MS <= now.getTime()) return null;
  return row;
}

/**
 * At password sign-in of a user with a second factor: true when `token` is a live device token of
 * this user, in which case its use is recorded (last use, audit) in the caller's transaction.
 */
export async function trustRememberedDevice(
  tx: TenantTx,
  uc: TenantUseCase<{ userId: string }>,
  policy: SecurityPolicy,
  token: string | undefined,
): Promise<boolean> {
  const {
    actor: { userId },
    request,
    now,
  } = uc;
  if (!token) return false;
  const device = await findTrustedDevice(tx, policy, userId, token, now);
  if (!device) return false;
  await tx
    .update(rememberedDevices)
    .set({ lastUsedAt: now })
    .where(eq(rememberedDevices.id, device.id));
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: userId },
    action: 'mfa.device.used',
    target: { type: 'remembered_device', id: device.id },
    ip: request.ip,
    userAgent: request.userAgent,
    occurredAt: now,
  });
  return true;
}

/**
 * Who revokes a user's devices, from where and when: a user (`actor.userId`), or the system
 * (`actor.userId` null, `request` null when no request caused it).
 */
export type DeviceRevocation = Omit<TenantUseCase<{ userId: string | null }>, 'request'> & {
  request: RequestContext | null;
};

/** Revokes every live device of the user; records one audit event when any was revoked. */
export async function revokeUserDevices(
  tx: TenantTx,
  uc: DeviceRevocation,
  userId: string,
  reason: DeviceRevokeReason,
): Promise<number> {
  const { actor, request, now } = uc;
  const rows = await tx
    .update(rememberedDevices)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(eq(rememberedDevices.userId, userId), isNull(rememberedDevices.revokedAt)))
    .returning({ id: rememberedDevices.id });
  if (rows.length > 0) {
    await recordAuditEvent(tx, {
      actor: { type: actor.userId ? 'user' : 'system', id: actor.userId },
      action: 'mfa.device.revoked',
      target: { type: 'user', id: userId },
      ip: request?.ip ?? null,
      userAgent: request?.userAgent ?? null,
      metadata: { reason, devices: rows.length },
      occurredAt: now,
    });
  }
  return rows.length;
}

/** The user's live devices, newest first; `current` marks the one whose token this browser holds. */
export async function listRememberedDevices(
  tx: TenantTx,
  userId: string,
  currentToken: string | undefined,
  now: Date,
): Promise<RememberedDeviceView[]> {
  const rows = await tx
    .select()
    .from(rememberedDevices)
    .where(
      and(
        eq(rememberedDevices.userId, userId),
        isNull(rememberedDevices.revokedAt),
        gt(rememberedDevices.expiresAt, now),
      ),
    )
    .orderBy(desc(rememberedDevices.createdAt));
  const currentHash = currentToken && isWellFormedToken(currentToken) ? sha256(currentToken) : null;
  return rows.map((d) => ({
    id: d.id,
    current: currentHash !== null && currentHash.equals(d.tokenHash),
    createdAt: d.createdAt.toISOString(),
    lastUsedAt: d.lastUsedAt?.toISOString() ?? null,
    expiresAt: d.expiresAt.toISOString(),
    ipAddress: d.ipAddress,
    userAgent: d.userAgent,
  }));
}

/** Revokes one of the caller's devices; another user's (or tenant's) id is NOT_FOUND. */
export async function revokeRememberedDevice(
  tx: TenantTx,
  uc: TenantUseCase<DeviceOwner>,
  deviceId: string,
): Promise<void> {
  const { actor: who, request, now } = uc;
  const rows = await tx
    .update(rememberedDevices)
    .set({ revokedAt: now, revokedReason: 'revoked' })
    .where(
      and(
        eq(rememberedDevices.id, deviceId),
        eq(rememberedDevices.userId, who.userId),
        isNull(rememberedDevices.revokedAt),
      ),
    )
    .returning({ id: rememberedDevices.id });
  if (!rows.length) throw new AuthError('not_found');
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: who.userId },
    action: 'mfa.device.revoked',
    target: { type: 'remembered_device', id: deviceId },
    ip: request.ip,
    userAgent: request.userAgent,
    metadata: { reason: 'revoked', devices: 1 },
    occurredAt: now,
  });
}

/** "Forget all devices": revokes every device of the caller. */
export async function revokeAllRememberedDevices(
  tx: TenantTx,
  uc: TenantUseCase<DeviceOwner>,
  reason: DeviceRevokeReason,
): Promise<number> {
  return revokeUserDevices(tx, uc, uc.actor.userId, reason);
}
