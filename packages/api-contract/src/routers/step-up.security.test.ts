// Attacks with a stolen session whose second factor is older than the step-up window (10 minutes):
// adding the attacker's own authenticator next to the victim's factor, turning a freshly bound
// first factor into step-up freshness, inviting a new admin, and weakening the tenant's security
// policy. NIST SP 800-63B §6.1.2.1 (binding an additional authenticator needs authentication at
// that AAL); ASVS V2.7, V4.3; docs/design.md "Identity" (step-up) and "MFA".
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
  type Caller,
  type SeededOwner,
} from '../testing/index.js';
import { SoftAuthenticator } from '../testing/soft-authenticator.js';

const db = useTestDatabase();
const T0 = new Date(Math.floor(Date.now() / 30_000) * 30_000 + 5_000); // early in a TOTP step
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);
const STALE = 11 * 60; // seconds: past the 10-minute step-up window
let seeds = 0;

const stepUpRequired = { code: 'PRECONDITION_FAILED', cause: { code: 'step_up_required' } };
const as = (owner: SeededOwner, token: string, now: Date): Promise<Caller> =>
  callerFor(db.app, token, { services: owner.services, now: () => now });

/** Runs one call with the session behind `token` and returns the cookie it set, if any. */
async function withCookie<R>(
  owner: SeededOwner,
  token: string,
  now: Date,
  call: (caller: Caller) => Promise<R>,
): Promise<{ result: R; cookie: string | null }> {
  const ctx = createTestContext(db.app, {
    services: owner.services,
    now: () => now,
    principal: await principalFromToken(db.app, token),
  });
  const result = await call(createCaller(ctx));
  return { result, cookie: ctx.cookies.token };
}

async function sessionRow(token: string): Promise<{ aal: number; mfaVerifiedAt: Date | null }> {
  const principal = await principalFromToken(db.app, token);
  if (principal?.kind !== 'session') throw new Error('no live session');
  return { aal: principal.aal, mfaVerifiedAt: principal.mfaVerifiedAt };
}

/** An owner whose only factor is a passkey; returns the session token after registration. */
async function passkeyOnlyOwner(): Promise<
  SeededOwner & { device: SoftAuthenticator; session: string }
> {
  const owner = await signUpOwner(db.app, { now: () => T0 });
  const device = new SoftAuthenticator({
    seed: `step-up-${seeds++}-${Date.now()}`,
    origin: 'http://localhost:3000',
    rpId: 'localhost',
  });
  const { cookie } = await withCookie(owner, owner.token, T0, async (caller) =>
    caller.passkeys.verifyRegistration({
      response: device.register(await caller.passkeys.registrationOptions()),
      name: 'Laptop',
    }),
  );
  return { ...owner, device, session: cookie ?? owner.token };
}

async function passkeyStepUp(
  owner: SeededOwner & { device: SoftAuthenticator },
  token: string,
  now: Date,
): Promise<void> {
  const caller = await as(owner, token, now);
  await caller.passkeys.stepUp({
    response: owner.device.authenticate(await caller.passkeys.stepUpOptions()),
  });
}

/** An owner who enrolled an authenticator app as the first factor at T0; returns the new session token. */
async function totpOwner(): Promise<SeededOwner & { secret: string; session: string }> {
  const owner = await signUpOwner(db.app, { now: () => T0 });
  const { secret } = await (await as(owner, owner.token, T0)).mfa.beginEnrollment();
  const { cookie } = await withCookie(owner, owner.token, T0, (caller) =>
    caller.mfa.confirmEnrollment({ code: totpCodeAt(secret, T0) }),
  );
  return { ...owner, secret, session: cookie ?? owner.token };
}

describe('adding a factor next to an existing one', () => {
  test('a passkey-only session past the window cannot start or finish enrolling an authenticator app', async () => {
    const owner = await passkeyOnlyOwner();
    const stolen = await as(owner, owner.session, at(STALE));
    await expect(stolen.mfa.beginEnrollment()).rejects.toMatchObject(stepUpRequired);
    const { rows } = await db.owner.pool.query('SELECT 1 FROM mfa_totp WHERE user_id = $1', [
      owner.user.id,
    ]);
    expect(rows).toEqual([]); // no pending secret was stored

    // Begun inside the window, the confirmation needs the window too.
    await passkeyStepUp(owner, owner.session, at(STALE));
    const { secret } = await (await as(owner, owner.session, at(STALE))).mfa.beginEnrollment();
    const late = at(2 * STALE);
    await expect(
      (await as(owner, owner.session, late)).mfa.confirmEnrollment({
        code: totpCodeAt(secret, late),
      }),
    ).rejects.toMatchObject(stepUpRequired);
    expect(await (await as(owner, owner.session, late)).mfa.status()).toMatchObject({
      enabled: false,
    });
  });

  test('after a step-up the app is added; the session keeps its own step-up time and token', async () => {
    const owner = await passkeyOnlyOwner();
    await passkeyStepUp(owner, owner.session, at(STALE));
    const { secret } = await (await as(owner, owner.session, at(STALE))).mfa.beginEnrollment();
    const confirmAt = at(STALE + 5 * 60);
    const { cookie } = await withCookie(owner, owner.session, confirmAt, (caller) =>
      caller.mfa.confirmEnrollment({ code: totpCodeAt(secret, confirmAt) }),
    );
    expect(cookie).toBeNull(); // not a first factor: no new session
    expect(await sessionRow(owner.session)).toEqual({ aal: 2, mfaVerifiedAt: at(STALE) });
    // Ten minutes after the passkey step-up (not after the enrollment) the window is closed.
    await expect(
      (await as(owner, owner.session, at(2 * STALE))).users.setRole({
        userId: owner.user.id,
        role: 'owner',
      }),
    ).rejects.toMatchObject(stepUpRequired);
  });
});

describe('a first factor gives no step-up freshness', () => {
  test('an authenticator app enrolled in a password-only session: step-up procedures still ask for a code', async () => {
    const owner = await totpOwner();
    expect(await principalFromToken(db.app, owner.token)).toBeNull(); // the enrolling token was replaced
    expect(await sessionRow(owner.session)).toEqual({ aal: 1, mfaVerifiedAt: null });
    const caller = await as(owner, owner.session, at(1));
    await expect(
      caller.users.setRole({ userId: owner.user.id, role: 'owner' }),
    ).rejects.toMatchObject(stepUpRequired);
    await expect(
      caller.apiKeys.create({
        name: 'ci',
        type: 'secret',
        environment: 'live',
        scopes: ['users:read'],
      }),
    ).rejects.toMatchObject(stepUpRequired);
    await caller.mfa.stepUp({ code: totpCodeAt(owner.secret, at(30)) });
    await expect(
      (await as(owner, owner.session, at(31))).users.setRole({
        userId: owner.user.id,
        role: 'owner',
      }),
    ).resolves.toEqual({ ok: true });
  });

  test('a first passkey registered in a password-only session: step-up procedures still ask for the passkey', async () => {
    const owner = await passkeyOnlyOwner();
    expect(await sessionRow(owner.session)).toEqual({ aal: 1, mfaVerifiedAt: null });
    await expect(
      (await as(owner, owner.session, at(1))).users.setRole({
        userId: owner.user.id,
        role: 'owner',
      }),
    ).rejects.toMatchObject(stepUpRequired);
    await passkeyStepUp(owner, owner.session, at(2));
    await expect(
      (await as(owner, owner.session, at(3))).users.setRole({
        userId: owner.user.id,
        role: 'owner',
      }),
    ).resolves.toEqual({ ok: true });
  });

  test('re-enrolling carries the MFA time the session already had, and does not renew it', async () => {
    const owner = await totpOwner();
    // Turning the app off verifies a code: this session now holds MFA time at(60).
    await (
      await as(owner, owner.session, at(60))
    ).mfa.disable({ password: STRONG_PASSWORD, code: totpCodeAt(owner.secret, at(60)) });
    const { secret } = await (await as(owner, owner.session, at(120))).mfa.beginEnrollment();
    const { cookie } = await withCookie(owner, owner.session, at(120), (caller) =>
      caller.mfa.confirmEnrollment({ code: totpCodeAt(secret, at(120)) }),
    );
    const session = cookie ?? '';
    expect(await sessionRow(session)).toEqual({ aal: 2, mfaVerifiedAt: at(60) }); // disable's code set both
    await expect(
      (await as(owner, session, at(121))).users.setRole({ userId: owner.user.id, role: 'owner' }),
    ).resolves.toEqual({ ok: true });
    await expect(
      (await as(owner, session, at(60 + 601))).users.setRole({
        userId: owner.user.id,
        role: 'owner',
      }),
    ).rejects.toMatchObject(stepUpRequired);
  });
});

describe('inviting privileged users', () => {
  test('inviting an owner, admin or compliance officer needs step-up; a member does not', async () => {
    const owner = await totpOwner();
    const stale = await as(owner, owner.session, at(STALE));
    for (const role of ['owner', 'admin', 'compliance'] as const) {
      await expect(
        stale.users.invite({ email: `${role}@example.com`, role }),
      ).rejects.toMatchObject(stepUpRequired);
    }
    await expect(
      stale.users.invite({ email: 'member@example.com', role: 'member' }),
    ).resolves.toHaveProperty('userId');
    const { rows } = await db.owner.pool.query<{ role: string }>(
      'SELECT role FROM users WHERE tenant_id = $1 ORDER BY role',
      [owner.tenant.id],
    );
    expect(rows.map((r) => r.role)).toEqual(['member', 'owner']); // nothing else was created
    await stale.mfa.stepUp({ code: totpCodeAt(owner.secret, at(STALE)) });
    await expect(
      (await as(owner, owner.session, at(STALE + 1))).users.invite({
        email: 'admin@example.com',
        role: 'admin',
      }),
    ).resolves.toHaveProperty('userId');
  });
});

describe('importing users', () => {
  test('a legacy import (accounts with passwords the caller chose, no mail round trip) needs step-up', async () => {
    const owner = await totpOwner();
    const stale = await as(owner, owner.session, at(STALE));
    const bcrypt = '$2y$10$' + 'a'.repeat(53); // well-formed; never signed in with here
    await expect(
      stale.users.importLegacy({
        users: [{ email: 'backdoor@example.com', role: 'owner', passwordHash: bcrypt }],
      }),
    ).rejects.toMatchObject(stepUpRequired);
    await expect(
      stale.users.importLegacy({
        users: [{ email: 'quiet@example.com', role: 'member', passwordHash: bcrypt }],
      }),
    ).rejects.toMatchObject(stepUpRequired);
    const { rows } = await db.owner.pool.query('SELECT 1 FROM users WHERE tenant_id = $1', [
      owner.tenant.id,
    ]);
    expect(rows).toHaveLength(1);
    await stale.mfa.stepUp({ code: totpCodeAt(owner.secret, at(STALE)) });
    await expect(
      (await as(owner, owner.session, at(STALE + 1))).users.importLegacy({
        users: [{ email: 'quiet@example.com', role: 'member', passwordHash: bcrypt }],
      }),
    ).resolves.toMatchObject({ imported: 1 });
  });
});

describe('weakening the security policy', () => {
  const weakenings = [
    { mfaRequired: 'admins' },
    { mfaRequired: 'off' },
    { sessionIdleMinutes: 60 },
    { sessionMaxHours: 12 },
    { maxSessionsPerUser: 10 },
    { passwordMinLength: 12 },
    { lockoutThreshold: 10 },
    { lockoutBaseSeconds: 10 },
    { rememberDeviceDays: 60 },
    { passkeyPasswordless: true },
    { smsCodesAllowed: true },
    { emailCodesAllowed: false },
  ] as const;

  async function strictTenant(): Promise<SeededOwner & { secret: string; session: string }> {
    const owner = await totpOwner();
    const fresh = await as(owner, owner.session, at(30));
    await fresh.mfa.stepUp({ code: totpCodeAt(owner.secret, at(30)) });
    await (
      await as(owner, owner.session, at(31))
    ).tenant.updateSecurityPolicy({ mfaRequired: 'all', emailCodesAllowed: true });
    return owner;
  }

  test('every change that lowers protection is refused past the window and leaves the policy as it was', async () => {
    const owner = await strictTenant();
    const stale = await as(owner, owner.session, at(STALE + 60));
    const before = (await stale.tenant.get()).securityPolicy;
    for (const patch of weakenings) {
      await expect(
        stale.tenant.updateSecurityPolicy(patch),
        JSON.stringify(patch),
      ).rejects.toMatchObject(stepUpRequired);
    }
    // One weakening field in a patch refuses the whole patch.
    await expect(
      stale.tenant.updateSecurityPolicy({ sessionIdleMinutes: 10, lockoutThreshold: 20 }),
    ).rejects.toMatchObject(stepUpRequired);
    expect((await stale.tenant.get()).securityPolicy).toEqual(before);
  });

  test('changes that raise protection need no step-up; after a step-up a weakening goes through', async () => {
    const owner = await strictTenant();
    const stale = await as(owner, owner.session, at(STALE + 60));
    const tightened = {
      sessionIdleMinutes: 15,
      sessionMaxHours: 4,
      maxSessionsPerUser: 2,
      passwordMinLength: 20,
      lockoutThreshold: 4,
      lockoutBaseSeconds: 60,
      rememberDeviceDays: 7,
      mfaRequired: 'all',
      passkeyPasswordless: false,
    } as const;
    await expect(stale.tenant.updateSecurityPolicy(tightened)).resolves.toMatchObject({
      securityPolicy: tightened,
    });
    await stale.mfa.stepUp({ code: totpCodeAt(owner.secret, at(STALE + 60)) });
    const fresh = await as(owner, owner.session, at(STALE + 61));
    await expect(
      fresh.tenant.updateSecurityPolicy({
        mfaRequired: 'off',
        passwordMinLength: 15,
        smsCodesAllowed: true,
      }),
    ).resolves.toMatchObject({ securityPolicy: { mfaRequired: 'off', smsCodesAllowed: true } });
  });
});
