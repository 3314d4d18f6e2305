// Attacks on "remember this device": a device token stolen from one user replayed for another user
// or in another tenant, a token that outlives its revocation (password change or reset, MFA reset or
// disable, "sign out everywhere", explicit revoke), its expiry or the tenant switching the feature
// off, and a remembered device passing for a fresh second factor at step-up.
// NIST SP 800-63B §7 (session secrets), ASVS V3.3/V2.8; docs/design.md "MFA"; docs/mfa-factors.md.
import { randomBytes } from 'node:crypto';
import { totpCodeAt } from '@tessera/auth/mfa';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import {
  callerFor,
  createCaller,
  createTestContext,
  principalFromToken,
  signUpOwner,
  OTHER_STRONG_PASSWORD,
  STRONG_PASSWORD,
  type SeededOwner,
  tokenMailedTo,
} from '../testing/index.js';

const db = useTestDatabase();
const T0 = new Date(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);
const DAY = 86_400;

interface Enrolled extends SeededOwner {
  secret: string;
  password: string;
  aal2Token: string;
}

async function enroll(base: SeededOwner, password: string): Promise<Enrolled> {
  const { secret } = await (
    await callerFor(db.app, base.token, { services: base.services, now: () => T0 })
  ).mfa.beginEnrollment();
  const ctx = createTestContext(db.app, {
    services: base.services,
    now: () => T0,
    principal: await principalFromToken(db.app, base.token),
  });
  await createCaller(ctx).mfa.confirmEnrollment({ code: totpCodeAt(secret, T0) });
  return { ...base, secret, password, aal2Token: ctx.cookies.token ?? '' };
}

const enrolledOwner = async (): Promise<Enrolled> =>
  enroll(await signUpOwner(db.app, { now: () => T0 }), STRONG_PASSWORD);

/** A member of `owner`'s tenant, invited, accepted and enrolled in TOTP. */
async function enrolledMember(owner: Enrolled): Promise<Enrolled> {
  const asOwner = await callerFor(db.app, owner.aal2Token, {
    services: owner.services,
    now: () => T0,
  });
  const email = `member-${randomBytes(3).toString('hex')}@example.com`;
  const { userId } = await asOwner.users.invite({ email, role: 'member' });
  const token = await tokenMailedTo(
    db.owner,
    owner.services.accounts.keyring,
    owner.tenant.id,
    email,
  );
  const ctx = createTestContext(db.app, { services: owner.services, now: () => T0 });
  await createCaller(ctx).auth.acceptInvite({ token, password: OTHER_STRONG_PASSWORD });
  return enroll(
    {
      tenant: owner.tenant,
      user: { id: userId, email },
      token: ctx.cookies.token ?? '',
      services: owner.services,
    },
    OTHER_STRONG_PASSWORD,
  );
}

async function signIn(user: Enrolled, now: Date, deviceToken?: string) {
  const ctx = createTestContext(db.app, {
    services: user.services,
    now: () => now,
    ...(deviceToken ? { deviceToken } : {}),
  });
  const result = await createCaller(ctx).auth.signIn({
    tenantSlug: user.tenant.slug,
    email: user.user.email,
    password: user.password,
  });
  return { result, sessionToken: ctx.cookies.token };
}

/** Password + TOTP at `now`, asking to remember the device; returns the device cookie's token. */
async function rememberDevice(
  user: Enrolled,
  now: Date,
  remember = true,
): Promise<{ deviceToken: string | undefined; expiresAt: Date | null; sessionToken: string }> {
  const { result } = await signIn(user, now);
  if (result.status !== 'mfa_required') throw new Error('expected mfa_required');
  const ctx = createTestContext(db.app, { services: user.services, now: () => now });
  await createCaller(ctx).auth.verifyMfa({
    challengeToken: result.challengeToken,
    code: totpCodeAt(user.secret, now),
    rememberDevice: remember,
  });
  return {
    deviceToken: ctx.cookies.device.token,
    expiresAt: ctx.cookies.device.expiresAt,
    sessionToken: ctx.cookies.token ?? '',
  };
}

async function auditActions(tenantId: string): Promise<string[]> {
  const { rows } = await db.owner.pool.query<{ action: string }>(
    'SELECT action FROM audit_logs WHERE tenant_id = $1 ORDER BY seq',
    [tenantId],
  );
  return rows.map((r) => r.action);
}

describe('a remembered device', () => {
  test('skips the second step at password sign-in with an AAL1 session that still needs step-up', async () => {
    const owner = await enrolledOwner();
    const { deviceToken, expiresAt } = await rememberDevice(owner, at(60));
    expect(deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expiresAt?.getTime()).toBe(at(60).getTime() + 30 * DAY * 1000);
    const { result, sessionToken } = await signIn(owner, at(120), deviceToken);
    expect(result).toMatchObject({
      status: 'signed_in',
      user: { id: owner.user.id, mfaEnabled: true },
    });
    const principal = await principalFromToken(db.app, sessionToken ?? '');
    expect(principal).toMatchObject({ aal: 1, mfaVerifiedAt: null, enrollmentOnly: false });
    const caller = await callerFor(db.app, sessionToken ?? '', {
      services: owner.services,
      now: () => at(121),
    });
    await expect(
      caller.users.setRole({ userId: owner.user.id, role: 'owner' }),
    ).rejects.toMatchObject({ cause: { code: 'step_up_required' } });
    expect(await auditActions(owner.tenant.id)).toEqual(
      expect.arrayContaining(['mfa.device.remembered', 'mfa.device.used']),
    );
  });

  test('is stored only as a hash and is not issued unless asked for', async () => {
    const owner = await enrolledOwner();
    expect((await rememberDevice(owner, at(60), false)).deviceToken).toBeUndefined();
    const { deviceToken } = await rememberDevice(owner, at(90));
    const { rows } = await db.owner.pool.query<{ token_hash: Buffer }>(
      'SELECT token_hash FROM remembered_devices WHERE user_id = $1',
      [owner.user.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash.toString('latin1')).not.toContain(deviceToken);
  });

  test("does not skip another user's challenge in the same tenant", async () => {
    const owner = await enrolledOwner();
    const member = await enrolledMember(owner);
    const { deviceToken } = await rememberDevice(owner, at(60));
    expect((await signIn(member, at(120), deviceToken)).result.status).toBe('mfa_required');
    expect((await signIn(owner, at(121), deviceToken)).result.status).toBe('signed_in');
  });

  test('does not work in another tenant, even for the same e-mail address', async () => {
    const a = await enrolledOwner();
    const b = await enroll(
      await signUpOwner(db.app, { now: () => T0, email: a.user.email }),
      STRONG_PASSWORD,
    );
    const { deviceToken } = await rememberDevice(a, at(60));
    expect((await signIn(b, at(120), deviceToken)).result.status).toBe('mfa_required');
  });

  test('stops working after its expiry and when the tenant shortens the period or sets it to 0', async () => {
    const owner = await enrolledOwner();
    const { deviceToken } = await rememberDevice(owner, at(60));
    expect((await signIn(owner, at(60 + 30 * DAY - 5), deviceToken)).result.status).toBe(
      'signed_in',
    );
    expect((await signIn(owner, at(60 + 30 * DAY + 1), deviceToken)).result.status).toBe(
      'mfa_required',
    );
    const fresh = await rememberDevice(owner, at(120));
    const admin = await callerFor(db.app, owner.aal2Token, {
      services: owner.services,
      now: () => at(150),
    });
    await admin.tenant.updateSecurityPolicy({ rememberDeviceDays: 0 });
    expect((await signIn(owner, at(180), fresh.deviceToken)).result.status).toBe('mfa_required');
    expect((await rememberDevice(owner, at(210))).deviceToken).toBeUndefined();
  });
});

describe('revocation', () => {
  test('devices.list shows the device and devices.revoke ends it; another user cannot revoke it', async () => {
    const owner = await enrolledOwner();
    const member = await enrolledMember(owner);
    const { deviceToken, sessionToken } = await rememberDevice(owner, at(60));
    const ctx = createTestContext(db.app, {
      services: owner.services,
      now: () => at(61),
      principal: await principalFromToken(db.app, sessionToken),
      ...(deviceToken ? { deviceToken } : {}),
    });
    const [device] = await createCaller(ctx).devices.list();
    expect(device).toMatchObject({ current: true, userAgent: 'vitest', ipAddress: '203.0.113.7' });
    const asMember = await callerFor(db.app, member.aal2Token, {
      services: owner.services,
      now: () => at(62),
    });
    await expect(asMember.devices.revoke({ id: device?.id ?? '' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await createCaller(ctx).devices.revoke({ id: device?.id ?? '' });
    expect(await createCaller(ctx).devices.list()).toEqual([]);
    expect((await signIn(owner, at(120), deviceToken)).result.status).toBe('mfa_required');
    expect(await auditActions(owner.tenant.id)).toContain('mfa.device.revoked');
  });

  test('"sign out everywhere" (sessions.revokeOthers) and devices.revokeAll revoke every device', async () => {
    const owner = await enrolledOwner();
    const first = await rememberDevice(owner, at(60));
    const caller = await callerFor(db.app, first.sessionToken, {
      services: owner.services,
      now: () => at(61),
    });
    await caller.sessions.revokeOthers();
    expect((await signIn(owner, at(90), first.deviceToken)).result.status).toBe('mfa_required');
    const second = await rememberDevice(owner, at(120));
    const again = await callerFor(db.app, second.sessionToken, {
      services: owner.services,
      now: () => at(121),
    });
    expect(await again.devices.revokeAll()).toEqual({ revoked: 1 });
    expect((await signIn(owner, at(150), second.deviceToken)).result.status).toBe('mfa_required');
  });

  test('a password change revokes every device', async () => {
    const owner = await enrolledOwner();
    const { deviceToken, sessionToken } = await rememberDevice(owner, at(60));
    await (
      await callerFor(db.app, sessionToken, { services: owner.services, now: () => at(61) })
    ).auth.changePassword({ currentPassword: STRONG_PASSWORD, newPassword: OTHER_STRONG_PASSWORD });
    expect(
      (await signIn({ ...owner, password: OTHER_STRONG_PASSWORD }, at(90), deviceToken)).result
        .status,
    ).toBe('mfa_required');
  });

  test('an MFA reset by an admin and disabling MFA revoke every device', async () => {
    const owner = await enrolledOwner();
    const member = await enrolledMember(owner);
    const memberDevice = await rememberDevice(member, at(60));
    await (
      await callerFor(db.app, owner.aal2Token, { services: owner.services, now: () => at(61) })
    ).mfa.stepUp({ code: totpCodeAt(owner.secret, at(61)) }); // enrolling gave no MFA time
    const asOwner = await callerFor(db.app, owner.aal2Token, {
      services: owner.services,
      now: () => at(61),
    });
    await asOwner.users.resetMfa({ userId: member.user.id });
    const ownerDevice = await rememberDevice(owner, at(90));
    const caller = await callerFor(db.app, ownerDevice.sessionToken, {
      services: owner.services,
      now: () => at(120),
    });
    await caller.mfa.disable({
      password: STRONG_PASSWORD,
      code: totpCodeAt(owner.secret, at(120)),
    });
    const { rows } = await db.owner.pool.query<{ user_id: string; revoked_reason: string | null }>(
      'SELECT user_id, revoked_reason FROM remembered_devices WHERE tenant_id = $1',
      [owner.tenant.id],
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { user_id: member.user.id, revoked_reason: 'mfa_reset' },
        { user_id: owner.user.id, revoked_reason: 'mfa_disabled' },
      ]),
    );
    // Enrolled again, the old token still does not spare the challenge.
    const reenrolled = await enroll(
      { ...member, token: (await signIn(member, at(150))).sessionToken ?? '' },
      member.password,
    );
    expect((await signIn(reenrolled, at(180), memberDevice.deviceToken)).result.status).toBe(
      'mfa_required',
    );
  });
});
