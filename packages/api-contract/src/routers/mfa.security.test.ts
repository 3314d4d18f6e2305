// Attacks on the second factor: a stolen password alone (two-step sign-in), a code seen over a
// shoulder (replay, also by racing requests), guessing codes (per-challenge and per-user limits),
// a database dump (secrets encrypted; a changed ciphertext fails closed), skipping enrollment or
// step-up. ASVS V2.7/V2.8; NIST SP 800-63B §5.1.4; docs/design.md "MFA".
import { PNG } from 'pngjs';
import jsqrModule from 'jsqr';
import { totpCodeAt } from '@tessera/auth/mfa';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import {
  callerFor,
  createCaller,
  createTestContext,
  principalFromToken,
  signUpOwner,
  STRONG_PASSWORD,
  type SeededOwner,
} from '../testing/index.js';

const db = useTestDatabase();
// jsqr is CommonJS with a default export: the function sits on .default under Node's interop.
const jsQR = typeof jsqrModule === 'function' ? jsqrModule : jsqrModule.default;
const T0 = new Date(Math.floor(Date.now() / 30_000) * 30_000 + 5_000); // early in a step
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

async function enrolled(): Promise<
  SeededOwner & { secret: string; backupCodes: string[]; aal2Token: string }
> {
  const owner = await signUpOwner(db.app, { now: () => T0 });
  const caller = await callerFor(db.app, owner.token, { services: owner.services, now: () => T0 });
  const { secret } = await caller.mfa.beginEnrollment();
  const ctx = createTestContext(db.app, {
    services: owner.services,
    now: () => T0,
    principal: await principalFromToken(db.app, owner.token),
  });
  const { backupCodes } = await createCaller(ctx).mfa.confirmEnrollment({
    code: totpCodeAt(secret, T0),
  });
  return { ...owner, secret, backupCodes, aal2Token: ctx.cookies.token ?? '' };
}

async function passwordStep(owner: SeededOwner, now: Date): Promise<string> {
  const result = await createCaller(
    createTestContext(db.app, { services: owner.services, now: () => now }),
  ).auth.signIn({
    tenantSlug: owner.tenant.slug,
    email: owner.user.email,
    password: STRONG_PASSWORD,
  });
  if (result.status !== 'mfa_required') throw new Error('expected mfa_required');
  return result.challengeToken;
}

function verify(owner: SeededOwner, challengeToken: string, code: string, now: Date) {
  const ctx = createTestContext(db.app, { services: owner.services, now: () => now });
  return createCaller(ctx)
    .auth.verifyMfa({ challengeToken, code })
    .then((r) => ({ ...r, token: ctx.cookies.token }));
}

describe('enrollment', () => {
  test('the QR code decodes to exactly the returned otpauth URI', async () => {
    const owner = await signUpOwner(db.app);
    const { otpauthUri, qrCodeDataUrl, secret } = await (
      await callerFor(db.app, owner.token, { services: owner.services })
    ).mfa.beginEnrollment();
    const png = PNG.sync.read(
      Buffer.from(qrCodeDataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'),
    );
    expect(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data).toBe(otpauthUri);
    expect(otpauthUri).toContain(`secret=${secret}`);
  });

  test('enrollment needs a valid code, returns 10 backup codes and a new session token (no MFA time); the secret is stored encrypted', async () => {
    const owner = await enrolled();
    expect(owner.backupCodes).toHaveLength(10);
    expect(new Set(owner.backupCodes).size).toBe(10);
    expect(await principalFromToken(db.app, owner.token)).toBeNull(); // replaced
    expect(await principalFromToken(db.app, owner.aal2Token)).toMatchObject({
      aal: 1,
      mfaVerifiedAt: null,
      mfaEnabled: true,
    });
    const { rows } = await db.owner.pool.query<{ secret_ciphertext: string }>(
      'SELECT secret_ciphertext FROM mfa_totp WHERE user_id = $1',
      [owner.user.id],
    );
    expect(rows[0]?.secret_ciphertext).not.toContain(owner.secret);
    const codes = await db.owner.pool.query<{ code_hash: string }>(
      'SELECT code_hash FROM mfa_backup_codes WHERE user_id = $1',
      [owner.user.id],
    );
    for (const row of codes.rows) expect(row.code_hash).toMatch(/^\$argon2id\$/);
  });
});

describe('two-step sign-in', () => {
  test('the password alone yields a challenge and no cookie; nothing but verifyMfa works with it', async () => {
    const owner = await enrolled();
    const ctx = createTestContext(db.app, { services: owner.services, now: () => at(60) });
    const result = await createCaller(ctx).auth.signIn({
      tenantSlug: owner.tenant.slug,
      email: owner.user.email,
      password: STRONG_PASSWORD,
    });
    expect(result).toMatchObject({
      status: 'mfa_required',
      challengeToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(ctx.cookies.token).toBeNull();
    const signedIn = await verify(
      owner,
      result.status === 'mfa_required' ? result.challengeToken : '',
      totpCodeAt(owner.secret, at(60)),
      at(60),
    );
    expect(signedIn).toMatchObject({ status: 'signed_in', user: { mfaEnabled: true } });
    expect(await principalFromToken(db.app, signedIn.token ?? '')).toMatchObject({ aal: 2 });
  });

  test('a code already used is refused, also on a new challenge and when two requests race', async () => {
    const owner = await enrolled();
    const code = totpCodeAt(owner.secret, at(90));
    const [a, b] = await Promise.allSettled([
      verify(owner, await passwordStep(owner, at(90)), code, at(90)),
      verify(owner, await passwordStep(owner, at(90)), code, at(90)),
    ]);
    expect([a.status, b.status].sort()).toEqual(['fulfilled', 'rejected']);
    await expect(
      verify(owner, await passwordStep(owner, at(91)), code, at(91)),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: 'The code is not valid.' });
  });

  test('an older step is refused after a newer one was accepted', async () => {
    const owner = await enrolled();
    await verify(
      owner,
      await passwordStep(owner, at(120)),
      totpCodeAt(owner.secret, at(150)),
      at(120),
    ); // next step, within the window
    await expect(
      verify(owner, await passwordStep(owner, at(121)), totpCodeAt(owner.secret, at(120)), at(121)),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  test('the sixth code on a challenge is refused even when right', async () => {
    const owner = await enrolled();
    const challenge = await passwordStep(owner, at(60));
    for (let i = 0; i < 5; i += 1)
      await expect(verify(owner, challenge, '000000', at(60))).rejects.toMatchObject({
        code: 'UNAUTHORIZED',
      });
    await expect(
      verify(owner, challenge, totpCodeAt(owner.secret, at(60)), at(60)),
    ).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    const { rows } = await db.owner.pool.query<{ attempts: number }>(
      'SELECT attempts FROM mfa_challenges WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1',
      [owner.user.id],
    );
    expect(rows[0]?.attempts).toBe(6);
  });

  test('a backup code works once, in any case and spacing, also when two requests race', async () => {
    const owner = await enrolled();
    const code = owner.backupCodes[0] ?? '';
    const messy = ` ${code.toLowerCase().replace(/-/g, ' ')} `;
    const results = await Promise.allSettled([
      verify(owner, await passwordStep(owner, at(60)), messy, at(60)),
      verify(owner, await passwordStep(owner, at(60)), code, at(60)),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await expect(
      verify(owner, await passwordStep(owner, at(61)), code, at(61)),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const status = await (
      await callerFor(db.app, owner.aal2Token, { services: owner.services, now: () => at(61) })
    ).mfa.status();
    expect(status.backupCodesRemaining).toBe(9);
  });

  test('a changed byte in the stored secret makes verification fail closed', async () => {
    const owner = await enrolled();
    await db.owner.pool.query(
      "UPDATE mfa_totp SET secret_ciphertext = overlay(secret_ciphertext placing (CASE WHEN substr(secret_ciphertext, 10, 1) = 'A' THEN 'B' ELSE 'A' END) from 10 for 1) WHERE user_id = $1",
      [owner.user.id],
    );
    await expect(
      verify(owner, await passwordStep(owner, at(60)), totpCodeAt(owner.secret, at(60)), at(60)),
    ).rejects.toBeDefined();
  });
});

describe('policy and step-up', () => {
  test("with mfaRequired 'all', a user without MFA gets an enrollment-only session", async () => {
    const owner = await signUpOwner(db.app);
    await (
      await callerFor(db.app, owner.token, { services: owner.services })
    ).tenant.updateSecurityPolicy({ mfaRequired: 'all' });
    const ctx = createTestContext(db.app, { services: owner.services });
    await createCaller(ctx).auth.signIn({
      tenantSlug: owner.tenant.slug,
      email: owner.user.email,
      password: STRONG_PASSWORD,
    });
    const caller = await callerFor(db.app, ctx.cookies.token ?? '', { services: owner.services });
    await expect(caller.users.list()).rejects.toMatchObject({
      code: 'FORBIDDEN',
      cause: { code: 'mfa_enrollment_required' },
    });
    await expect(caller.tenant.get()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(caller.auth.me()).resolves.toBeDefined();
    await expect(caller.mfa.beginEnrollment()).resolves.toHaveProperty('secret');
  });

  test('step-up is required for role changes after 10 minutes and renewed by mfa.stepUp', async () => {
    const owner = await enrolled();
    const late = at(11 * 60);
    const caller = await callerFor(db.app, owner.aal2Token, {
      services: owner.services,
      now: () => late,
    });
    await expect(
      caller.users.setRole({ userId: owner.user.id, role: 'owner' }),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', cause: { code: 'step_up_required' } });
    await caller.mfa.stepUp({ code: totpCodeAt(owner.secret, late) });
    const renewed = await callerFor(db.app, owner.aal2Token, {
      services: owner.services,
      now: () => late,
    });
    await expect(renewed.users.setRole({ userId: owner.user.id, role: 'owner' })).resolves.toEqual({
      ok: true,
    });
  });

  test('disabling MFA needs the password and a current code', async () => {
    const owner = await enrolled();
    const caller = await callerFor(db.app, owner.aal2Token, {
      services: owner.services,
      now: () => at(60),
    });
    await expect(
      caller.mfa.disable({
        password: 'wrong-password-entirely',
        code: totpCodeAt(owner.secret, at(60)),
      }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await caller.mfa.disable({ password: STRONG_PASSWORD, code: totpCodeAt(owner.secret, at(60)) });
    expect(await caller.mfa.status()).toMatchObject({ enabled: false });
  });
});
