/** Enrollment, status, backup codes, step-up, disable and admin reset of the TOTP factor. */
import { assertMayManage } from '../roles/grant-rule.js';
import { memberPermissions } from '../roles/manage-roles.js';
import { and, eq, isNull, sql } from 'drizzle-orm';
import QRCode from 'qrcode';
import {
  mfaBackupCodes,
  mfaTotp,
  sessions,
  tenants,
  users,
  webauthnCredentials,
  withTenant,
  type TenantTx,
} from '@tessera/db';
import type { AccountDeps } from '../context/deps.js';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { mfaCodeRefused } from '../outcomes.js';
import { enqueueEmail } from '../outbox/enqueue-email.js';
import type { CreatedSession } from '../sessions/create-session.js';
import { replaceSession } from '../sessions/replace-session.js';
import { tenantPolicyOf } from '../tenants/update-policy.js';
import { mfaRequiredFor } from '../shared/complete-sign-in.js';
import { confirmPassword } from '../shared/confirm-password.js';
import { hasPasskey } from '../shared/factors.js';
import { BACKUP_CODE_COUNT, hashBackupCode, newBackupCode } from './backup-codes.js';
import { removeSmsFactor } from './oob-codes-sms.js';
import { revokeUserDevices } from './remembered-devices.js';
import { throwForFailedCheck } from './challenge.js';
import { matchTotpStep, newTotpSecret, totpUri } from './totp.js';
import { checkSecondFactor, recordFactorFailure, totpContext } from './verify-second-factor.js';
import type { ActorUseCase, TenantUseCase } from '../context/use-case.js';

export interface MfaSubject {
  tenantId: string;
  userId: string;
  sessionId: string;
}

export const PENDING_PURPOSE = 'mfa_totp.pending';
const PENDING_TTL_MS = 15 * 60_000;
const pendingContext = (s: MfaSubject) => ({
  purpose: PENDING_PURPOSE,
  tenantId: s.tenantId,
  rowId: s.userId,
});

export async function mfaStatus(
  tx: TenantTx,
  userId: string,
): Promise<{ enabled: boolean; enabledAt: string | null; backupCodesRemaining: number }> {
  const [factor] = await tx
    .select({ enabledAt: mfaTotp.enabledAt })
    .from(mfaTotp)
    .where(eq(mfaTotp.userId, userId));
  const [codes] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(mfaBackupCodes)
    .where(and(eq(mfaBackupCodes.userId, userId), isNull(mfaBackupCodes.usedAt)));
  return {
    enabled: Boolean(factor?.enabledAt),
    enabledAt: factor?.enabledAt?.toISOString() ?? null,
    backupCodesRemaining: factor?.enabledAt ? (codes?.n ?? 0) : 0,
  };
}

/** A pending TOTP secret, as `beginEnrollment` stored it: shown once, confirmed by a code. */
export interface PendingEnrollment {
  secret: string;
  otpauthUri: string;
}

/**
 * Stores a fresh pending secret for the caller (replacing any earlier one) in the caller's tenant
 * transaction; refuses a user whose TOTP factor is already on. The QR code is drawn from the
 * result after the commit (`withQrCode`), so no transaction waits on it.
 */
export async function beginEnrollment(
  tx: TenantTx,
  uc: Pick<TenantUseCase<MfaSubject>, 'actor' | 'now'> & { deps: Pick<AccountDeps, 'keyring'> },
): Promise<PendingEnrollment> {
  const { actor: who, deps, now } = uc;
  const secret = newTotpSecret();
  const [factor] = await tx.select().from(mfaTotp).where(eq(mfaTotp.userId, who.userId));
  if (factor?.enabledAt)
    throw new AuthError('conflict', { detail: 'Two-factor authentication is already enabled.' });
  const [tenant] = await tx.select().from(tenants);
  const [user] = await tx.select().from(users).where(eq(users.id, who.userId));
  const pending = deps.keyring.encrypt(secret, pendingContext(who));
  await tx
    .insert(mfaTotp)
    .values({
      tenantId: who.tenantId,
      userId: who.userId,
      pendingCiphertext: pending,
      pendingCreatedAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: [mfaTotp.tenantId, mfaTotp.userId],
      set: { pendingCiphertext: pending, pendingCreatedAt: now, updatedAt: now },
    });
  return { secret, otpauthUri: totpUri(secret, tenant?.name ?? 'Tessera', user?.email ?? '') };
}

/** The pending enrollment with its `otpauth:` URI drawn as a QR code (a PNG data URL). */
export async function withQrCode(
  pending: PendingEnrollment,
): Promise<PendingEnrollment & { qrCodeDataUrl: string }> {
  return {
    ...pending,
    qrCodeDataUrl: await QRCode.toDataURL(pending.otpauthUri, {
      errorCorrectionLevel: 'M',
      margin: 2,
    }),
  };
}

async function replaceBackupCodes(tx: TenantTx, userId: string, now: Date): Promise<string[]> {
  const codes = Array.from({ length: BACKUP_CODE_COUNT }, newBackupCode);
  const hashes = await Promise.all(codes.map(hashBackupCode));
  await tx.delete(mfaBackupCodes).where(eq(mfaBackupCodes.userId, userId));
  await tx
    .insert(mfaBackupCodes)
    .values(
      hashes.map((codeHash) => ({ tenantId: tx.tenantId, userId, codeHash, createdAt: now })),
    );
  return codes;
}

/**
 * Activates the pending secret after a valid code; returns backup codes, and a new session token
 * when this is the user's first factor (see replaceSession: the session gains no MFA time). Next to
 * an existing factor (a passkey) the session stays as it is; the caller required step-up for that.
 */
export async function confirmEnrollment(
  tx: TenantTx,
  uc: TenantUseCase<MfaSubject> & Pick<ActorUseCase, 'deps'>,
  code: string,
): Promise<{ backupCodes: string[]; session: CreatedSession | null }> {
  const { deps, actor: who, request, now } = uc;
  const [factor] = await tx
    .select()
    .from(mfaTotp)
    .where(eq(mfaTotp.userId, who.userId))
    .for('update');
  if (factor?.enabledAt)
    throw new AuthError('conflict', { detail: 'Two-factor authentication is already enabled.' });
  if (
    !factor?.pendingCiphertext ||
    !factor.pendingCreatedAt ||
    now.getTime() - factor.pendingCreatedAt.getTime() > PENDING_TTL_MS
  )
    throw new AuthError('token_invalid', { detail: 'Start the setup again.' });
  const secret = deps.keyring.decryptString(factor.pendingCiphertext, pendingContext(who));
  const step = matchTotpStep(secret, code, now);
  if (step === null) throw mfaCodeRefused('mfa_code_invalid', { field: 'code' });
  const hadFactor = await hasPasskey(tx, who.userId); // an enabled app was refused above
  await tx
    .update(mfaTotp)
    .set({
      secretCiphertext: deps.keyring.encrypt(secret, totpContext(who.tenantId, who.userId)),
      pendingCiphertext: null,
      pendingCreatedAt: null,
      enabledAt: now,
      lastUsedStep: step,
      failedAttempts: 0,
      lockedUntil: null,
      updatedAt: now,
    })
    .where(eq(mfaTotp.userId, who.userId));
  const backupCodes = await replaceBackupCodes(tx, who.userId, now);
  const { tenantName, policy } = await tenantPolicyOf(tx);
  const [user] = await tx.select().from(users).where(eq(users.id, who.userId));
  // A first factor is a privilege change (the session stops being enrollment-only): a new token.
  const session = hadFactor ? null : await replaceSession(tx, policy, who, request, now);
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: who.userId },
    action: 'mfa.enabled',
    target: { type: 'user', id: who.userId },
    ip: request.ip,
    userAgent: request.userAgent,
    occurredAt: now,
    metadata: { firstFactor: !hadFactor },
  });
  if (user)
    await enqueueEmail(
      tx,
      deps.keyring,
      { userId: who.userId, address: user.email },
      { name: 'mfa_enabled', tenantName },
      now,
    );
  return { backupCodes, session };
}

/**
 * Verifies a code for a signed-in user and renews the session's step-up window (10 minutes).
 * A wrong code is counted and committed before the error leaves.
 */
export async function verifyCodeForSession(
  uc: ActorUseCase<MfaSubject>,
  code: string,
  action: string,
): Promise<void> {
  const { db, deps, actor: who, request, now } = uc;
  const check = await withTenant(db, who.tenantId, async (tx) => {
    const result = await checkSecondFactor(tx, deps.keyring, who.userId, code, now);
    const base = {
      actor: { type: 'user' as const, id: who.userId },
      target: { type: 'session', id: who.sessionId },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
    };
    if (result.ok) {
      await tx
        .update(sessions)
        .set({ aal: 2, mfaVerifiedAt: now })
        .where(eq(sessions.id, who.sessionId));
      await recordAuditEvent(tx, { ...base, action, metadata: { method: result.method } });
    } else {
      if (result.reason === 'invalid') await recordFactorFailure(tx, who.userId, now);
      await recordAuditEvent(tx, {
        ...base,
        action: 'mfa.verification.failed',
        metadata: { reason: result.reason, for: action },
      });
    }
    return result;
  });
  if (!check.ok) {
    if (check.reason === 'not_enrolled')
      throw new AuthError('forbidden', { detail: 'Two-factor authentication is not enabled.' });
    throwForFailedCheck(check);
  }
}

export async function regenerateBackupCodes(
  uc: ActorUseCase<MfaSubject>,
  code: string,
): Promise<string[]> {
  const { db, actor: who, request, now } = uc;
  await verifyCodeForSession(uc, code, 'mfa.step_up');
  return withTenant(db, who.tenantId, async (tx) => {
    const codes = await replaceBackupCodes(tx, who.userId, now);
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: who.userId },
      action: 'mfa.backup_codes.regenerated',
      target: { type: 'user', id: who.userId },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
    });
    return codes;
  });
}

async function removeFactors(tx: TenantTx, userId: string): Promise<void> {
  await tx.delete(mfaBackupCodes).where(eq(mfaBackupCodes.userId, userId));
  await tx.delete(mfaTotp).where(eq(mfaTotp.userId, userId));
  await removeSmsFactor(tx, userId);
}

export async function disableMfa(
  uc: ActorUseCase<MfaSubject>,
  input: { password: string; code: string },
): Promise<void> {
  const { db, deps, actor: who, request, now } = uc;
  const lastRequired = await withTenant(
    db,
    who.tenantId,
    async (tx) => {
      const [row] = await tx
        .select({ role: users.role })
        .from(users)
        .where(eq(users.id, who.userId));
      // The last factor stays while the tenant requires MFA (docs/mfa-factors.md); SMS never counts alone.
      return (
        Boolean(row) &&
        mfaRequiredFor((await tenantPolicyOf(tx)).policy, row?.role ?? 'member') &&
        !(await hasPasskey(tx, who.userId))
      );
    },
    { readOnly: true },
  );
  if (lastRequired)
    throw new AuthError('forbidden', {
      detail:
        'Your organisation requires two-factor authentication: add a passkey before turning the authenticator app off, or ask an admin to reset it.',
    });
  const { user, tenant } = await confirmPassword(uc, {
    password: input.password,
    purpose: 'disable_mfa',
    field: 'password',
  });
  await verifyCodeForSession(uc, input.code, 'mfa.step_up');
  await withTenant(db, who.tenantId, async (tx) => {
    await removeFactors(tx, who.userId);
    await revokeUserDevices(tx, uc, who.userId, 'mfa_disabled');
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: who.userId },
      action: 'mfa.disabled',
      target: { type: 'user', id: who.userId },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
    });
    await enqueueEmail(
      tx,
      deps.keyring,
      { userId: who.userId, address: user.email },
      { name: 'mfa_disabled', tenantName: tenant.name },
      now,
    );
  });
}

/** Owners and admins clear a user's factors and sessions (only owners reset owners). */
export async function resetUserMfa(
  tx: TenantTx,
  uc: TenantUseCase,
  targetUserId: string,
): Promise<void> {
  const { actor, request, now } = uc;
  const [target] = await tx.select().from(users).where(eq(users.id, targetUserId));
  if (!target) throw new AuthError('not_found');
  if (target.role === 'owner' && actor.role !== 'owner')
    throw new AuthError('forbidden', { detail: 'Only owners can reset owners.' });
  // A custom role resets only members whose permissions it holds (docs/roles.md).
  assertMayManage(actor, target.role, await memberPermissions(tx, target));
  await removeFactors(tx, target.id);
  await revokeUserDevices(tx, uc, target.id, 'mfa_reset');
  await tx.delete(webauthnCredentials).where(eq(webauthnCredentials.userId, target.id)); // passkeys are factors too
  await tx
    .update(sessions)
    .set({ revokedAt: now, revokedReason: 'mfa_reset' })
    .where(and(eq(sessions.userId, target.id), isNull(sessions.revokedAt)));
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: actor.userId },
    action: 'mfa.reset',
    target: { type: 'user', id: target.id },
    ip: request.ip,
    userAgent: request.userAgent,
    occurredAt: now,
  });
}
