// Attacks on SMS one-time codes: guessing (3 attempts per code, 10 minutes), replaying a code seen
// on a lock screen, pumping texts at a victim's number or billing (per-user and per-number send
// limits), using SMS where the tenant forbids this restricted authenticator, passing an e-mail code
// off as a second factor, and reading phone numbers or codes from a database dump.
// NIST SP 800-63B §5.1.3.3 (restricted), §5.2.2 (rate limiting); ASVS V2.7; docs/design.md "MFA".
import { generateKeyringSpec, parseKeyring } from '@tessera/auth';
import {
  createSmsGateway,
  reencryptPhoneNumber,
  SMS_LIMITS,
  totpCodeAt,
  type SmsMessage,
} from '@tessera/auth/mfa';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import type { Services } from '../context.js';
import {
  callerFor,
  createCaller,
  createTestContext,
  principalFromToken,
  signUpOwner,
  STRONG_PASSWORD,
  testAccountDeps,
  testServices,
  type SeededOwner,
} from '../testing/index.js';

const db = useTestDatabase();
const T0 = new Date(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);
const PHONE = '+44 7700 900123';

interface SmsUser extends SeededOwner {
  secret: string;
  aal2Token: string;
  sent: SmsMessage[];
}

function smsServices(keyringSpec?: string): { services: Services; sent: SmsMessage[] } {
  const sent: SmsMessage[] = [];
  const provider = {
    name: 'test',
    send: (message: SmsMessage) => {
      sent.push(message);
      return Promise.resolve();
    },
  };
  const accounts = keyringSpec
    ? { accounts: testAccountDeps({ keyring: parseKeyring(keyringSpec) }) }
    : {};
  return {
    services: testServices({ sms: createSmsGateway(provider, 'test-number-key'), ...accounts }),
    sent,
  };
}

/** A tenant owner with TOTP, in a tenant that allows SMS (unless told otherwise). */
async function owner(
  shared?: { services: Services; sent: SmsMessage[] },
  allowSms = true,
): Promise<SmsUser> {
  const { services, sent } = shared ?? smsServices();
  const base = await signUpOwner(db.app, { services, now: () => T0 });
  const { secret } = await (
    await callerFor(db.app, base.token, { services, now: () => T0 })
  ).mfa.beginEnrollment();
  const ctx = createTestContext(db.app, {
    services,
    now: () => T0,
    principal: await principalFromToken(db.app, base.token),
  });
  await createCaller(ctx).mfa.confirmEnrollment({ code: totpCodeAt(secret, T0) });
  const aal2Token = ctx.cookies.token ?? '';
  // Enrolling gives no MFA time: step up (next step's code, within the allowed drift) for what follows.
  await (
    await callerFor(db.app, aal2Token, { services, now: () => T0 })
  ).mfa.stepUp({ code: totpCodeAt(secret, at(30)) });
  if (allowSms)
    await (
      await callerFor(db.app, aal2Token, { services, now: () => T0 })
    ).tenant.updateSecurityPolicy({ smsCodesAllowed: true });
  return { ...base, services, secret, aal2Token, sent };
}

const as = (user: SmsUser, now: Date) =>
  callerFor(db.app, user.aal2Token, { services: user.services, now: () => now });
const lastCode = (user: SmsUser): string =>
  /^([0-9]{6}) is your/.exec(user.sent.at(-1)?.body ?? '')?.[1] ?? 'none';
const wrong = (code: string): string => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

async function withSms(user: SmsUser, phone = PHONE): Promise<SmsUser> {
  await (await as(user, at(10))).otp.beginSmsEnrollment({ phone });
  await (await as(user, at(20))).otp.confirmSmsEnrollment({ code: lastCode(user) });
  return user;
}

async function challenge(user: SmsUser, now: Date): Promise<string> {
  const result = await createCaller(
    createTestContext(db.app, { services: user.services, now: () => now }),
  ).auth.signIn({
    tenantSlug: user.tenant.slug,
    email: user.user.email,
    password: STRONG_PASSWORD,
  });
  if (result.status !== 'mfa_required') throw new Error('expected mfa_required');
  return result.challengeToken;
}

const anonymous = (user: SmsUser, now: Date) =>
  createCaller(createTestContext(db.app, { services: user.services, now: () => now }));

describe('enrollment', () => {
  test('texts a code to the number, stores the number encrypted, and activates SMS only with that code', async () => {
    const user = await owner();
    const caller = await as(user, at(10));
    expect(await caller.otp.beginSmsEnrollment({ phone: PHONE })).toMatchObject({
      phoneHint: '••23',
    });
    expect(user.sent).toHaveLength(1);
    expect(user.sent[0]?.to).toBe('+447700900123');
    const code = lastCode(user);
    await expect(caller.otp.confirmSmsEnrollment({ code: wrong(code) })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    await caller.otp.confirmSmsEnrollment({ code });
    expect(await caller.otp.status()).toMatchObject({
      smsEnabled: true,
      phoneHint: '••23',
      authenticatorEnabled: true,
    });
    const phones = await db.owner.pool.query<{ row: string }>(
      'SELECT row_to_json(p)::text AS row FROM mfa_phone_numbers p WHERE user_id = $1',
      [user.user.id],
    );
    expect(phones.rows[0]?.row).not.toContain('7700900123');
    const codes = await db.owner.pool.query<{ row: string }>(
      'SELECT row_to_json(c)::text AS row FROM one_time_codes c WHERE user_id = $1',
      [user.user.id],
    );
    for (const row of codes.rows) expect(row.row).not.toContain(code);
  });

  test('needs an authenticator app first, a tenant that allows SMS, a provider and an E.164 number', async () => {
    const noSms = await owner(undefined, false);
    await expect(
      (await as(noSms, at(10))).otp.beginSmsEnrollment({ phone: PHONE }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const noProvider = await owner({ services: testServices(), sent: [] });
    expect(await (await as(noProvider, at(10))).otp.status()).toMatchObject({
      smsAvailable: false,
      smsAllowedByTenant: true,
    });
    await expect(
      (await as(noProvider, at(10))).otp.beginSmsEnrollment({ phone: PHONE }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const { services } = smsServices();
    const plain = await signUpOwner(db.app, { services, now: () => T0 });
    await (
      await callerFor(db.app, plain.token, { services, now: () => T0 })
    ).tenant.updateSecurityPolicy({ smsCodesAllowed: true });
    await expect(
      (await callerFor(db.app, plain.token, { services, now: () => T0 })).otp.beginSmsEnrollment({
        phone: PHONE,
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      (await as(await owner(), at(10))).otp.beginSmsEnrollment({ phone: '07700 900123' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  test('adding a number needs step-up at both steps: a session past the window can neither start nor confirm', async () => {
    const user = await owner();
    const stale = at(11 * 60);
    await expect(
      (await as(user, stale)).otp.beginSmsEnrollment({ phone: PHONE }),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', cause: { code: 'step_up_required' } });
    expect(user.sent).toHaveLength(0);
    await (await as(user, at(10))).otp.beginSmsEnrollment({ phone: PHONE });
    // The owner's step-up window closed at at(600); the texted code lives until at(610).
    await expect(
      (await as(user, at(605))).otp.confirmSmsEnrollment({ code: lastCode(user) }),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', cause: { code: 'step_up_required' } });
    expect(await (await as(user, at(605))).otp.status()).toMatchObject({
      smsEnabled: false,
      smsPending: true,
    });
  });

  test('a code expires after 10 minutes', async () => {
    const user = await owner();
    // Keep the step-up window (from T0) open past at(600), so the code's own expiry is what answers.
    await (await as(user, at(600))).mfa.stepUp({ code: totpCodeAt(user.secret, at(600)) });
    await (await as(user, at(10))).otp.beginSmsEnrollment({ phone: PHONE });
    await expect(
      (await as(user, at(10 + 601))).otp.confirmSmsEnrollment({ code: lastCode(user) }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', cause: { code: 'token_invalid' } });
    await (await as(user, at(20))).otp.beginSmsEnrollment({ phone: PHONE });
    await expect(
      (await as(user, at(20 + 599))).otp.confirmSmsEnrollment({ code: lastCode(user) }),
    ).resolves.toEqual({ ok: true });
  });

  test('a code dies after 3 wrong attempts, even for the right code, and the count is committed', async () => {
    const user = await owner();
    const caller = await as(user, at(10));
    await caller.otp.beginSmsEnrollment({ phone: PHONE });
    const code = lastCode(user);
    for (let i = 0; i < 3; i += 1)
      await expect(caller.otp.confirmSmsEnrollment({ code: wrong(code) })).rejects.toBeDefined();
    await expect(caller.otp.confirmSmsEnrollment({ code })).rejects.toMatchObject({
      cause: { code: 'token_invalid' },
    });
    const { rows } = await db.owner.pool.query<{ attempts: number }>(
      "SELECT attempts FROM one_time_codes WHERE user_id = $1 AND purpose = 'sms_enrollment'",
      [user.user.id],
    );
    expect(rows[0]?.attempts).toBe(3);
    const refused = await db.owner.pool.query(
      "SELECT 1 FROM audit_logs WHERE tenant_id = $1 AND action = 'mfa.sms_code.refused'",
      [user.tenant.id],
    );
    expect(refused.rowCount).toBe(4);
  });

  test('disabling SMS keeps the authenticator app and backup codes', async () => {
    const user = await withSms(await owner());
    const caller = await as(user, at(30));
    await caller.otp.disableSms();
    expect(await caller.otp.status()).toMatchObject({
      smsEnabled: false,
      phoneHint: null,
      authenticatorEnabled: true,
    });
    expect(await caller.mfa.status()).toMatchObject({ enabled: true, backupCodesRemaining: 10 });
  });

  test('with MFA required, the authenticator app cannot be turned off as the last factor', async () => {
    const user = await withSms(await owner());
    const caller = await as(user, at(30));
    await caller.tenant.updateSecurityPolicy({ mfaRequired: 'all' });
    await expect(
      caller.mfa.disable({ password: STRONG_PASSWORD, code: totpCodeAt(user.secret, at(30)) }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await caller.mfa.status()).toMatchObject({ enabled: true });
    expect(await caller.otp.status()).toMatchObject({ smsEnabled: true });
  });

  test('key rotation re-encrypts the number; texts still reach it under the new key alone', async () => {
    const v1 = generateKeyringSpec(1);
    const v2 = generateKeyringSpec(2);
    const user = await withSms(await owner(smsServices(v1)));
    const { rows } = await db.app.pool.query<{ kind: string; id: string }>(
      'SELECT kind, id FROM public.list_encrypted_rows()',
    );
    expect(rows).toContainEqual({ kind: 'mfa_phone_numbers', id: user.user.id });
    const rotating = parseKeyring(`${v2},${v1}`);
    expect(await reencryptPhoneNumber(db.app, rotating, user.tenant.id, user.user.id)).toBe(1);
    expect(await reencryptPhoneNumber(db.app, rotating, user.tenant.id, user.user.id)).toBe(0);
    const rotated = {
      ...user,
      services: {
        ...user.services,
        accounts: { ...user.services.accounts, keyring: parseKeyring(v2) },
      },
    };
    await anonymous(rotated, at(60)).otp.sendCode({
      challengeToken: await challenge(rotated, at(60)),
      channel: 'sms',
    });
    expect(user.sent.at(-1)?.to).toBe('+447700900123');
  });
});

describe('sign-in with an SMS code', () => {
  test('a texted code completes the challenge once; replayed on a new challenge it is refused', async () => {
    const user = await withSms(await owner());
    const token = await challenge(user, at(60));
    expect(await anonymous(user, at(60)).otp.challengeOptions({ challengeToken: token })).toEqual({
      smsAvailable: true,
      phoneHint: '••23',
      rememberDeviceDays: 30,
    });
    expect(
      await anonymous(user, at(60)).otp.sendCode({ challengeToken: token, channel: 'sms' }),
    ).toMatchObject({ channel: 'sms', phoneHint: '••23' });
    const code = lastCode(user);
    expect(user.sent.at(-1)?.body).toMatch(/@localhost:3000 #[0-9]{6}$/);
    await expect(
      anonymous(user, at(70)).auth.verifyMfa({ challengeToken: token, code }),
    ).resolves.toMatchObject({ status: 'signed_in' });
    const next = await challenge(user, at(80));
    await expect(
      anonymous(user, at(80)).auth.verifyMfa({ challengeToken: next, code }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const { rows } = await db.owner.pool.query<{ metadata: { method: string } }>(
      "SELECT metadata FROM audit_logs WHERE tenant_id = $1 AND action = 'auth.mfa.verified'",
      [user.tenant.id],
    );
    expect(rows.map((r) => r.metadata.method)).toEqual(['sms']);
  });

  test('after 3 wrong codes the texted code is dead; the authenticator still works on the challenge', async () => {
    const user = await withSms(await owner());
    const token = await challenge(user, at(60));
    await anonymous(user, at(60)).otp.sendCode({ challengeToken: token, channel: 'sms' });
    const code = lastCode(user);
    for (let i = 0; i < 3; i += 1)
      await expect(
        anonymous(user, at(61)).auth.verifyMfa({ challengeToken: token, code: wrong(code) }),
      ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(
      anonymous(user, at(62)).auth.verifyMfa({ challengeToken: token, code }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(
      anonymous(user, at(63)).auth.verifyMfa({
        challengeToken: token,
        code: totpCodeAt(user.secret, at(63)),
      }),
    ).resolves.toMatchObject({ status: 'signed_in' });
  });

  test('a tenant that disallows SMS stops sends and codes already sent', async () => {
    const user = await withSms(await owner());
    const token = await challenge(user, at(60));
    await anonymous(user, at(60)).otp.sendCode({ challengeToken: token, channel: 'sms' });
    await (await as(user, at(61))).tenant.updateSecurityPolicy({ smsCodesAllowed: false });
    await expect(
      anonymous(user, at(62)).auth.verifyMfa({ challengeToken: token, code: lastCode(user) }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(
      anonymous(user, at(63)).otp.sendCode({ challengeToken: token, channel: 'sms' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(user.sent).toHaveLength(2);
  });

  test('e-mail codes never satisfy MFA: refused by the procedure and by the table', async () => {
    const user = await withSms(await owner());
    await (await as(user, at(30))).tenant.updateSecurityPolicy({ emailCodesAllowed: true });
    const token = await challenge(user, at(60));
    await expect(
      anonymous(user, at(60)).otp.sendCode({ challengeToken: token, channel: 'email' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const { rows } = await db.owner.pool.query<{ id: string }>(
      'SELECT id FROM mfa_challenges WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1',
      [user.user.id],
    );
    await expect(
      db.owner.pool.query(
        "INSERT INTO one_time_codes (tenant_id, user_id, purpose, channel, challenge_id, code_hash, key_ciphertext, created_at, expires_at) VALUES ($1, $2, 'mfa_sign_in', 'email', $3, '\\x00', 'x', now(), now())",
        [user.tenant.id, user.user.id, rows[0]?.id],
      ),
    ).rejects.toThrow(/one_time_codes_no_email_factor/);
  });
});

describe('send limits', () => {
  test('at most 5 texts per user in 15 minutes; the refusal is audited', async () => {
    const user = await withSms(await owner()); // the enrollment text counts
    const token = await challenge(user, at(60));
    for (let i = 0; i < 4; i += 1)
      await anonymous(user, at(61)).otp.sendCode({ challengeToken: token, channel: 'sms' });
    await expect(
      anonymous(user, at(62)).otp.sendCode({ challengeToken: token, channel: 'sms' }),
    ).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect(user.sent).toHaveLength(5);
    const { rows } = await db.owner.pool.query<{ metadata: { reason: string } }>(
      "SELECT metadata FROM audit_logs WHERE tenant_id = $1 AND action = 'mfa.sms_code.refused'",
      [user.tenant.id],
    );
    expect(rows.map((r) => r.metadata.reason)).toEqual(['rate_limited']);
    // Only the newest text counts: an earlier code no longer completes the challenge.
    await expect(
      anonymous(user, at(63)).auth.verifyMfa({
        challengeToken: token,
        code: /^([0-9]{6})/.exec(user.sent[1]?.body ?? '')?.[1] ?? '',
      }),
    ).rejects.toBeDefined();
  });

  test('a tenant has a daily text budget across all its users (SMS pumping)', async () => {
    const user = await withSms(await owner()); // enrollment sent one text
    const now = at(60);
    // The rest of the day's budget was spent by other accounts of the tenant.
    for (let i = 1; i < SMS_LIMITS.perTenant.max; i += 1)
      await user.services.accounts.limiter.hit(
        `sms_send:tenant:${user.tenant.id}`,
        SMS_LIMITS.perTenant,
        now.getTime(),
      );
    const token = await challenge(user, now);
    await expect(
      anonymous(user, at(61)).otp.sendCode({ challengeToken: token, channel: 'sms' }),
    ).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    const refused = await db.owner.pool.query(
      "SELECT 1 FROM audit_logs WHERE tenant_id = $1 AND action = 'mfa.sms_code.refused' AND metadata->>'reason' = 'rate_limited'",
      [user.tenant.id],
    );
    expect(refused.rowCount).toBe(1);
  });

  test('at most 5 texts per number in an hour, across users and tenants', async () => {
    const shared = smsServices();
    const a = await withSms(await owner(shared));
    const b = await withSms(await owner(shared)); // same number, another tenant: 2 texts so far
    const tokenA = await challenge(a, at(60));
    for (let i = 0; i < 3; i += 1)
      await anonymous(a, at(61)).otp.sendCode({ challengeToken: tokenA, channel: 'sms' });
    const tokenB = await challenge(b, at(60));
    await expect(
      anonymous(b, at(62)).otp.sendCode({ challengeToken: tokenB, channel: 'sms' }),
    ).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect(shared.sent).toHaveLength(5);
  });
});
