// Attack: using a signed-in session (stolen cookie, unattended browser) as an unlimited, silent
// password oracle. auth.changePassword, mfa.disable and auth.requestEmailChange re-check the
// password; each wrong entry counts against the same per-account counter and lockout as sign-in,
// commits before the refusal leaves, is audited, is rate-limited per account, and repeated
// failures are mailed to the user. docs/design.md "Failure bookkeeping"; ASVS V2.2.1, V2.5.
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import {
  callerFor,
  createCaller,
  createTestContext,
  outboxMails,
  signUpOwner,
  STRONG_PASSWORD,
  type SeededOwner,
} from '../testing/index.js';

const db = useTestDatabase();
const WRONG = 'not-my-password-at-all';

type Outcome = 'ok' | { code: string | undefined; reason: string | undefined; retryAfter?: number };

async function outcome(call: Promise<unknown>): Promise<Outcome> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    const e = error as { code?: string; cause?: { code?: string; retryAfterSeconds?: number } };
    return {
      code: e.code,
      reason: e.cause?.code,
      ...(e.cause?.retryAfterSeconds ? { retryAfter: e.cause.retryAfterSeconds } : {}),
    };
  }
}

async function throttleOf(owner: SeededOwner): Promise<{ failures: number; locked: boolean }> {
  const { rows } = await db.owner.pool.query<{ failures: number; locked_until: Date | null }>(
    'SELECT failures, locked_until FROM login_throttles WHERE tenant_id = $1 AND email = $2',
    [owner.tenant.id, owner.user.email],
  );
  return { failures: rows[0]?.failures ?? 0, locked: Boolean(rows[0]?.locked_until) };
}

async function auditActions(
  owner: SeededOwner,
): Promise<{ action: string; purpose: string | null }[]> {
  const { rows } = await db.owner.pool.query<{ action: string; purpose: string | null }>(
    "SELECT action, metadata ->> 'purpose' AS purpose FROM audit_logs WHERE tenant_id = $1 AND action IN ('auth.password_confirmation.failed', 'auth.password_confirmation.refused', 'auth.account.locked', 'auth.sign_in.failed') ORDER BY seq",
    [owner.tenant.id],
  );
  return rows;
}

const wrongChange = (caller: Awaited<ReturnType<typeof callerFor>>) =>
  caller.auth.changePassword({
    currentPassword: WRONG,
    newPassword: 'a-brand-new-passphrase-for-me',
  });

describe('password re-entry counts like sign-in', () => {
  test('each wrong re-entry is committed to the sign-in counter and audited before the refusal leaves', async () => {
    const owner = await signUpOwner(db.app);
    const me = await callerFor(db.app, owner.token, { services: owner.services });

    expect(await outcome(wrongChange(me))).toEqual({
      code: 'UNAUTHORIZED',
      reason: 'invalid_credentials',
    });
    expect(await throttleOf(owner)).toEqual({ failures: 1, locked: false });
    expect(await auditActions(owner)).toEqual([
      { action: 'auth.password_confirmation.failed', purpose: 'change_password' },
    ]);

    expect(await outcome(me.mfa.disable({ password: WRONG, code: '000000' }))).toEqual({
      code: 'UNAUTHORIZED',
      reason: 'invalid_credentials',
    });
    expect(
      await outcome(
        me.auth.requestEmailChange({ newEmail: 'elsewhere@example.com', password: WRONG }),
      ),
    ).toEqual({ code: 'UNAUTHORIZED', reason: 'invalid_credentials' });
    expect(await throttleOf(owner)).toEqual({ failures: 3, locked: false });

    // Sign-in failures and re-entry failures share one counter: the fifth failure locks.
    const anon = createCaller(createTestContext(db.app, { services: owner.services }));
    expect(
      await outcome(
        anon.auth.signIn({
          tenantSlug: owner.tenant.slug,
          email: owner.user.email,
          password: WRONG,
        }),
      ),
    ).toMatchObject({ reason: 'invalid_credentials' });
    expect(await outcome(wrongChange(me))).toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      reason: 'account_locked',
    });
    expect(await throttleOf(owner)).toMatchObject({ locked: true });
    expect(
      await outcome(
        anon.auth.signIn({
          tenantSlug: owner.tenant.slug,
          email: owner.user.email,
          password: STRONG_PASSWORD,
        }),
      ),
    ).toMatchObject({ reason: 'account_locked' });

    expect((await auditActions(owner)).map((r) => `${r.action}:${r.purpose ?? ''}`)).toEqual([
      'auth.password_confirmation.failed:change_password',
      'auth.password_confirmation.failed:disable_mfa',
      'auth.password_confirmation.failed:change_email',
      'auth.sign_in.failed:',
      'auth.password_confirmation.failed:change_password',
      'auth.account.locked:',
    ]);
  });

  test('a locked account refuses re-entry even with the right password, and the refusal is audited', async () => {
    const owner = await signUpOwner(db.app);
    const me = await callerFor(db.app, owner.token, { services: owner.services });
    for (let i = 0; i < 5; i += 1) await outcome(wrongChange(me));
    const right = await outcome(
      me.auth.changePassword({
        currentPassword: STRONG_PASSWORD,
        newPassword: 'a-brand-new-passphrase-for-me',
      }),
    );
    expect(right).toMatchObject({ code: 'TOO_MANY_REQUESTS', reason: 'account_locked' });
    expect((right as { retryAfter?: number }).retryAfter).toBeGreaterThan(0);
    expect((await auditActions(owner)).at(-1)).toEqual({
      action: 'auth.password_confirmation.refused',
      purpose: 'change_password',
    });
    const { rows } = await db.owner.pool.query<{ password_hash: string }>(
      'SELECT password_hash FROM users WHERE id = $1',
      [owner.user.id],
    );
    const anon = createCaller(
      createTestContext(db.app, {
        services: owner.services,
        now: () => new Date(Date.now() + 3_600_000),
      }),
    );
    expect(rows[0]?.password_hash).toMatch(/^\$argon2id\$/);
    await expect(
      anon.auth.signIn({
        tenantSlug: owner.tenant.slug,
        email: owner.user.email,
        password: STRONG_PASSWORD,
      }),
    ).resolves.toMatchObject({ status: 'signed_in' });
  });
});

describe('the user hears of it', () => {
  test('repeated wrong re-entries are mailed to the account owner, and the lock too', async () => {
    const owner = await signUpOwner(db.app);
    const me = await callerFor(db.app, owner.token, { services: owner.services });
    for (let i = 0; i < 2; i += 1) await outcome(wrongChange(me));
    expect(
      await outboxMails(db.owner, owner.services.accounts.keyring, owner.tenant.id, {
        template: 'password_confirmation_failed',
      }),
    ).toHaveLength(0);
    await outcome(wrongChange(me));
    const warned = await outboxMails(db.owner, owner.services.accounts.keyring, owner.tenant.id, {
      template: 'password_confirmation_failed',
    });
    expect(warned).toHaveLength(1);
    expect(warned[0]?.to).toBe(owner.user.email);
    expect(warned[0]?.body).toMatch(/3 times/);
    for (let i = 0; i < 2; i += 1) await outcome(wrongChange(me));
    expect(
      await outboxMails(db.owner, owner.services.accounts.keyring, owner.tenant.id, {
        template: 'account_locked',
      }),
    ).toHaveLength(1);
  });
});

describe('rate limit', () => {
  test('password re-entry is rate-limited per account, even where the lockout threshold is high', async () => {
    const owner = await signUpOwner(db.app);
    await db.owner.pool.query(
      `UPDATE tenants SET security_policy = security_policy || '{"lockoutThreshold": 50}'::jsonb WHERE id = $1`,
      [owner.tenant.id],
    );
    const me = await callerFor(db.app, owner.token, { services: owner.services });
    const results: Outcome[] = [];
    for (let i = 0; i < 10; i += 1)
      results.push(
        await outcome(
          i % 2 === 0
            ? wrongChange(me)
            : me.auth.requestEmailChange({ newEmail: 'x@example.com', password: WRONG }),
        ),
      );
    expect(results.every((r) => r !== 'ok' && r.reason === 'invalid_credentials')).toBe(true);
    const limited = await outcome(me.mfa.disable({ password: STRONG_PASSWORD, code: '000000' }));
    expect(limited).toMatchObject({ code: 'TOO_MANY_REQUESTS', reason: 'rate_limited' });
    expect(await throttleOf(owner)).toEqual({ failures: 10, locked: false });
  });
});
