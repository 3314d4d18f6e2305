/**
 * SMS one-time codes: enrollment of a phone number, disable, and codes for a sign-in challenge.
 *
 * SMS is a RESTRICTED authenticator (NIST SP 800-63B §5.1.3.3): tenants opt in
 * (`smsCodesAllowed`), and a user may add SMS only next to an authenticator app, whose backup codes
 * stay the recovery path; removing SMS never removes the user's last factor. The number is personal
 * data: stored encrypted (bound to tenant and user) with a two-digit hint for display; per-number
 * rate limits use an HMAC of it, so the limiter store never holds the number. Refusals are audited
 * in a transaction that commits before the error leaves (docs/design.md "Failure bookkeeping").
 */
import { and, eq, gt, isNull } from 'drizzle-orm';
import {
  lookupMfaChallenge,
  mfaChallenges,
  mfaPhoneNumbers,
  users,
  withTenant,
  type Database,
  type TenantTx,
} from '@tessera/db';
import type { AccountDeps, RequestContext } from '../context/deps.js';
import { recordAuditEvent } from '../audit/index.js';
import { isWellFormedToken, sha256 } from '../crypto/tokens.js';
import { AuthError } from '../errors.js';
import { mfaCodeRefused } from '../outcomes.js';
import { enforceLimit } from '../rate-limit/rate-limiter.js';
import { hasTotp } from '../shared/factors.js';
import { tenantPolicyOf } from '../tenants/update-policy.js';
import { CHALLENGE_MAX_ATTEMPTS } from './challenge-token.js';
import {
  checkOneTimeCode,
  deleteUserCodes,
  issueOneTimeCode,
  type CodeCheck,
} from './oob-codes.js';
import { normalizePhoneNumber, phoneHint, phoneRateKey, type SmsGateway } from './sms-provider.js';
import type { ActorUseCase, TenantUseCase, UseCase } from '../context/use-case.js';

export const SMS_LIMITS = {
  perUser: { max: 5, windowMs: 15 * 60_000 },
  perNumber: { max: 5, windowMs: 60 * 60_000 },
  perIp: { max: 20, windowMs: 60 * 60_000 },
  /** A whole tenant's daily budget: caps SMS pumping (toll fraud) spread over many accounts. */
  perTenant: { max: 500, windowMs: 24 * 60 * 60_000 },
} as const;

const PHONE_PURPOSE = 'mfa_phone_numbers.phone';

export interface SmsSubject {
  tenantId: string;
  userId: string;
}

export interface OtpStatus {
  /** The tenant allows SMS codes and this server can send them. */
  smsAvailable: boolean;
  smsAllowedByTenant: boolean;
  smsEnabled: boolean;
  smsPending: boolean;
  phoneHint: string | null;
  smsVerifiedAt: string | null;
  /** SMS needs an authenticator app first (backup codes stay the recovery path). */
  authenticatorEnabled: boolean;
  emailCodesAllowedByTenant: boolean;
  /** E-mailed new-device sign-in codes are on (user opted in and the tenant allows them); never MFA. */
  emailCodesEnabled: boolean;
}

const phoneContext = (tenantId: string, userId: string) => ({
  purpose: PHONE_PURPOSE,
  tenantId,
  rowId: userId,
});

export async function otpStatus(
  tx: TenantTx,
  userId: string,
  sms: SmsGateway | undefined,
): Promise<OtpStatus> {
  const { policy } = await tenantPolicyOf(tx);
  const [phone] = await tx.select().from(mfaPhoneNumbers).where(eq(mfaPhoneNumbers.userId, userId));
  const [user] = await tx
    .select({ emailCodesEnabledAt: users.emailCodesEnabledAt })
    .from(users)
    .where(eq(users.id, userId));
  return {
    smsAvailable: policy.smsCodesAllowed && sms !== undefined,
    smsAllowedByTenant: policy.smsCodesAllowed,
    smsEnabled: Boolean(phone?.verifiedAt) && policy.smsCodesAllowed,
    smsPending: phone !== undefined && !phone.verifiedAt,
    phoneHint: phone?.phoneHint ?? null,
    smsVerifiedAt: phone?.verifiedAt?.toISOString() ?? null,
    authenticatorEnabled: await hasTotp(tx, userId),
    emailCodesAllowedByTenant: policy.emailCodesAllowed,
    emailCodesEnabled: policy.emailCodesAllowed && Boolean(user?.emailCodesEnabledAt),
  };
}

function smsBody(tenantName: string, code: string, publicUrl: string): string {
  // Last line: the origin-bound one-time-code format (WebOTP), so browsers autofill only on our origin.
  return `${code} is your ${tenantName} sign-in code. It expires in 10 minutes. Never share it.\n\n@${new URL(publicUrl).host} #${code}`;
}

/** Counts one send per user and per number; a refusal is audited and committed, then thrown. */
async function enforceSendLimits(
  db: Database,
  deps: AccountDeps,
  sms: SmsGateway,
  who: SmsSubject,
  e164: string,
  purpose: string,
  request: RequestContext,
  now: Date,
): Promise<void> {
  try {
    await enforceLimit(
      deps.limiter,
      `sms_send:user:${who.tenantId}:${who.userId}`,
      SMS_LIMITS.perUser,
      now,
    );
    await enforceLimit(
      deps.limiter,
      `sms_send:number:${phoneRateKey(sms, e164)}`,
      SMS_LIMITS.perNumber,
      now,
    );
    await enforceLimit(deps.limiter, `sms_send:tenant:${who.tenantId}`, SMS_LIMITS.perTenant, now);
  } catch (error) {
    await withTenant(db, who.tenantId, (tx) =>
      auditRefusal(tx, who.userId, purpose, 'rate_limited', request, now),
    );
    throw error;
  }
}

function auditRefusal(
  tx: TenantTx,
  userId: string,
  purpose: string,
  reason: string,
  request: RequestContext,
  now: Date,
): Promise<unknown> {
  return recordAuditEvent(tx, {
    actor: { type: 'user', id: userId },
    action: 'mfa.sms_code.refused',
    target: { type: 'user', id: userId },
    ip: request.ip,
    userAgent: request.userAgent,
    metadata: { purpose, reason },
    occurredAt: now,
  });
}

/** Stores the number (unverified) and texts it a code; `otp.confirmSmsEnrollment` activates it. */
export async function beginSmsEnrollment(
  uc: ActorUseCase<SmsSubject>,
  sms: SmsGateway | undefined,
  phone: string,
): Promise<{ phoneHint: string; expiresAt: Date }> {
  const { db, deps, actor: who, request, now } = uc;
  const e164 = normalizePhoneNumber(phone);
  if (!e164)
    throw new AuthError('invalid_input', {
      field: 'phone',
      detail: 'Enter the number in international format, e.g. +44 7700 900123.',
    });
  if (!sms)
    throw new AuthError('forbidden', { detail: 'Text messages are not available on this server.' });
  const { tenantName } = await withTenant(
    db,
    who.tenantId,
    async (tx) => {
      const context = await tenantPolicyOf(tx);
      if (!context.policy.smsCodesAllowed)
        throw new AuthError('forbidden', {
          detail: 'Your organisation does not allow codes by text message.',
        });
      if (!(await hasTotp(tx, who.userId)))
        throw new AuthError('forbidden', {
          detail:
            'Set up an authenticator app first; text messages can only be an additional method.',
        });
      const [existing] = await tx
        .select({ verifiedAt: mfaPhoneNumbers.verifiedAt })
        .from(mfaPhoneNumbers)
        .where(eq(mfaPhoneNumbers.userId, who.userId));
      if (existing?.verifiedAt)
        throw new AuthError('conflict', { detail: 'Remove the current number first.' });
      return context;
    },
    { readOnly: true },
  );
  await enforceSendLimits(db, deps, sms, who, e164, 'sms_enrollment', request, now);
  const hint = phoneHint(e164);
  const issued = await withTenant(db, who.tenantId, async (tx) => {
    const values = {
      phoneCiphertext: deps.keyring.encrypt(e164, phoneContext(who.tenantId, who.userId)),
      phoneHint: hint,
      createdAt: now,
      verifiedAt: null,
    };
    await tx
      .insert(mfaPhoneNumbers)
      .values({ tenantId: who.tenantId, userId: who.userId, ...values })
      .onConflictDoUpdate({
        target: [mfaPhoneNumbers.tenantId, mfaPhoneNumbers.userId],
        set: values,
      });
    const code = await issueOneTimeCode(
      tx,
      deps.keyring,
      { userId: who.userId, purpose: 'sms_enrollment' },
      'sms',
      now,
    );
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: who.userId },
      action: 'mfa.sms_code.sent',
      target: { type: 'user', id: who.userId },
      ip: request.ip,
      userAgent: request.userAgent,
      metadata: { purpose: 'sms_enrollment', provider: sms.provider.name, phoneHint: hint },
      occurredAt: now,
    });
    return code;
  });
  await sms.provider.send({ to: e164, body: smsBody(tenantName, issued.code, deps.publicUrl) });
  return { phoneHint: hint, expiresAt: issued.expiresAt };
}

function throwForCode(check: CodeCheck & { ok: false }): never {
  if (check.reason === 'invalid') throw mfaCodeRefused('mfa_code_invalid', { field: 'code' });
  throw new AuthError('token_invalid', {
    field: 'code',
    detail: 'This code has expired or was tried too often. Request a new one.',
  });
}

/** Activates the pending number with the code texted to it (3 attempts, 10 minutes). */
export async function confirmSmsEnrollment(
  uc: ActorUseCase<SmsSubject>,
  code: string,
): Promise<void> {
  const { db, deps, actor: who, request, now } = uc;
  const check = await withTenant(db, who.tenantId, async (tx) => {
    const [phone] = await tx
      .select()
      .from(mfaPhoneNumbers)
      .where(eq(mfaPhoneNumbers.userId, who.userId))
      .for('update');
    if (!phone || phone.verifiedAt) return { ok: false as const, reason: 'none' as const };
    const result = await checkOneTimeCode(
      tx,
      deps.keyring,
      { userId: who.userId, purpose: 'sms_enrollment' },
      code,
      now,
    );
    const base = {
      actor: { type: 'user' as const, id: who.userId },
      target: { type: 'user', id: who.userId },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
    };
    if (result.ok) {
      await tx
        .update(mfaPhoneNumbers)
        .set({ verifiedAt: now })
        .where(eq(mfaPhoneNumbers.userId, who.userId));
      await recordAuditEvent(tx, {
        ...base,
        action: 'mfa.sms.enabled',
        metadata: { phoneHint: phone.phoneHint },
      });
    } else {
      await recordAuditEvent(tx, {
        ...base,
        action: 'mfa.sms_code.refused',
        metadata: { purpose: 'sms_enrollment', reason: result.reason },
      });
    }
    return result;
  });
  if (!check.ok) throwForCode(check);
}

/** Removes the number and its codes. The authenticator app and backup codes stay. */
export async function disableSms(tx: TenantTx, uc: TenantUseCase<SmsSubject>): Promise<void> {
  const { actor: who, request, now } = uc;
  const removed = await tx
    .delete(mfaPhoneNumbers)
    .where(eq(mfaPhoneNumbers.userId, who.userId))
    .returning({ hint: mfaPhoneNumbers.phoneHint });
  if (!removed.length) throw new AuthError('not_found');
  await deleteUserCodes(tx, who.userId, 'sms');
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: who.userId },
    action: 'mfa.sms.disabled',
    target: { type: 'user', id: who.userId },
    ip: request.ip,
    userAgent: request.userAgent,
    metadata: { phoneHint: removed[0]?.hint ?? null },
    occurredAt: now,
  });
}

/** Removes a user's SMS factor inside the caller's transaction (MFA disabled or reset). */
export async function removeSmsFactor(tx: TenantTx, userId: string): Promise<void> {
  await tx.delete(mfaPhoneNumbers).where(eq(mfaPhoneNumbers.userId, userId));
  await deleteUserCodes(tx, userId, 'sms');
}

interface SendTarget {
  userId: string;
  challengeId: string;
  e164: string;
  tenantName: string;
}

/** Reads what a sign-in text needs; null with a reason when SMS may not be used for this challenge. */
async function signInTarget(
  tx: TenantTx,
  keyring: AccountDeps['keyring'],
  challengeId: string,
  now: Date,
): Promise<
  SendTarget | { refused: 'challenge' | 'not_allowed' | 'not_enrolled'; userId: string | null }
> {
  const [challenge] = await tx
    .select()
    .from(mfaChallenges)
    .where(
      and(
        eq(mfaChallenges.id, challengeId),
        isNull(mfaChallenges.usedAt),
        gt(mfaChallenges.expiresAt, now),
      ),
    );
  if (!challenge || challenge.attempts >= CHALLENGE_MAX_ATTEMPTS || challenge.purpose !== 'mfa')
    return { refused: 'challenge', userId: null };
  const { tenantName, policy } = await tenantPolicyOf(tx);
  if (!policy.smsCodesAllowed) return { refused: 'not_allowed', userId: challenge.userId };
  const [phone] = await tx
    .select()
    .from(mfaPhoneNumbers)
    .where(eq(mfaPhoneNumbers.userId, challenge.userId));
  if (!phone?.verifiedAt || !(await hasTotp(tx, challenge.userId)))
    return { refused: 'not_enrolled', userId: challenge.userId };
  return {
    userId: challenge.userId,
    challengeId,
    tenantName,
    e164: keyring.decryptString(phone.phoneCiphertext, phoneContext(tx.tenantId, challenge.userId)),
  };
}

/** Texts a code for a sign-in challenge (`otp.sendCode`); a new text replaces the previous code. */
export async function sendSignInCode(
  uc: UseCase,
  sms: SmsGateway | undefined,
  challengeToken: string,
): Promise<{ phoneHint: string; expiresAt: Date }> {
  const { db, deps, request, now } = uc;
  await enforceLimit(deps.limiter, `sms_send:ip:${request.ip}`, SMS_LIMITS.perIp, now);
  const located = isWellFormedToken(challengeToken)
    ? await lookupMfaChallenge(db.pool, sha256(challengeToken))
    : null;
  if (!located) throw new AuthError('token_invalid');
  const target = await withTenant(db, located.tenantId, async (tx) => {
    const found = await signInTarget(tx, deps.keyring, located.challengeId, now);
    if ('refused' in found && found.userId)
      await auditRefusal(tx, found.userId, 'mfa_sign_in', found.refused, request, now);
    return found;
  });
  if ('refused' in target) {
    if (target.refused === 'challenge') throw new AuthError('token_invalid');
    throw new AuthError('forbidden', {
      detail: 'Codes by text message are not available for this account.',
    });
  }
  if (!sms)
    throw new AuthError('forbidden', { detail: 'Text messages are not available on this server.' });
  const who = { tenantId: located.tenantId, userId: target.userId };
  await enforceSendLimits(db, deps, sms, who, target.e164, 'mfa_sign_in', request, now);
  const hint = phoneHint(target.e164);
  const issued = await withTenant(db, located.tenantId, async (tx) => {
    const code = await issueOneTimeCode(
      tx,
      deps.keyring,
      { userId: target.userId, purpose: 'mfa_sign_in', challengeId: target.challengeId },
      'sms',
      now,
    );
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: target.userId },
      action: 'mfa.sms_code.sent',
      target: { type: 'user', id: target.userId },
      ip: request.ip,
      userAgent: request.userAgent,
      metadata: { purpose: 'mfa_sign_in', provider: sms.provider.name, phoneHint: hint },
      occurredAt: now,
    });
    return code;
  });
  await sms.provider.send({
    to: target.e164,
    body: smsBody(target.tenantName, issued.code, deps.publicUrl),
  });
  return { phoneHint: hint, expiresAt: issued.expiresAt };
}

export interface ChallengeOptions {
  /** "Text me a code" can be offered for this challenge. */
  smsAvailable: boolean;
  phoneHint: string | null;
  /** 0: do not offer "remember this device". */
  rememberDeviceDays: number;
  /**
   * Present only when this step is a new-device sign-in verification: `['email']`, a code was
   * e-mailed and nothing else is accepted (not MFA). Absent for an MFA challenge, whose factors
   * are the authenticator app, backup codes, passkeys and (above) SMS.
   */
  methods?: ['email'];
}

/** What the second step of this sign-in may offer; the caller holds a live challenge (password verified). */
export async function challengeOptions(
  uc: UseCase,
  sms: SmsGateway | undefined,
  challengeToken: string,
): Promise<ChallengeOptions> {
  const { db, deps, request, now } = uc;
  await enforceLimit(
    deps.limiter,
    `challenge_options:ip:${request.ip}`,
    { max: 60, windowMs: 60_000 },
    now,
  );
  const located = isWellFormedToken(challengeToken)
    ? await lookupMfaChallenge(db.pool, sha256(challengeToken))
    : null;
  if (!located) throw new AuthError('token_invalid');
  return withTenant(
    db,
    located.tenantId,
    async (tx) => {
      const [challenge] = await tx
        .select()
        .from(mfaChallenges)
        .where(
          and(
            eq(mfaChallenges.id, located.challengeId),
            isNull(mfaChallenges.usedAt),
            gt(mfaChallenges.expiresAt, now),
          ),
        );
      if (!challenge) throw new AuthError('token_invalid');
      const { policy } = await tenantPolicyOf(tx);
      if (challenge.purpose === 'sign_in_verification')
        return {
          smsAvailable: false,
          phoneHint: null,
          rememberDeviceDays: 0,
          methods: ['email'] as ['email'],
        };
      const [phone] = await tx
        .select()
        .from(mfaPhoneNumbers)
        .where(eq(mfaPhoneNumbers.userId, challenge.userId));
      const smsAvailable =
        sms !== undefined &&
        policy.smsCodesAllowed &&
        Boolean(phone?.verifiedAt) &&
        (await hasTotp(tx, challenge.userId));
      return {
        smsAvailable,
        phoneHint: smsAvailable ? (phone?.phoneHint ?? null) : null,
        rememberDeviceDays: policy.rememberDeviceDays,
      };
    },
    { readOnly: true },
  );
}

/** Key rotation: re-encrypts one phone number under the ring's first key (kind `mfa_phone_numbers`). */
export async function reencryptPhoneNumber(
  db: Database,
  keyring: AccountDeps['keyring'],
  tenantId: string,
  userId: string,
): Promise<number> {
  return withTenant(db, tenantId, async (tx) => {
    const [row] = await tx
      .select()
      .from(mfaPhoneNumbers)
      .where(eq(mfaPhoneNumbers.userId, userId))
      .for('update');
    if (!row || !keyring.needsRotation(row.phoneCiphertext)) return 0;
    await tx
      .update(mfaPhoneNumbers)
      .set({
        phoneCiphertext: keyring.reencrypt(row.phoneCiphertext, phoneContext(tenantId, userId)),
      })
      .where(eq(mfaPhoneNumbers.userId, userId));
    return 1;
  });
}
