// Passkeys through the real procedures and @simplewebauthn/server's real verification, with a
// software authenticator (testing/soft-authenticator.ts) producing the registration and
// assertion responses: register several, name and remove them, sign in as a second factor and
// without a password, step up. Attacks on the ceremonies are in passkeys.security.test.ts.
import { personalDataSources } from '@tessera/auth/privacy';
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
  outboxMails,
} from '../testing/index.js';
import { SoftAuthenticator } from '../testing/soft-authenticator.js';

const db = useTestDatabase();
const ORIGIN = 'http://localhost:3000'; // testAccountDeps' publicUrl: rpID "localhost"
// Near the real time: sessions are resolved on the database clock (the app's `now` moves in minutes from here).
const T0 = new Date();
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);
let seeds = 0;
const authenticator = (
  extra: Partial<ConstructorParameters<typeof SoftAuthenticator>[0]> = {},
): SoftAuthenticator =>
  new SoftAuthenticator({
    seed: `db-${seeds++}-${Date.now()}`,
    origin: ORIGIN,
    rpId: 'localhost',
    ...extra,
  });

async function register(
  owner: SeededOwner,
  token: string,
  device: SoftAuthenticator,
  name: string,
  now = T0,
) {
  const ctx = createTestContext(db.app, {
    services: owner.services,
    now: () => now,
    principal: await principalFromToken(db.app, token),
  });
  const caller = createCaller(ctx);
  const options = await caller.passkeys.registrationOptions();
  const { passkey } = await caller.passkeys.verifyRegistration({
    response: device.register(options),
    name,
  });
  return { passkey, options, token: ctx.cookies.token ?? token };
}

/** A passkey assertion renews the session's step-up window (registering a first passkey gives none). */
async function stepUp(
  owner: SeededOwner,
  token: string,
  device: SoftAuthenticator,
  now = T0,
): Promise<void> {
  const caller = await callerFor(db.app, token, { services: owner.services, now: () => now });
  await caller.passkeys.stepUp({
    response: device.authenticate(await caller.passkeys.stepUpOptions()),
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

async function auditActions(
  tenantId: string,
): Promise<{ action: string; metadata: Record<string, unknown> }[]> {
  const { rows } = await db.owner.pool.query<{ action: string; metadata: Record<string, unknown> }>(
    'SELECT action, metadata FROM audit_logs WHERE tenant_id = $1 ORDER BY seq',
    [tenantId],
  );
  return rows;
}

describe('registration', () => {
  test('a first passkey is verified, listed by name only, and gives the session a new token (but no MFA time)', async () => {
    const owner = await signUpOwner(db.app, { now: () => T0 });
    const device = authenticator();
    const { passkey, options, token } = await register(owner, owner.token, device, 'Laptop');
    expect(options.rp).toEqual({ id: 'localhost', name: 'Tessera' });
    expect(options.attestation).toBe('none');
    expect(passkey).toMatchObject({
      name: 'Laptop',
      deviceType: 'singleDevice',
      backedUp: false,
      lastUsedAt: null,
    });
    expect(passkey).not.toHaveProperty('publicKey');
    expect(token).not.toBe(owner.token);
    expect(await principalFromToken(db.app, owner.token)).toBeNull();
    expect(await principalFromToken(db.app, token)).toMatchObject({
      aal: 1,
      mfaVerifiedAt: null,
      mfaEnabled: true,
    });
    const caller = await callerFor(db.app, token, { services: owner.services, now: () => T0 });
    expect((await caller.auth.me()).user.mfaEnabled).toBe(true);
    expect(await caller.passkeys.list()).toEqual([passkey]);
    expect((await auditActions(owner.tenant.id)).map((e) => e.action)).toContain(
      'passkey.registered',
    );
    const { rows } = await db.owner.pool.query<{ credential_id: string; counter: string }>(
      'SELECT credential_id, counter FROM webauthn_credentials WHERE user_id = $1',
      [owner.user.id],
    );
    expect(rows).toEqual([{ credential_id: device.id, counter: '0' }]);
  });

  test('several passkeys per user; a second one needs a recent second factor (step-up)', async () => {
    const owner = await signUpOwner(db.app, { now: () => T0 });
    const laptop = authenticator();
    const first = await register(owner, owner.token, laptop, 'Laptop');
    await expect(
      register(owner, first.token, authenticator(), 'Phone', at(1)),
    ).rejects.toMatchObject({ cause: { code: 'step_up_required' } });
    await stepUp(owner, first.token, laptop);
    await register(owner, first.token, authenticator(), 'Phone', at(5)); // within the 10-minute window
    const late = await callerFor(db.app, first.token, {
      services: owner.services,
      now: () => at(11),
    });
    await expect(late.passkeys.registrationOptions()).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      cause: { code: 'step_up_required' },
    });
    expect((await late.passkeys.list()).map((p) => p.name)).toEqual(['Laptop', 'Phone']);
  });

  test('the same authenticator cannot be registered twice, and the options exclude it', async () => {
    const owner = await signUpOwner(db.app, { now: () => T0 });
    const device = authenticator();
    const { token } = await register(owner, owner.token, device, 'Laptop');
    await stepUp(owner, token, device);
    await expect(register(owner, token, device, 'Again', at(1))).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    const caller = await callerFor(db.app, token, { services: owner.services, now: () => at(2) });
    expect((await caller.passkeys.registrationOptions()).excludeCredentials).toEqual([
      expect.objectContaining({ id: device.id }),
    ]);
  });

  test('rename is audited with before and after; another user cannot rename it', async () => {
    const owner = await signUpOwner(db.app, { now: () => T0 });
    const { passkey, token } = await register(owner, owner.token, authenticator(), 'Laptop');
    const caller = await callerFor(db.app, token, { services: owner.services, now: () => T0 });
    expect(await caller.passkeys.rename({ id: passkey.id, name: 'Work laptop' })).toMatchObject({
      name: 'Work laptop',
    });
    const renamed = (await auditActions(owner.tenant.id)).find(
      (e) => e.action === 'passkey.renamed',
    );
    expect(renamed).toBeDefined();
    const other = await signUpOwner(db.app, { now: () => T0 });
    const stranger = await callerFor(db.app, other.token, {
      services: other.services,
      now: () => T0,
    });
    await expect(stranger.passkeys.rename({ id: passkey.id, name: 'Mine' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('sign-in', () => {
  test('a passkey-only user gets mfa_required after the password, and the passkey completes an AAL2 sign-in', async () => {
    const owner = await signUpOwner(db.app, { now: () => T0 });
    const device = authenticator();
    await register(owner, owner.token, device, 'Laptop');
    const challengeToken = await passwordStep(owner, at(1));
    const ctx = createTestContext(db.app, { services: owner.services, now: () => at(1) });
    const caller = createCaller(ctx);
    const options = await caller.passkeys.authenticationOptions({ challengeToken });
    expect(options.allowCredentials).toEqual([expect.objectContaining({ id: device.id })]);
    const result = await caller.passkeys.verifyAuthentication({
      challengeToken,
      response: device.authenticate(options),
    });
    expect(result).toMatchObject({
      status: 'signed_in',
      user: { id: owner.user.id, mfaEnabled: true },
    });
    expect(await principalFromToken(db.app, ctx.cookies.token ?? '')).toMatchObject({
      aal: 2,
      enrollmentOnly: false,
    });
    const { rows } = await db.owner.pool.query<{ counter: string; last_used_at: Date }>(
      'SELECT counter, last_used_at FROM webauthn_credentials WHERE user_id = $1',
      [owner.user.id],
    );
    expect(rows[0]).toEqual({ counter: '1', last_used_at: at(1) });
    const actions = (await auditActions(owner.tenant.id)).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['auth.mfa.verified', 'passkey.sign_in', 'auth.sign_in.succeeded']),
    );
  });

  test('after an SSO callback, the challenge cookie stands in for the token', async () => {
    const owner = await signUpOwner(db.app, { now: () => T0 });
    const device = authenticator();
    await register(owner, owner.token, device, 'Laptop');
    const challengeToken = await passwordStep(owner, at(1)); // the same kind of challenge the SSO callback sets as a cookie
    const ctx = {
      ...createTestContext(db.app, { services: owner.services, now: () => at(1) }),
      mfaChallengeCookie: challengeToken,
    };
    const options = await createCaller(ctx).passkeys.authenticationOptions({});
    await expect(
      createCaller(ctx).passkeys.verifyAuthentication({ response: device.authenticate(options) }),
    ).resolves.toMatchObject({ status: 'signed_in' });
    expect(ctx.cookies.token).toBeTruthy();
  });

  test('passwordless: with the policy on, a user-verified passkey alone signs in at AAL2', async () => {
    const owner = await signUpOwner(db.app, { now: () => T0 });
    const device = authenticator({ backupEligible: true, backedUp: true, counterStep: 0 }); // a synced passkey
    const { token, passkey } = await register(owner, owner.token, device, 'Synced');
    expect(passkey).toMatchObject({ deviceType: 'multiDevice', backedUp: true });
    await stepUp(owner, token, device); // allowing password-less sign-in weakens the policy
    await (
      await callerFor(db.app, token, { services: owner.services, now: () => T0 })
    ).tenant.updateSecurityPolicy({ passkeyPasswordless: true });
    const ctx = createTestContext(db.app, { services: owner.services, now: () => at(1) });
    const options = await createCaller(ctx).passkeys.authenticationOptions({
      tenantSlug: owner.tenant.slug,
    });
    expect(options.userVerification).toBe('required');
    expect(options.allowCredentials ?? []).toEqual([]); // discoverable: no account hint
    const result = await createCaller(ctx).passkeys.verifyAuthentication({
      tenantSlug: owner.tenant.slug,
      response: device.authenticate(options),
    });
    expect(result.user.id).toBe(owner.user.id);
    expect(await principalFromToken(db.app, ctx.cookies.token ?? '')).toMatchObject({ aal: 2 });
    const signIn = (await auditActions(owner.tenant.id)).find(
      (e) => e.action === 'auth.sign_in.succeeded' && e.metadata['via'] === 'passkey',
    );
    expect(signIn).toBeDefined();
  });
});

describe('step-up and removal', () => {
  test('removing a passkey needs step-up; a passkey assertion renews it; removal is audited', async () => {
    const owner = await signUpOwner(db.app, { now: () => T0 });
    const device = authenticator();
    const { passkey, token } = await register(owner, owner.token, device, 'Laptop');
    const later = await callerFor(db.app, token, { services: owner.services, now: () => at(12) });
    await expect(later.passkeys.remove({ id: passkey.id })).rejects.toMatchObject({
      cause: { code: 'step_up_required' },
    });
    const options = await later.passkeys.stepUpOptions();
    await later.passkeys.stepUp({ response: device.authenticate(options) });
    const renewed = await callerFor(db.app, token, { services: owner.services, now: () => at(13) });
    await renewed.passkeys.remove({ id: passkey.id });
    expect(await renewed.passkeys.list()).toEqual([]);
    const actions = (await auditActions(owner.tenant.id)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['mfa.step_up', 'passkey.removed']));
    expect((await renewed.auth.me()).user.mfaEnabled).toBe(false);
    // The user is told both times, by mail, with the passkey's name.
    const bodies = (
      await outboxMails(db.owner, owner.services.accounts.keyring, owner.tenant.id, {
        to: owner.user.email,
      })
    ).map((m) => m.body);
    expect(bodies.filter((b) => b.includes('"Laptop" can now sign in'))).toHaveLength(1);
    expect(bodies.filter((b) => b.includes('"Laptop" was removed'))).toHaveLength(1);
  });

  test('the last factor stays while the tenant requires MFA', async () => {
    const owner = await signUpOwner(db.app, { now: () => T0 });
    const device = authenticator();
    const { passkey, token } = await register(owner, owner.token, device, 'Laptop');
    await stepUp(owner, token, device);
    const caller = await callerFor(db.app, token, { services: owner.services, now: () => at(1) });
    await caller.tenant.updateSecurityPolicy({ mfaRequired: 'all' });
    await expect(caller.passkeys.remove({ id: passkey.id })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await register(owner, token, authenticator(), 'Spare', at(2));
    await caller.passkeys.remove({ id: passkey.id });
    expect((await caller.passkeys.list()).map((p) => p.name)).toEqual(['Spare']);
  });

  test('an enrollment-only session (MFA required, no factor yet) may register a passkey and leaves enrollment', async () => {
    const owner = await signUpOwner(db.app, { now: () => T0 });
    await (
      await callerFor(db.app, owner.token, { services: owner.services, now: () => T0 })
    ).tenant.updateSecurityPolicy({ mfaRequired: 'all' });
    const ctx = createTestContext(db.app, { services: owner.services, now: () => at(1) });
    await createCaller(ctx).auth.signIn({
      tenantSlug: owner.tenant.slug,
      email: owner.user.email,
      password: STRONG_PASSWORD,
    });
    expect(await principalFromToken(db.app, ctx.cookies.token ?? '')).toMatchObject({
      enrollmentOnly: true,
    });
    const { token } = await register(
      owner,
      ctx.cookies.token ?? '',
      authenticator(),
      'Laptop',
      at(1),
    );
    expect(await principalFromToken(db.app, token)).toMatchObject({
      enrollmentOnly: false,
      aal: 1,
      mfaVerifiedAt: null,
      mfaEnabled: true,
    });
  });
});

describe('personal data and admin reset', () => {
  test('the export shows passkey metadata only, never the public key or the credential id', async () => {
    const owner = await signUpOwner(db.app, { now: () => T0 });
    const device = authenticator();
    await register(owner, owner.token, device, 'Laptop');
    const source = personalDataSources.find((s) => s.name === 'passkeys');
    if (!source) throw new Error('passkeys source missing');
    const { rows } = await db.withTenant(owner.tenant.id, (tx) =>
      tx.client.query<Record<string, unknown>>(source.query, [owner.user.id]),
    );
    expect(rows).toEqual([
      expect.objectContaining({ name: 'Laptop', deviceType: 'singleDevice', backedUp: false }),
    ]);
    expect(Object.keys(rows[0] ?? {})).toEqual([...source.columns]);
    expect(JSON.stringify(rows)).not.toContain(device.id);
  });

  test('users.resetMfa clears passkeys with the other factors', async () => {
    const owner = await signUpOwner(db.app, { now: () => T0 });
    const device = authenticator();
    const { token } = await register(owner, owner.token, device, 'Laptop');
    await stepUp(owner, token, device);
    await (
      await callerFor(db.app, token, { services: owner.services, now: () => at(1) })
    ).users.resetMfa({ userId: owner.user.id });
    const { rows } = await db.owner.pool.query(
      'SELECT 1 FROM webauthn_credentials WHERE user_id = $1',
      [owner.user.id],
    );
    expect(rows).toHaveLength(0);
    expect((await auditActions(owner.tenant.id)).map((e) => e.action)).toContain('mfa.reset');
  });
});
