// Attacks on passkey ceremonies: a replayed or stale challenge, an assertion made for another
// origin or RP ID (phishing), a cloned authenticator (signature counter going back), a credential
// from another tenant or user, passwordless sign-in where the tenant did not allow it or without
// user verification, guessing against one password-step challenge. WebAuthn §7.1/§7.2, §6.1.1;
// NIST SP 800-63B §5.1.8; docs/design.md "MFA" and "Failure bookkeeping" (refusals audited and committed).
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
import { SoftAuthenticator, type Overrides } from '../testing/soft-authenticator.js';

const db = useTestDatabase();
const ORIGIN = 'http://localhost:3000';
// Near the real time: sessions are resolved on the database clock (the app's `now` moves in minutes from here).
const T0 = new Date();
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);
let seeds = 0;

interface Enrolled extends SeededOwner {
  device: SoftAuthenticator;
  aal2Token: string;
}

async function enrolled(
  extra: Partial<ConstructorParameters<typeof SoftAuthenticator>[0]> = {},
): Promise<Enrolled> {
  const owner = await signUpOwner(db.app, { now: () => T0 });
  const device = new SoftAuthenticator({
    seed: `sec-${seeds++}-${Date.now()}`,
    origin: ORIGIN,
    rpId: 'localhost',
    ...extra,
  });
  const ctx = createTestContext(db.app, {
    services: owner.services,
    now: () => T0,
    principal: await principalFromToken(db.app, owner.token),
  });
  const options = await createCaller(ctx).passkeys.registrationOptions();
  await createCaller(ctx).passkeys.verifyRegistration({
    response: device.register(options),
    name: 'Laptop',
  });
  return { ...owner, device, aal2Token: ctx.cookies.token ?? '' };
}

/** Registering gives the session no MFA time: step-up procedures need a passkey assertion first. */
async function stepUp(owner: Enrolled, now = T0): Promise<void> {
  const session = await callerFor(db.app, owner.aal2Token, {
    services: owner.services,
    now: () => now,
  });
  await session.passkeys.stepUp({
    response: owner.device.authenticate(await session.passkeys.stepUpOptions()),
  });
}

async function passwordStep(owner: SeededOwner, now = T0): Promise<string> {
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

const anon = (owner: SeededOwner, now = T0) =>
  createCaller(createTestContext(db.app, { services: owner.services, now: () => now }));

/** Password step, options, then one assertion with the given forgeries; returns the promise of verification. */
async function secondFactor(owner: Enrolled, o: Overrides = {}, now = T0) {
  const challengeToken = await passwordStep(owner, now);
  const options = await anon(owner, now).passkeys.authenticationOptions({ challengeToken });
  return {
    challengeToken,
    options,
    result: anon(owner, now).passkeys.verifyAuthentication({
      challengeToken,
      response: owner.device.authenticate(options, o),
    }),
  };
}

async function refusals(tenantId: string): Promise<Record<string, unknown>[]> {
  const { rows } = await db.owner.pool.query<{ metadata: Record<string, unknown> }>(
    `SELECT metadata FROM audit_logs WHERE tenant_id = $1 AND action = 'passkey.refused' ORDER BY seq`,
    [tenantId],
  );
  return rows.map((r) => r.metadata);
}

async function allowPasswordless(owner: Enrolled, on = true): Promise<void> {
  if (on) await stepUp(owner); // enabling password-less sign-in weakens the policy
  await (
    await callerFor(db.app, owner.aal2Token, { services: owner.services, now: () => T0 })
  ).tenant.updateSecurityPolicy({ passkeyPasswordless: on });
}

describe('challenges', () => {
  test('a challenge is single use: replaying the same assertion is refused and audited', async () => {
    const owner = await enrolled();
    const challengeToken = await passwordStep(owner);
    const options = await anon(owner).passkeys.authenticationOptions({ challengeToken });
    const response = owner.device.authenticate(options);
    const firstTry = await anon(owner)
      .passkeys.verifyAuthentication({
        challengeToken,
        response: owner.device.authenticate(options, { origin: 'https://evil.example' }),
      })
      .catch((e: unknown) => e);
    expect(firstTry).toMatchObject({ code: 'UNAUTHORIZED' }); // spent the challenge
    await expect(
      anon(owner).passkeys.verifyAuthentication({ challengeToken, response }),
    ).rejects.toMatchObject({ cause: { code: 'token_invalid' } });
    expect((await refusals(owner.tenant.id)).map((m) => m['reason'])).toEqual([
      'verification_failed',
      'challenge_invalid',
    ]);
  });

  test('a challenge older than 5 minutes is refused', async () => {
    const owner = await enrolled();
    await stepUp(owner, at(1)); // a second passkey is a factor change
    const challengeToken = await passwordStep(owner, T0);
    const options = await anon(owner, at(0)).passkeys.authenticationOptions({ challengeToken });
    // The password-step challenge also lives 5 minutes; register-side expiry shows the passkey challenge's own TTL.
    const ctx = createTestContext(db.app, {
      services: owner.services,
      now: () => at(6),
      principal: await principalFromToken(db.app, owner.aal2Token),
    });
    await expect(
      anon(owner, at(6)).passkeys.verifyAuthentication({
        challengeToken,
        response: owner.device.authenticate(options),
      }),
    ).rejects.toMatchObject({ cause: { code: 'token_invalid' } });
    const regOptions = await createCaller(
      createTestContext(db.app, {
        services: owner.services,
        now: () => at(1),
        principal: await principalFromToken(db.app, owner.aal2Token),
      }),
    ).passkeys.registrationOptions();
    const second = new SoftAuthenticator({
      seed: `late-${Date.now()}`,
      origin: ORIGIN,
      rpId: 'localhost',
    });
    await expect(
      createCaller(ctx).passkeys.verifyRegistration({
        response: second.register(regOptions),
        name: 'Late',
      }),
    ).rejects.toMatchObject({ cause: { code: 'token_invalid' } });
    expect((await refusals(owner.tenant.id)).map((m) => m['reason'])).toContain(
      'challenge_expired',
    );
  });
});

describe('phishing and cloning', () => {
  test.each([
    ['another origin', { origin: 'https://login.evil.example' }],
    ['another RP ID', { rpId: 'evil.example' }],
    ['a create ceremony type', { type: 'webauthn.create' }],
  ] as const)('an assertion made for %s is refused', async (_name, forged) => {
    const owner = await enrolled();
    const { result } = await secondFactor(owner, forged);
    await expect(result).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      cause: { code: 'mfa_code_invalid' },
    });
    expect(await refusals(owner.tenant.id)).toEqual([
      expect.objectContaining({ reason: 'verification_failed', mode: 'second_factor' }),
    ]);
  });

  test('a registration made for another origin is refused and audited', async () => {
    const owner = await signUpOwner(db.app, { now: () => T0 });
    const caller = await callerFor(db.app, owner.token, {
      services: owner.services,
      now: () => T0,
    });
    const options = await caller.passkeys.registrationOptions();
    const device = new SoftAuthenticator({
      seed: `phish-${Date.now()}`,
      origin: 'https://evil.example',
      rpId: 'localhost',
    });
    await expect(
      caller.passkeys.verifyRegistration({ response: device.register(options), name: 'X' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await refusals(owner.tenant.id)).toEqual([
      expect.objectContaining({ reason: 'verification_failed', ceremony: 'registration' }),
    ]);
    expect(await caller.passkeys.list()).toEqual([]);
  });

  test('a counter that does not increase (a cloned authenticator) is refused, and the refusal is committed', async () => {
    const owner = await enrolled();
    const first = await secondFactor(owner);
    await first.result; // counter 1 stored
    const { result } = await secondFactor(owner, { counter: 1 }, at(1));
    await expect(result).rejects.toMatchObject({ cause: { code: 'mfa_code_invalid' } });
    expect(await refusals(owner.tenant.id)).toEqual([
      expect.objectContaining({
        reason: 'counter_regression',
        storedCounter: 1,
        reportedCounter: 1,
      }),
    ]);
    const { rows } = await db.owner.pool.query<{ counter: string }>(
      'SELECT counter FROM webauthn_credentials WHERE user_id = $1',
      [owner.user.id],
    );
    expect(rows[0]?.counter).toBe('1');
  });

  test('a synced passkey that always reports 0 is accepted; backup state is stored on use', async () => {
    const owner = await enrolled({ counterStep: 0, backupEligible: true, backedUp: false });
    await (
      await secondFactor(owner, { backedUp: true })
    ).result;
    await (
      await secondFactor(owner, {}, at(1))
    ).result;
    const { rows } = await db.owner.pool.query<{
      counter: string;
      backed_up: boolean;
      device_type: string;
    }>('SELECT counter, backed_up, device_type FROM webauthn_credentials WHERE user_id = $1', [
      owner.user.id,
    ]);
    expect(rows[0]).toEqual({ counter: '0', backed_up: false, device_type: 'multiDevice' });
  });

  test('backup eligibility cannot change after registration', async () => {
    const owner = await enrolled({ backupEligible: false });
    const { result } = await secondFactor(owner, { backupEligible: true, backedUp: true });
    await expect(result).rejects.toMatchObject({ cause: { code: 'mfa_code_invalid' } });
    expect(await refusals(owner.tenant.id)).toEqual([
      expect.objectContaining({ reason: 'backup_eligibility_changed' }),
    ]);
  });
});

describe('whose credential', () => {
  test("another user's passkey cannot answer this user's second-factor challenge", async () => {
    const victim = await enrolled();
    const attacker = await enrolled();
    const challengeToken = await passwordStep(victim);
    const options = await anon(victim).passkeys.authenticationOptions({ challengeToken });
    await expect(
      anon(victim).passkeys.verifyAuthentication({
        challengeToken,
        response: attacker.device.authenticate(options),
      }),
    ).rejects.toMatchObject({ cause: { code: 'mfa_code_invalid' } });
    expect(await refusals(victim.tenant.id)).toEqual([
      expect.objectContaining({ reason: 'unknown_credential' }),
    ]);
  });

  test("another tenant's passkey cannot sign in passwordless here", async () => {
    const here = await enrolled();
    const there = await enrolled();
    await allowPasswordless(here);
    const options = await anon(here).passkeys.authenticationOptions({
      tenantSlug: here.tenant.slug,
    });
    await expect(
      anon(here).passkeys.verifyAuthentication({
        tenantSlug: here.tenant.slug,
        response: there.device.authenticate(options),
      }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED', cause: { code: 'invalid_credentials' } });
    expect(await refusals(here.tenant.id)).toEqual([
      expect.objectContaining({ reason: 'unknown_credential', mode: 'passwordless' }),
    ]);
  });

  test('a user handle naming someone else is refused', async () => {
    const owner = await enrolled();
    await allowPasswordless(owner);
    const options = await anon(owner).passkeys.authenticationOptions({
      tenantSlug: owner.tenant.slug,
    });
    const forged = Buffer.alloc(16, 7).toString('base64url');
    await expect(
      anon(owner).passkeys.verifyAuthentication({
        tenantSlug: owner.tenant.slug,
        response: owner.device.authenticate(options, { userHandle: forged }),
      }),
    ).rejects.toMatchObject({ cause: { code: 'invalid_credentials' } });
    expect(await refusals(owner.tenant.id)).toEqual([
      expect.objectContaining({ reason: 'user_handle_mismatch' }),
    ]);
  });
});

describe('passwordless policy', () => {
  test('refused while the tenant has not allowed it, for known and unknown organisations alike', async () => {
    const owner = await enrolled();
    const known = await anon(owner)
      .passkeys.authenticationOptions({ tenantSlug: owner.tenant.slug })
      .catch((e: unknown) => e);
    const unknown = await anon(owner)
      .passkeys.authenticationOptions({ tenantSlug: 'no-such-org' })
      .catch((e: unknown) => e);
    expect(known).toMatchObject({ code: 'FORBIDDEN' });
    expect(unknown).toMatchObject({ code: 'FORBIDDEN', message: (known as Error).message });
  });

  test('switched off between options and assertion: refused and audited', async () => {
    const owner = await enrolled();
    await allowPasswordless(owner);
    const options = await anon(owner).passkeys.authenticationOptions({
      tenantSlug: owner.tenant.slug,
    });
    await allowPasswordless(owner, false);
    await expect(
      anon(owner).passkeys.verifyAuthentication({
        tenantSlug: owner.tenant.slug,
        response: owner.device.authenticate(options),
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await refusals(owner.tenant.id)).toEqual([
      expect.objectContaining({ reason: 'passwordless_disabled' }),
    ]);
  });

  test('refused without user verification (possession alone is one factor)', async () => {
    const owner = await enrolled();
    await allowPasswordless(owner);
    const options = await anon(owner).passkeys.authenticationOptions({
      tenantSlug: owner.tenant.slug,
    });
    await expect(
      anon(owner).passkeys.verifyAuthentication({
        tenantSlug: owner.tenant.slug,
        response: owner.device.authenticate(options, { userVerified: false }),
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await refusals(owner.tenant.id)).toEqual([
      expect.objectContaining({ reason: 'user_verification_missing' }),
    ]);
  });

  test('as a second factor, user verification is not required', async () => {
    const owner = await enrolled();
    const { result } = await secondFactor(owner, { userVerified: false });
    await expect(result).resolves.toMatchObject({ status: 'signed_in' });
  });
});

describe('attempt limits', () => {
  test('a step-up challenge is bound to the session that asked: another session of the same user cannot spend it', async () => {
    const owner = await enrolled();
    // Session B: the same user signs in again (password + passkey).
    const challengeToken = await passwordStep(owner, at(1));
    const ctx = createTestContext(db.app, { services: owner.services, now: () => at(1) });
    const options = await createCaller(ctx).passkeys.authenticationOptions({ challengeToken });
    await createCaller(ctx).passkeys.verifyAuthentication({
      challengeToken,
      response: owner.device.authenticate(options),
    });
    const sessionB = await callerFor(db.app, ctx.cookies.token ?? '', {
      services: owner.services,
      now: () => at(12),
    });
    // Session A asks for step-up options; B presents the assertion made for them.
    const sessionA = await callerFor(db.app, owner.aal2Token, {
      services: owner.services,
      now: () => at(12),
    });
    const asked = await sessionA.passkeys.stepUpOptions();
    await expect(
      sessionB.passkeys.stepUp({ response: owner.device.authenticate(asked) }),
    ).rejects.toMatchObject({ cause: { code: 'token_invalid' } });
    expect(await refusals(owner.tenant.id)).toEqual(
      expect.arrayContaining([expect.objectContaining({ reason: 'challenge_invalid' })]),
    );
    // B's step-up window was not renewed.
    const [passkey] = await sessionB.passkeys.list();
    await expect(sessionB.passkeys.remove({ id: passkey?.id ?? '' })).rejects.toMatchObject({
      cause: { code: 'step_up_required' },
    });
  });

  test('wrong assertions count against the password-step challenge; the sixth is refused even when right', async () => {
    const owner = await enrolled();
    const challengeToken = await passwordStep(owner);
    for (let i = 0; i < 5; i++) {
      const options = await anon(owner).passkeys.authenticationOptions({ challengeToken });
      await expect(
        anon(owner).passkeys.verifyAuthentication({
          challengeToken,
          response: owner.device.authenticate(options, { origin: 'https://evil.example' }),
        }),
      ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    }
    await expect(
      anon(owner).passkeys.authenticationOptions({ challengeToken }),
    ).rejects.toMatchObject({ cause: { code: 'token_invalid' } });
    const { rows } = await db.owner.pool.query<{ attempts: number }>(
      'SELECT attempts FROM mfa_challenges WHERE user_id = $1',
      [owner.user.id],
    );
    expect(rows[0]?.attempts).toBe(5);
    expect(await refusals(owner.tenant.id)).toHaveLength(5);
  });
});
