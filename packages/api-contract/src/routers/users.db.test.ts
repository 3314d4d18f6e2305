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
  OTHER_STRONG_PASSWORD,
  tokenMailedTo as mailedToken,
} from '../testing/index.js';

const db = useTestDatabase();

/** Reads the newest mail to `address` as the outbox sender would, and pulls the link token out. */
async function tokenMailedTo(
  services: Services,
  tenantId: string,
  address: string,
): Promise<string> {
  return mailedToken(db.owner, services.accounts.keyring, tenantId, address);
}

describe('invites', () => {
  test('an invited user accepts once, gets a session, and the link cannot be replayed', async () => {
    const owner = await signUpOwner(db.app);
    const asOwner = await callerFor(db.app, owner.token, { services: owner.services });
    const { userId } = await asOwner.users.invite({ email: 'New.Hire@example.com', role: 'admin' });
    const token = await tokenMailedTo(owner.services, owner.tenant.id, 'new.hire@example.com');
    const ctx = createTestContext(db.app, { services: owner.services });
    const accepted = await createCaller(ctx).auth.acceptInvite({
      token,
      password: OTHER_STRONG_PASSWORD,
      displayName: 'New Hire',
    });
    expect(accepted.user).toMatchObject({
      id: userId,
      role: 'admin',
      email: 'new.hire@example.com',
    });
    expect(await principalFromToken(db.app, ctx.cookies.token ?? '')).toMatchObject({
      role: 'admin',
    });
    await expect(
      createCaller(createTestContext(db.app, { services: owner.services })).auth.acceptInvite({
        token,
        password: OTHER_STRONG_PASSWORD,
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', cause: { code: 'token_invalid' } });
  });

  test('the outbox stores mail bodies encrypted, never the token in clear', async () => {
    const owner = await signUpOwner(db.app);
    await (
      await callerFor(db.app, owner.token, { services: owner.services })
    ).users.invite({ email: 'sealed@example.com', role: 'member' });
    const token = await tokenMailedTo(owner.services, owner.tenant.id, 'sealed@example.com');
    const { rows } = await db.owner.pool.query(
      "SELECT 1 FROM email_outbox WHERE body LIKE '%' || $1 || '%'",
      [token],
    );
    expect(rows).toEqual([]);
  });

  test('a member cannot invite or list users', async () => {
    const owner = await signUpOwner(db.app);
    const asOwner = await callerFor(db.app, owner.token, { services: owner.services });
    await asOwner.users.invite({ email: 'm@example.com', role: 'member' });
    const token = await tokenMailedTo(owner.services, owner.tenant.id, 'm@example.com');
    const ctx = createTestContext(db.app, { services: owner.services });
    await createCaller(ctx).auth.acceptInvite({ token, password: OTHER_STRONG_PASSWORD });
    const asMember = await callerFor(db.app, ctx.cookies.token ?? '');
    await expect(asMember.users.list()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      asMember.users.invite({ email: 'x@example.com', role: 'member' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('roles and the last owner', () => {
  test('the last owner cannot be demoted or disabled', async () => {
    const owner = await signUpOwner(db.app);
    const caller = await callerFor(db.app, owner.token);
    await expect(
      caller.users.setRole({ userId: owner.user.id, role: 'admin' }),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', cause: { code: 'last_owner' } });
    await expect(caller.users.disable({ userId: owner.user.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  test('an admin cannot change an owner; a role change ends the target sessions', async () => {
    const owner = await signUpOwner(db.app);
    const asOwner = await callerFor(db.app, owner.token, { services: owner.services });
    await asOwner.users.invite({ email: 'adm@example.com', role: 'admin' });
    const ctx = createTestContext(db.app, { services: owner.services });
    const { user: admin } = await createCaller(ctx).auth.acceptInvite({
      token: await tokenMailedTo(owner.services, owner.tenant.id, 'adm@example.com'),
      password: OTHER_STRONG_PASSWORD,
    });
    const asAdmin = await callerFor(db.app, ctx.cookies.token ?? '');
    await expect(
      asAdmin.users.setRole({ userId: owner.user.id, role: 'member' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(asAdmin.users.setRole({ userId: admin.id, role: 'owner' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await asOwner.users.setRole({ userId: admin.id, role: 'member' });
    expect(await principalFromToken(db.app, ctx.cookies.token ?? '')).toBeNull();
  });
});

describe('password reset', () => {
  test('reset answers ok for unknown accounts, and a real reset revokes every session', async () => {
    const owner = await signUpOwner(db.app);
    const anon = createCaller(createTestContext(db.app, { services: owner.services }));
    await expect(
      anon.auth.requestPasswordReset({
        tenantSlug: owner.tenant.slug,
        email: 'nobody@example.com',
      }),
    ).resolves.toEqual({ ok: true });
    await expect(
      anon.auth.requestPasswordReset({ tenantSlug: 'no-such-tenant', email: owner.user.email }),
    ).resolves.toEqual({ ok: true });
    await anon.auth.requestPasswordReset({
      tenantSlug: owner.tenant.slug,
      email: owner.user.email.toUpperCase(),
    });
    const token = await tokenMailedTo(owner.services, owner.tenant.id, owner.user.email);
    await anon.auth.resetPassword({ token, newPassword: OTHER_STRONG_PASSWORD });
    expect(await principalFromToken(db.app, owner.token)).toBeNull();
    await expect(
      anon.auth.signIn({
        tenantSlug: owner.tenant.slug,
        email: owner.user.email,
        password: STRONG_PASSWORD,
      }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(
      anon.auth.signIn({
        tenantSlug: owner.tenant.slug,
        email: owner.user.email,
        password: OTHER_STRONG_PASSWORD,
      }),
    ).resolves.toMatchObject({ status: 'signed_in' });
    await expect(
      anon.auth.resetPassword({ token, newPassword: OTHER_STRONG_PASSWORD }),
    ).rejects.toMatchObject({ cause: { code: 'token_invalid' } });
  });

  test('a reset link is refused after 30 minutes', async () => {
    const owner = await signUpOwner(db.app);
    const t0 = new Date();
    await createCaller(
      createTestContext(db.app, { services: owner.services, now: () => t0 }),
    ).auth.requestPasswordReset({ tenantSlug: owner.tenant.slug, email: owner.user.email });
    const token = await tokenMailedTo(owner.services, owner.tenant.id, owner.user.email);
    const late = createCaller(
      createTestContext(db.app, {
        services: owner.services,
        now: () => new Date(t0.getTime() + 31 * 60_000),
      }),
    );
    await expect(
      late.auth.resetPassword({ token, newPassword: OTHER_STRONG_PASSWORD }),
    ).rejects.toMatchObject({ cause: { code: 'token_invalid' } });
  });
});

describe('e-mail verification', () => {
  test('a mailed link verifies the address once', async () => {
    const owner = await signUpOwner(db.app);
    const caller = await callerFor(db.app, owner.token, { services: owner.services });
    await expect(caller.auth.requestEmailVerification()).resolves.toEqual({
      alreadyVerified: false,
    });
    const token = await tokenMailedTo(owner.services, owner.tenant.id, owner.user.email);
    const anon = createCaller(createTestContext(db.app, { services: owner.services }));
    await anon.auth.verifyEmail({ token });
    const { rows } = await db.owner.pool.query(
      'SELECT email_verified_at FROM users WHERE id = $1',
      [owner.user.id],
    );
    expect(rows[0]?.email_verified_at).toBeInstanceOf(Date);
    await expect(anon.auth.verifyEmail({ token })).rejects.toMatchObject({
      cause: { code: 'token_invalid' },
    });
    await expect(caller.auth.requestEmailVerification()).resolves.toEqual({
      alreadyVerified: true,
    });
  });
});

describe('listing members', () => {
  test('pages walk every member once in id order, with factors, disabled and last sign-in as stored, and never another tenant', async () => {
    const owner = await signUpOwner(db.app);
    const other = await signUpOwner(db.app);
    const seeded = await db.owner.pool.query<{ id: string; email: string }>(
      `INSERT INTO users (tenant_id, email, display_name, role, disabled_at, last_login_at)
       SELECT $1, 'member' || i || '@example.com', CASE WHEN i % 2 = 0 THEN 'Member ' || i END, 'member',
              CASE WHEN i = 3 THEN now() END, CASE WHEN i = 4 THEN timestamptz '2026-01-02 03:04:05.678+00' END
       FROM generate_series(1, 6) AS i RETURNING id, email`,
      [owner.tenant.id],
    );
    const byEmail = new Map(seeded.rows.map((row) => [row.email, row.id]));
    const totpUser = byEmail.get('member1@example.com') as string;
    const passkeyUser = byEmail.get('member2@example.com') as string;
    const pendingTotpUser = byEmail.get('member5@example.com') as string;
    await db.owner.pool.query(
      'INSERT INTO mfa_totp (tenant_id, user_id, secret_ciphertext, enabled_at) VALUES ($1, $2, $3, now()), ($1, $4, $3, NULL)',
      [owner.tenant.id, totpUser, 'sealed', pendingTotpUser],
    );
    await db.owner.pool.query(
      "INSERT INTO webauthn_credentials (tenant_id, user_id, credential_id, public_key, device_type, name) VALUES ($1, $2, 'cred-a', '\\x00', 'multiDevice', 'Key')",
      [owner.tenant.id, passkeyUser],
    );

    const caller = await callerFor(db.app, owner.token);
    const seen: Awaited<ReturnType<typeof caller.users.list>>['items'] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await caller.users.list({ limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items);
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    const ids = seen.map((item) => item.id);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids)).toEqual(new Set([owner.user.id, ...byEmail.values()]));
    expect(ids).not.toContain(other.user.id);
    const item = (email: string) => seen.find((row) => row.email === email);
    expect(item('member1@example.com')).toMatchObject({
      mfaEnabled: true,
      disabled: false,
      displayName: null,
      role: 'member',
    });
    expect(item('member2@example.com')).toMatchObject({
      mfaEnabled: true,
      displayName: 'Member 2',
    });
    expect(item('member3@example.com')).toMatchObject({ mfaEnabled: false, disabled: true });
    expect(item('member4@example.com')).toMatchObject({ lastLoginAt: '2026-01-02T03:04:05.678Z' });
    expect(item('member5@example.com')).toMatchObject({ mfaEnabled: false }); // enrollment started, not confirmed
  });
});
