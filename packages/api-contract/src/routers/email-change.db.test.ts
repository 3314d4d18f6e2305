/**
 * auth.requestEmailChange / auth.confirmEmailChange (docs/design.md "Identity"): confirmed from the new
 * address, the old one notified; attacks: wrong password, replayed and expired links, a taken
 * address (no disclosure), reset links mailed to the old address dying with it.
 */
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import type { Services } from '../context.js';
import {
  callerFor,
  createCaller,
  createTestContext,
  signUpOwner,
  STRONG_PASSWORD,
  outboxMails,
} from '../testing/index.js';

const db = useTestDatabase();

/** Every mail queued to `address` in the tenant, decrypted as the outbox sender would. */
async function mailsTo(services: Services, tenantId: string, address: string): Promise<string[]> {
  return (await outboxMails(db.owner, services.accounts.keyring, tenantId, { to: address })).map(
    (m) => m.body,
  );
}

function tokenIn(body: string | undefined, path: string): string {
  const match = new RegExp(`${path}#token=([A-Za-z0-9_-]{43})`).exec(body ?? '');
  if (!match?.[1]) throw new Error(`no ${path} link in mail`);
  return match[1];
}

async function auditActions(tenantId: string): Promise<string[]> {
  const { rows } = await db.owner.pool.query<{ action: string }>(
    'SELECT action FROM audit_logs WHERE tenant_id = $1 ORDER BY seq',
    [tenantId],
  );
  return rows.map((r) => r.action);
}

describe('e-mail change', () => {
  test('the new address confirms, the old one is told twice, and sign-in follows the address', async () => {
    const owner = await signUpOwner(db.app);
    const me = await callerFor(db.app, owner.token, { services: owner.services });
    await me.auth.requestEmailChange({
      newEmail: '  New.Address@Example.com ',
      password: STRONG_PASSWORD,
    });

    const toNew = await mailsTo(owner.services, owner.tenant.id, 'new.address@example.com');
    expect(toNew).toHaveLength(1);
    const oldNotices = await mailsTo(owner.services, owner.tenant.id, owner.user.email);
    expect(oldNotices.some((m) => m.includes('n***@example.com'))).toBe(true);
    // Nothing changes before the confirmation.
    expect((await me.auth.me()).user.email).toBe(owner.user.email);

    const anyone = createCaller(createTestContext(db.app, { services: owner.services }));
    await anyone.auth.confirmEmailChange({ token: tokenIn(toNew[0], '/confirm-email-change') });
    expect((await me.auth.me()).user.email).toBe('new.address@example.com');
    const { rows } = await db.owner.pool.query<{ email_verified_at: Date | null }>(
      'SELECT email_verified_at FROM users WHERE id = $1',
      [owner.user.id],
    );
    expect(rows[0]?.email_verified_at).toBeInstanceOf(Date);
    expect(
      (await mailsTo(owner.services, owner.tenant.id, owner.user.email)).some((m) =>
        m.includes('now uses n***@example.com'),
      ),
    ).toBe(true);

    await expect(
      anyone.auth.signIn({
        tenantSlug: owner.tenant.slug,
        email: owner.user.email,
        password: STRONG_PASSWORD,
      }),
    ).rejects.toMatchObject({ cause: { code: 'invalid_credentials' } });
    await expect(
      anyone.auth.signIn({
        tenantSlug: owner.tenant.slug,
        email: 'new.address@example.com',
        password: STRONG_PASSWORD,
      }),
    ).resolves.toMatchObject({ status: 'signed_in' });
    expect(await auditActions(owner.tenant.id)).toEqual(
      expect.arrayContaining(['auth.email_change.requested', 'auth.email.changed']),
    );
  });

  test('a wrong password changes nothing and mails nobody', async () => {
    const owner = await signUpOwner(db.app);
    const me = await callerFor(db.app, owner.token, { services: owner.services });
    await expect(
      me.auth.requestEmailChange({
        newEmail: 'x@example.com',
        password: 'not-the-password-at-all',
      }),
    ).rejects.toMatchObject({ cause: { code: 'invalid_credentials' } });
    expect(await mailsTo(owner.services, owner.tenant.id, 'x@example.com')).toEqual([]);
    await expect(
      me.auth.requestEmailChange({ newEmail: 'not an address', password: STRONG_PASSWORD }),
    ).rejects.toMatchObject({ cause: { code: 'invalid_input' } });
  });

  test('a link works once and not after 24 hours', async () => {
    const owner = await signUpOwner(db.app);
    const me = await callerFor(db.app, owner.token, { services: owner.services });
    await me.auth.requestEmailChange({ newEmail: 'once@example.com', password: STRONG_PASSWORD });
    const token = tokenIn(
      (await mailsTo(owner.services, owner.tenant.id, 'once@example.com'))[0],
      '/confirm-email-change',
    );
    const anyone = createCaller(createTestContext(db.app, { services: owner.services }));
    await anyone.auth.confirmEmailChange({ token });
    await expect(anyone.auth.confirmEmailChange({ token })).rejects.toMatchObject({
      cause: { code: 'token_invalid' },
    });

    await me.auth.requestEmailChange({ newEmail: 'late@example.com', password: STRONG_PASSWORD });
    const late = tokenIn(
      (await mailsTo(owner.services, owner.tenant.id, 'late@example.com'))[0],
      '/confirm-email-change',
    );
    const tomorrow = createCaller(
      createTestContext(db.app, {
        services: owner.services,
        now: () => new Date(Date.now() + 25 * 3_600_000),
      }),
    );
    await expect(tomorrow.auth.confirmEmailChange({ token: late })).rejects.toMatchObject({
      cause: { code: 'token_invalid' },
    });
    expect((await me.auth.me()).user.email).toBe('once@example.com');
  });

  test('an address taken in the tenant answers the same, mails it nothing, and cannot be confirmed into', async () => {
    const owner = await signUpOwner(db.app);
    const asOwner = await callerFor(db.app, owner.token, { services: owner.services });
    await asOwner.users.invite({ email: 'colleague@example.com', role: 'member' });
    const before = (await mailsTo(owner.services, owner.tenant.id, 'colleague@example.com')).length;
    await expect(
      asOwner.auth.requestEmailChange({
        newEmail: 'Colleague@example.com',
        password: STRONG_PASSWORD,
      }),
    ).resolves.toEqual({ ok: true });
    expect(await mailsTo(owner.services, owner.tenant.id, 'colleague@example.com')).toHaveLength(
      before,
    );
    const { rows } = await db.owner.pool.query(
      "SELECT 1 FROM user_tokens WHERE tenant_id = $1 AND kind = 'email_change'",
      [owner.tenant.id],
    );
    expect(rows).toHaveLength(0);
  });

  test('a password-reset link mailed to the old address dies with the change', async () => {
    const owner = await signUpOwner(db.app);
    const anyone = createCaller(createTestContext(db.app, { services: owner.services }));
    await anyone.auth.requestPasswordReset({
      tenantSlug: owner.tenant.slug,
      email: owner.user.email,
    });
    const reset = tokenIn(
      (await mailsTo(owner.services, owner.tenant.id, owner.user.email)).find((m) =>
        m.includes('/reset-password#'),
      ),
      '/reset-password',
    );
    const me = await callerFor(db.app, owner.token, { services: owner.services });
    await me.auth.requestEmailChange({ newEmail: 'moved@example.com', password: STRONG_PASSWORD });
    await anyone.auth.confirmEmailChange({
      token: tokenIn(
        (await mailsTo(owner.services, owner.tenant.id, 'moved@example.com'))[0],
        '/confirm-email-change',
      ),
    });
    await expect(
      anyone.auth.resetPassword({ token: reset, newPassword: 'a-completely-new-passphrase-991' }),
    ).rejects.toMatchObject({ cause: { code: 'token_invalid' } });
  });

  test('requests are limited to five per user per hour, counted before the password is checked', async () => {
    const owner = await signUpOwner(db.app);
    // Wrong re-entries also count toward the lockout (5 by default): raise it so the limit shows.
    await db.owner.pool.query(
      `UPDATE tenants SET security_policy = security_policy || '{"lockoutThreshold": 10}'::jsonb WHERE id = $1`,
      [owner.tenant.id],
    );
    const me = await callerFor(db.app, owner.token, { services: owner.services });
    for (let i = 0; i < 5; i += 1)
      await expect(
        me.auth.requestEmailChange({
          newEmail: `try${i}@example.com`,
          password: 'wrong-password-guess-' + String(i),
        }),
      ).rejects.toMatchObject({ cause: { code: 'invalid_credentials' } });
    await expect(
      me.auth.requestEmailChange({ newEmail: 'sixth@example.com', password: STRONG_PASSWORD }),
    ).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS', cause: { code: 'rate_limited' } });
    expect(await mailsTo(owner.services, owner.tenant.id, 'sixth@example.com')).toEqual([]);
  });

  test('malformed tokens are refused without a lookup result', async () => {
    const anyone = createCaller(createTestContext(db.app));
    await expect(anyone.auth.confirmEmailChange({ token: 'x'.repeat(43) })).rejects.toMatchObject({
      cause: { code: 'token_invalid' },
    });
    await expect(anyone.auth.confirmEmailChange({ token: 'short' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});
