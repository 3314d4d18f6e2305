import { eq } from 'drizzle-orm';
import { knownDevices, loginThrottles, users, withTenant, type Database, type TenantTx, type UserRow } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { rememberDevice as issueDeviceToken, type RememberedDeviceToken } from '../mfa/remembered-devices.js';
import { hasSecondFactor } from '../passkeys/factors.js';
import { enqueueEmail } from '../outbox/enqueue-email.js';
import { createSession, type CreatedSession } from '../sessions/create-session.js';
import type { SecurityPolicy } from '../tenants/security-policy.js';
import type { AccountDeps, RequestContext } from './deps.js';
import { deviceNovelty, signInRisk, userAgentHash } from './sign-in-risk.js';
import { toUserView, type UserView } from './user-view.js';

export interface SignedIn {
  status: 'signed_in';
  user: UserView;
  session: CreatedSession;
  /** Set when the user asked to remember this device after a second factor (and the tenant allows it). */
  device?: RememberedDeviceToken;
}

export interface CompleteSignIn {
  tenantId: string;
  tenantName: string;
  policy: SecurityPolicy;
  user: UserRow;
  /** A fresh Argon2id hash replacing a legacy or weaker one, in the same transaction. */
  newHash: string | null;
  email: string;
  via: 'password' | 'invite' | 'password_reset' | 'mfa' | 'sso' | 'remembered_device' | 'passkey' | 'email_code';
  aal?: 1 | 2;
  /** After a second factor only: issue a remembered-device token (policy `rememberDeviceDays`). */
  rememberDevice?: boolean;
  /** Whether the user holds a second factor, when the caller already knows (saves a query). */
  hasFactor?: boolean;
}

/** Remembers (ip, user agent) per user; true when this pair was never seen before. */
async function rememberDevice(tx: TenantTx, userId: string, request: RequestContext, now: Date): Promise<boolean> {
  const uaHash = userAgentHash(request.userAgent);
  const inserted = await tx
    .insert(knownDevices)
    .values({ tenantId: tx.tenantId, userId, ipAddress: request.ip, userAgentHash: uaHash, firstSeenAt: now, lastSeenAt: now })
    .onConflictDoUpdate({ target: [knownDevices.tenantId, knownDevices.userId, knownDevices.ipAddress, knownDevices.userAgentHash], set: { lastSeenAt: now } })
    .returning({ first: knownDevices.firstSeenAt });
  return inserted[0]?.first.getTime() === now.getTime();
}

/** Tenant policy (docs/design.md "MFA"): must this user have a second factor? */
export function mfaRequiredFor(policy: SecurityPolicy, role: UserRow['role']): boolean {
  return policy.mfaRequired === 'all' || (policy.mfaRequired === 'admins' && (role === 'owner' || role === 'admin'));
}

/** The successful end of every sign-in path: one transaction for session, rehash, bookkeeping and audit. */
export async function completeSignIn(
  db: Database,
  deps: AccountDeps,
  input: CompleteSignIn,
  request: RequestContext,
  now: Date,
  clearFailures: (tx: TenantTx, email: string) => Promise<void>,
): Promise<SignedIn> {
  return withTenant(db, input.tenantId, async (tx) => {
    const [throttle] = await tx.select({ failures: loginThrottles.failures }).from(loginThrottles).where(eq(loginThrottles.email, input.email));
    const novelty = await deviceNovelty(tx, input.user.id, request);
    const riskScore = await signInRisk(tx, novelty, now, throttle?.failures ?? 0, false);
    const seenBefore = novelty.anyDevice;
    const newDevice = await rememberDevice(tx, input.user.id, request, now);
    const upgrade = input.newHash ? { passwordHash: input.newHash, passwordAlgorithm: 'argon2id' as const } : {};
    await tx.update(users).set({ ...upgrade, lastLoginAt: now, lastLoginIp: request.ip, updatedAt: now }).where(eq(users.id, input.user.id));
    await clearFailures(tx, input.email);
    const hasFactor = input.hasFactor ?? (await hasSecondFactor(tx, input.user.id)); // TOTP or a passkey
    const enrollmentOnly = !hasFactor && mfaRequiredFor(input.policy, input.user.role);
    const session = await createSession(tx, input.policy, { userId: input.user.id, aal: input.aal ?? 1, mfaVerifiedAt: input.aal === 2 ? now : null, enrollmentOnly, ip: request.ip, userAgent: request.userAgent }, now);
    const base = { actor: { type: 'user' as const, id: input.user.id }, ip: request.ip, userAgent: request.userAgent, occurredAt: now };
    await recordAuditEvent(tx, { ...base, action: 'auth.sign_in.succeeded', target: { type: 'session', id: session.sessionId }, metadata: { via: input.via, newDevice, enrollmentOnly }, riskScore });
    if (input.newHash) {
      await recordAuditEvent(tx, { ...base, action: 'auth.password.rehashed', target: { type: 'user', id: input.user.id }, metadata: { from: input.user.passwordAlgorithm } });
    }
    if (newDevice && seenBefore) {
      const template = { name: 'new_sign_in' as const, tenantName: input.tenantName, ip: request.ip, userAgent: request.userAgent ?? 'unknown', at: now.toISOString() };
      await enqueueEmail(tx, deps.keyring, { userId: input.user.id, address: input.user.email }, template, now);
    }
    const device = input.rememberDevice && input.aal === 2 ? await issueDeviceToken(tx, input.policy, input.user.id, request, now) : null;
    return { status: 'signed_in' as const, ...(device ? { device } : {}), user: toUserView(input.user, hasFactor), session };
  });
}
