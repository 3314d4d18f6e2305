// E-mailed one-time codes as new-device sign-in verification (docs/mfa-factors.md), and
// the attacks on them: guessing (3 attempts per code), replay, a code outliving its 10 minutes or
// the tenant's switch, mail bombing (per-user send limit), and — the design rule — an e-mail code
// passing for a second factor (docs/design.md "MFA", NIST SP 800-63B rev 4: it never does; the session is
// AAL1 without MFA time, and users with a real factor never get the e-mail step).
import { totpCodeAt } from '@tessera/auth/mfa';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import { SoftAuthenticator } from '../testing/soft-authenticator.js';
import {
  callerFor,
  createCaller,
  createTestContext,
  principalFromToken,
  signUpOwner,
  STRONG_PASSWORD,
  type SeededOwner,
  outboxMails,
} from '../testing/index.js';

const db = useTestDatabase();
const T0 = new Date(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);
const NEW_DEVICE = { ip: '198.51.100.77', userAgent: 'Mozilla/5.0 (attacker laptop)' };

/** An owner (no second factor) who signed in once from the default device, in a tenant that allows e-mail codes, with them enabled. */
async function emailUser(
  options: { allow?: boolean; enable?: boolean; verify?: boolean } = {},
): Promise<SeededOwner> {
  const owner = await signUpOwner(db.app, { now: () => T0 });
  const home = createTestContext(db.app, { services: owner.services, now: () => T0 });
  await createCaller(home).auth.signIn({
    tenantSlug: owner.tenant.slug,
    email: owner.user.email,
    password: STRONG_PASSWORD,
  });
  const me = await callerFor(db.app, home.cookies.token ?? '', {
    services: owner.services,
    now: () => T0,
  });
  if (options.verify !== false) {
    // The codes go to the address, so it must be confirmed first (the real link flow).
    await me.auth.requestEmailVerification();
    const [mail] = await mails({ ...owner, token: '' }, 'verify_email');
    const token = /#token=([A-Za-z0-9_-]{43})/.exec(mail?.body ?? '')?.[1] ?? '';
    await createCaller(
      createTestContext(db.app, { services: owner.services, now: () => T0 }),
    ).auth.verifyEmail({ token });
  }
  if (options.allow !== false) await me.tenant.updateSecurityPolicy({ emailCodesAllowed: true });
  if (options.allow !== false && options.enable !== false) await me.otp.enableEmail();
  return { ...owner, token: home.cookies.token ?? '' };
}

function context(
  user: SeededOwner,
  now: Date,
  device: { ip?: string; userAgent?: string } = NEW_DEVICE,
) {
  return createTestContext(db.app, { services: user.services, now: () => now, ...device });
}

const signIn = (user: SeededOwner, now: Date, device?: { ip?: string; userAgent?: string }) =>
  createCaller(context(user, now, device)).auth.signIn({
    tenantSlug: user.tenant.slug,
    email: user.user.email,
    password: STRONG_PASSWORD,
  });

async function challenge(user: SeededOwner, now: Date): Promise<string> {
  const result = await signIn(user, now);
  if (result.status !== 'mfa_required')
    throw new Error(`expected mfa_required, got ${result.status}`);
  return result.challengeToken;
}

/** Mails of one template to the user, decrypted as the outbox sender would. */
async function mails(
  user: SeededOwner,
  template: string,
): Promise<Array<{ subject: string; body: string }>> {
  return outboxMails(db.owner, user.services.accounts.keyring, user.tenant.id, {
    userId: user.user.id,
    template,
  });
}

async function lastCode(user: SeededOwner): Promise<string> {
  const code = /^([0-9]{6}) is your code/.exec(
    (await mails(user, 'sign_in_code')).at(-1)?.body ?? '',
  )?.[1];
  if (!code) throw new Error('no sign-in code mailed');
  return code;
}

const wrong = (code: string): string => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

async function audit(user: SeededOwner): Promise<Array<{ action: string; metadata: string }>> {
  const { rows } = await db.owner.pool.query<{ action: string; metadata: string }>(
    'SELECT action, metadata::text AS metadata FROM audit_logs WHERE tenant_id = $1 ORDER BY seq',
    [user.tenant.id],
  );
  return rows;
}

async function verify(
  user: SeededOwner,
  now: Date,
  challengeToken: string,
  code: string,
  rememberDevice?: boolean,
) {
  const ctx = context(user, now);
  const result = await createCaller(ctx).auth.verifyMfa({
    challengeToken,
    code,
    ...(rememberDevice === undefined ? {} : { rememberDevice }),
  });
  return { result, token: ctx.cookies.token, deviceToken: ctx.cookies.device.token };
}

describe('new-device sign-in verification', () => {
  test('a new device gets a mailed code; the code signs in at AAL1 without MFA time, and the device becomes known', async () => {
    const user = await emailUser();
    expect(
      await (
        await callerFor(db.app, user.token, { services: user.services, now: () => T0 })
      ).otp.status(),
    ).toMatchObject({ emailCodesAllowedByTenant: true, emailCodesEnabled: true });
    const token = await challenge(user, at(60));
    const anonymous = createCaller(context(user, at(61)));
    expect(await anonymous.otp.challengeOptions({ challengeToken: token })).toEqual({
      smsAvailable: false,
      phoneHint: null,
      rememberDeviceDays: 0,
      methods: ['email'],
    });
    const sent = await mails(user, 'sign_in_code');
    expect(sent).toHaveLength(1);
    const code = await lastCode(user);
    expect(sent[0]?.subject).not.toContain(code);
    expect(sent[0]?.body).toContain(NEW_DEVICE.ip);
    // Stored only as a keyed hash; never in the audit trail.
    const rows = await db.owner.pool.query<{ row: string }>(
      'SELECT row_to_json(c)::text AS row FROM one_time_codes c WHERE user_id = $1',
      [user.user.id],
    );
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]?.row).toContain('"purpose":"sign_in_verification"');
    expect(rows.rows[0]?.row).not.toContain(code);
    expect(JSON.stringify(await audit(user))).not.toContain(code);
    // Not MFA: `sendCode` still refuses e-mail, and SMS is not offered for this challenge.
    await expect(
      anonymous.otp.sendCode({ challengeToken: token, channel: 'email' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });

    const {
      result,
      token: sessionToken,
      deviceToken,
    } = await verify(user, at(90), token, code, true);
    expect(result.status).toBe('signed_in');
    expect(deviceToken).toBeUndefined(); // "remember this device" is ignored: not a second factor
    const session = await callerFor(db.app, sessionToken ?? '', {
      services: user.services,
      now: () => at(91),
    });
    expect((await session.auth.me()).session.aal).toBe(1);
    const principal = await principalFromToken(db.app, sessionToken ?? '');
    expect(principal?.kind === 'session' ? principal.mfaVerifiedAt : 'not a session').toBeNull();
    const { rows: sessions } = await db.owner.pool.query<{
      aal: number;
      mfa_verified_at: Date | null;
    }>(
      'SELECT aal, mfa_verified_at FROM sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1',
      [user.user.id],
    );
    expect(sessions[0]).toEqual({ aal: 1, mfa_verified_at: null });
    const actions = (await audit(user)).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'auth.email_codes.enabled',
        'auth.email_code.sent',
        'auth.email_code.verified',
      ]),
    );
    expect(actions).not.toContain('auth.mfa.verified');
    const succeeded = (await audit(user))
      .filter((a) => a.action === 'auth.sign_in.succeeded')
      .at(-1);
    expect(JSON.parse(succeeded?.metadata ?? '{}')).toMatchObject({ via: 'email_code' });

    // The same device now signs in directly.
    expect((await signIn(user, at(120))).status).toBe('signed_in');
    expect(await mails(user, 'sign_in_code')).toHaveLength(1);
  });

  test('step-up still needs a real factor: the e-mail-code session is refused a sensitive action once the user has MFA', async () => {
    const user = await emailUser();
    const { token: emailSession } = await verify(
      user,
      at(90),
      await challenge(user, at(60)),
      await lastCode(user),
    );
    // The user then adds an authenticator app from the home session.
    const { secret } = await (
      await callerFor(db.app, user.token, { services: user.services, now: () => at(100) })
    ).mfa.beginEnrollment();
    const ctx = createTestContext(db.app, {
      services: user.services,
      now: () => at(100),
      principal: await principalFromToken(db.app, user.token),
    });
    await createCaller(ctx).mfa.confirmEnrollment({ code: totpCodeAt(secret, at(100)) });
    const principal = await principalFromToken(db.app, emailSession ?? '');
    expect(
      principal?.kind === 'session'
        ? { aal: principal.aal, mfaEnabled: principal.mfaEnabled }
        : null,
    ).toEqual({ aal: 1, mfaEnabled: true });
    const caller = await callerFor(db.app, emailSession ?? '', {
      services: user.services,
      now: () => at(110),
    });
    await expect(
      caller.users.setRole({ userId: user.user.id, role: 'owner' }),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', cause: { code: 'step_up_required' } });
  });

  test('a known device signs in directly and no code is mailed', async () => {
    const user = await emailUser();
    const result = await signIn(user, at(60), {});
    expect(result.status).toBe('signed_in');
    expect(await mails(user, 'sign_in_code')).toHaveLength(0);
  });

  test('three wrong codes kill the code; the refusals are committed and audited', async () => {
    const user = await emailUser();
    const token = await challenge(user, at(60));
    const code = await lastCode(user);
    for (let i = 0; i < 3; i++) {
      await expect(verify(user, at(70 + i), token, wrong(code))).rejects.toMatchObject({
        cause: { code: 'mfa_code_invalid' },
      });
    }
    await expect(verify(user, at(80), token, code)).rejects.toMatchObject({
      cause: { code: 'mfa_code_invalid' },
    });
    const { rows } = await db.owner.pool.query<{ attempts: number }>(
      "SELECT attempts FROM one_time_codes WHERE user_id = $1 AND purpose = 'sign_in_verification'",
      [user.user.id],
    );
    expect(rows[0]?.attempts).toBe(3);
    const refused = (await audit(user))
      .filter((a) => a.action === 'auth.email_code.refused')
      .map((a) => JSON.parse(a.metadata) as { reason: string });
    expect(refused.map((r) => r.reason)).toEqual(['invalid', 'invalid', 'exhausted', 'exhausted']);
    expect(
      (
        await db.owner.pool.query(
          'SELECT 1 FROM sessions WHERE user_id = $1 AND created_at >= $2',
          [user.user.id, at(60)],
        )
      ).rowCount,
    ).toBe(0);
  });

  test('a code expires after 10 minutes', async () => {
    const user = await emailUser();
    const token = await challenge(user, at(0));
    const code = await lastCode(user);
    await expect(verify(user, at(10 * 60 + 1), token, code)).rejects.toMatchObject({
      cause: { code: 'token_invalid' },
    });
    // Within the 10 minutes the next code works.
    const again = await challenge(user, at(11 * 60));
    expect((await verify(user, at(20 * 60 - 5), again, await lastCode(user))).result.status).toBe(
      'signed_in',
    );
  });

  test('a used code is not accepted again, on its challenge or on a new one', async () => {
    const user = await emailUser();
    const token = await challenge(user, at(60));
    const code = await lastCode(user);
    await verify(user, at(61), token, code);
    await expect(verify(user, at(62), token, code)).rejects.toMatchObject({
      cause: { code: 'token_invalid' },
    });
    // The first device is known now; a third one gets a fresh challenge and code.
    const third = await signIn(user, at(63), { ip: '192.0.2.50', userAgent: 'third browser' });
    if (third.status !== 'mfa_required') throw new Error('expected mfa_required');
    await expect(verify(user, at(64), third.challengeToken, code)).rejects.toMatchObject({
      cause: { code: 'mfa_code_invalid' },
    });
    expect(
      (await verify(user, at(65), third.challengeToken, await lastCode(user))).result.status,
    ).toBe('signed_in');
  });

  test('switching the tenant off stops the code step at once, codes already sent included', async () => {
    const user = await emailUser();
    const token = await challenge(user, at(60));
    const code = await lastCode(user);
    await (
      await callerFor(db.app, user.token, { services: user.services, now: () => at(61) })
    ).tenant.updateSecurityPolicy({ emailCodesAllowed: false });
    await expect(verify(user, at(62), token, code)).rejects.toMatchObject({
      cause: { code: 'token_invalid' },
    });
    expect(
      (await signIn(user, at(63), { ip: '192.0.2.99', userAgent: 'another browser' })).status,
    ).toBe('signed_in');
    expect(
      await (
        await callerFor(db.app, user.token, { services: user.services, now: () => at(64) })
      ).otp.status(),
    ).toMatchObject({ emailCodesAllowedByTenant: false, emailCodesEnabled: false });
  });

  test('the user switching it off also stops it, and is told by mail', async () => {
    const user = await emailUser();
    const me = await callerFor(db.app, user.token, { services: user.services, now: () => at(10) });
    await me.otp.disableEmail();
    expect(await me.otp.status()).toMatchObject({ emailCodesEnabled: false });
    expect((await signIn(user, at(60))).status).toBe('signed_in');
    expect(await mails(user, 'email_codes_disabled')).toHaveLength(1);
    expect((await audit(user)).map((a) => a.action)).toContain('auth.email_codes.disabled');
  });

  test('sends are limited per user; the refusal is audited', async () => {
    const user = await emailUser();
    for (let i = 0; i < 5; i++) await challenge(user, at(60 + i));
    await expect(signIn(user, at(70))).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect(await mails(user, 'sign_in_code')).toHaveLength(5);
    const refused = (await audit(user)).filter((a) => a.action === 'auth.email_code.refused');
    expect(refused.map((a) => JSON.parse(a.metadata) as { reason: string })).toEqual([
      expect.objectContaining({ reason: 'rate_limited' }),
    ]);
  });

  test('a user with an authenticator app gets the normal MFA challenge; e-mail is never offered or mailed', async () => {
    const user = await emailUser();
    const { secret } = await (
      await callerFor(db.app, user.token, { services: user.services, now: () => T0 })
    ).mfa.beginEnrollment();
    const ctx = createTestContext(db.app, {
      services: user.services,
      now: () => T0,
      principal: await principalFromToken(db.app, user.token),
    });
    await createCaller(ctx).mfa.confirmEnrollment({ code: totpCodeAt(secret, T0) });
    const token = await challenge(user, at(60));
    expect(await mails(user, 'sign_in_code')).toHaveLength(0);
    const options = await createCaller(context(user, at(61))).otp.challengeOptions({
      challengeToken: token,
    });
    expect(options).not.toHaveProperty('methods');
    expect(options.smsAvailable).toBe(false);
    const { result, token: session } = await verify(
      user,
      at(62),
      token,
      totpCodeAt(secret, at(62)),
    );
    expect(result.status).toBe('signed_in');
    expect(
      (
        await (
          await callerFor(db.app, session ?? '', { services: user.services, now: () => at(63) })
        ).auth.me()
      ).session.aal,
    ).toBe(2);
  });

  test('an e-mailed-code challenge is not an MFA challenge: a passkey added meanwhile cannot answer it', async () => {
    const user = await emailUser();
    const token = await challenge(user, at(60));
    // The user (on a trusted device) registers a passkey while the code step is open.
    const device = new SoftAuthenticator({
      seed: `email-codes-${Date.now()}`,
      origin: 'http://localhost:3000',
      rpId: 'localhost',
    });
    const me = createCaller(
      createTestContext(db.app, {
        services: user.services,
        now: () => at(61),
        principal: await principalFromToken(db.app, user.token),
      }),
    );
    await me.passkeys.verifyRegistration({
      response: device.register(await me.passkeys.registrationOptions()),
      name: 'Laptop',
    });
    const anonymous = createCaller(context(user, at(62)));
    await expect(
      anonymous.passkeys.authenticationOptions({ challengeToken: token }),
    ).rejects.toMatchObject({ cause: { code: 'token_invalid' } });
  });

  test('cannot be enabled before the address is confirmed (a mistyped address would lock the user out)', async () => {
    const user = await emailUser({ verify: false, enable: false });
    const me = await callerFor(db.app, user.token, { services: user.services, now: () => at(10) });
    await expect(me.otp.enableEmail()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await me.otp.status()).toMatchObject({ emailCodesEnabled: false });
  });

  test('cannot be enabled where the tenant does not allow e-mail codes', async () => {
    const user = await emailUser({ allow: false });
    const me = await callerFor(db.app, user.token, { services: user.services, now: () => at(10) });
    await expect(me.otp.enableEmail()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await me.otp.status()).toMatchObject({
      emailCodesAllowedByTenant: false,
      emailCodesEnabled: false,
    });
    expect((await signIn(user, at(60))).status).toBe('signed_in');
  });

  test('the table still refuses an e-mail code for an MFA challenge', async () => {
    const user = await emailUser();
    await challenge(user, at(60));
    const { rows } = await db.owner.pool.query<{ id: string }>(
      'SELECT challenge_id AS id FROM one_time_codes WHERE user_id = $1',
      [user.user.id],
    );
    await expect(
      db.owner.pool.query(
        "UPDATE one_time_codes SET purpose = 'mfa_sign_in' WHERE challenge_id = $1",
        [rows[0]?.id],
      ),
    ).rejects.toThrow(/one_time_codes_no_email_factor/);
  });
});
