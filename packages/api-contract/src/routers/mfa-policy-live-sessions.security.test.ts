// Attack: a tenant requires MFA after an incident, but sessions signed in before the change keep
// full access until they end (up to sessionMaxHours), so a session stolen with the password alone
// outlives the new rule. docs/design.md "Identity": policy changes apply to live sessions at their next
// request. The reverse must hold too: lowering the policy releases the sessions it restricted
// (nobody is stuck), and no change of policy ever widens what a session proved.
import { randomBytes } from 'node:crypto';
import { totpCodeAt } from '@tessera/auth/mfa';
import { tenants } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import {
  callerFor,
  createCaller,
  createTestContext,
  OTHER_STRONG_PASSWORD,
  principalFromToken,
  signUpOwner,
  STRONG_PASSWORD,
  tokenMailedTo,
  type SeededOwner,
} from '../testing/index.js';

const db = useTestDatabase();
const enrollmentRequired = { code: 'FORBIDDEN', cause: { code: 'mfa_enrollment_required' } };

/** Invites `role` and accepts: the new user's session token and e-mail. */
async function invited(
  owner: SeededOwner,
  role: 'admin' | 'member',
): Promise<{ token: string; email: string }> {
  const email = `${role}-${randomBytes(3).toString('hex')}@example.com`;
  await (
    await callerFor(db.app, owner.token, { services: owner.services })
  ).users.invite({ email, role });
  const ctx = createTestContext(db.app, { services: owner.services });
  await createCaller(ctx).auth.acceptInvite({
    token: await tokenMailedTo(db.owner, owner.services.accounts.keyring, owner.tenant.id, email),
    password: OTHER_STRONG_PASSWORD,
  });
  return { token: ctx.cookies.token ?? '', email };
}

/** Another administrator's change, written as the policy row it produces. */
async function setPolicy(tenantId: string, mfaRequired: 'off' | 'admins' | 'all'): Promise<void> {
  await db.withTenant(tenantId, (tx) =>
    tx.update(tenants).set({ securityPolicy: { mfaRequired } }),
  );
}

async function signIn(owner: SeededOwner, email: string, password: string): Promise<string> {
  const ctx = createTestContext(db.app, { services: owner.services });
  await createCaller(ctx).auth.signIn({ tenantSlug: owner.tenant.slug, email, password });
  return ctx.cookies.token ?? '';
}

const restricted = async (token: string): Promise<boolean | undefined> => {
  const principal = await principalFromToken(db.app, token);
  return principal?.kind === 'session' ? principal.enrollmentOnly : undefined;
};

describe('mfaRequired and live sessions', () => {
  test("raising mfaRequired to 'all' restricts live sessions without a factor at their next request", async () => {
    const owner = await signUpOwner(db.app);
    const member = await invited(owner, 'member');
    const asMember = await callerFor(db.app, member.token, { services: owner.services });
    await expect(asMember.tenant.get()).resolves.toBeDefined();

    await (
      await callerFor(db.app, owner.token, { services: owner.services })
    ).tenant.updateSecurityPolicy({ mfaRequired: 'all' });

    const memberNow = await callerFor(db.app, member.token, { services: owner.services });
    await expect(memberNow.tenant.get()).rejects.toMatchObject(enrollmentRequired);
    await expect(memberNow.mfa.beginEnrollment()).resolves.toHaveProperty('secret'); // the way out
    await expect(memberNow.auth.signOut()).resolves.toEqual({ ok: true });
    expect(await restricted(owner.token)).toBe(true); // the owner has no factor either
  });

  test("'admins' restricts owners and admins without a factor, not members", async () => {
    const owner = await signUpOwner(db.app);
    const admin = await invited(owner, 'admin');
    const member = await invited(owner, 'member');
    await setPolicy(owner.tenant.id, 'admins');
    expect([
      await restricted(owner.token),
      await restricted(admin.token),
      await restricted(member.token),
    ]).toEqual([true, true, false]);
  });

  test('a session of a user with a second factor is not restricted', async () => {
    const owner = await signUpOwner(db.app);
    const caller = await callerFor(db.app, owner.token, { services: owner.services });
    const { secret } = await caller.mfa.beginEnrollment();
    const ctx = createTestContext(db.app, {
      services: owner.services,
      principal: await principalFromToken(db.app, owner.token),
    });
    await createCaller(ctx).mfa.confirmEnrollment({ code: totpCodeAt(secret, new Date()) });
    await setPolicy(owner.tenant.id, 'all');
    expect(await restricted(ctx.cookies.token ?? '')).toBe(false);
  });

  test('lowering the policy releases sessions it restricted, including ones that signed in restricted', async () => {
    const owner = await signUpOwner(db.app);
    const member = await invited(owner, 'member');
    await setPolicy(owner.tenant.id, 'all');
    const signedInRestricted = await signIn(owner, member.email, OTHER_STRONG_PASSWORD);
    expect([await restricted(member.token), await restricted(signedInRestricted)]).toEqual([
      true,
      true,
    ]);
    await setPolicy(owner.tenant.id, 'off');
    expect([await restricted(member.token), await restricted(signedInRestricted)]).toEqual([
      false,
      false,
    ]);
    await expect(
      (await callerFor(db.app, signedInRestricted, { services: owner.services })).tenant.get(),
    ).resolves.toBeDefined();
  });

  test('a restricted session stays restricted when the user enrolls elsewhere, whatever the policy does next', async () => {
    const owner = await signUpOwner(db.app);
    await setPolicy(owner.tenant.id, 'all');
    const other = await signIn(owner, owner.user.email, STRONG_PASSWORD);
    const { secret } = await (
      await callerFor(db.app, owner.token, { services: owner.services })
    ).mfa.beginEnrollment();
    const ctx = createTestContext(db.app, {
      services: owner.services,
      principal: await principalFromToken(db.app, owner.token),
    });
    await createCaller(ctx).mfa.confirmEnrollment({ code: totpCodeAt(secret, new Date()) });
    // The other session never presented the new factor: it must not become a full session.
    expect(await restricted(other)).toBe(true);
    await setPolicy(owner.tenant.id, 'off');
    expect(await restricted(other)).toBe(true);
    expect(await restricted(ctx.cookies.token ?? '')).toBe(false);
  });
});
