// Attacks: account enumeration through sign-in answers or timing (unknown e-mail vs wrong password
// vs disabled user), online guessing (lockout with backoff, per-account and per-IP limits, e-mail
// case/space variations), and erasing the evidence by making the request fail (docs/design.md "Failure
// bookkeeping"). ASVS V2.2.1, V3.2; docs/design.md rule 5.
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test, vi } from 'vitest';
import {
  callerFor,
  createCaller,
  createTestContext,
  signUpOwner,
  STRONG_PASSWORD,
  testServices,
} from '../testing/index.js';

const db = useTestDatabase();

async function attempt(
  services: ReturnType<typeof testServices>,
  input: { tenantSlug: string; email: string; password: string },
  now = new Date(),
) {
  const ctx = createTestContext(db.app, { services, now: () => now });
  try {
    await createCaller(ctx).auth.signIn(input);
    return { ok: true as const, cookie: ctx.cookies.token };
  } catch (error) {
    const e = error as {
      code?: string;
      message?: string;
      cause?: { code?: string; retryAfterSeconds?: number };
    };
    return {
      ok: false as const,
      code: e.code,
      message: e.message,
      reason: e.cause?.code,
      retryAfter: e.cause?.retryAfterSeconds,
    };
  }
}

describe('sign-in refusals look identical', () => {
  test('unknown e-mail, wrong password, disabled user and unknown tenant give the same error', async () => {
    const owner = await signUpOwner(db.app);
    const services = testServices();
    await db.owner.pool.query(
      "INSERT INTO users (tenant_id, email, password_hash, password_algorithm, role, disabled_at) SELECT tenant_id, 'gone@example.com', password_hash, password_algorithm, 'member', now() FROM users WHERE id = $1",
      [owner.user.id],
    );
    const outcomes = [
      await attempt(services, {
        tenantSlug: owner.tenant.slug,
        email: 'nobody@example.com',
        password: STRONG_PASSWORD,
      }),
      await attempt(services, {
        tenantSlug: owner.tenant.slug,
        email: owner.user.email,
        password: `${STRONG_PASSWORD}x`,
      }),
      await attempt(services, {
        tenantSlug: owner.tenant.slug,
        email: 'gone@example.com',
        password: STRONG_PASSWORD,
      }),
      await attempt(services, {
        tenantSlug: 'no-such-tenant',
        email: owner.user.email,
        password: STRONG_PASSWORD,
      }),
    ];
    for (const outcome of outcomes)
      expect(outcome).toEqual({
        ok: false,
        code: 'UNAUTHORIZED',
        message: 'Email or password is incorrect.',
        reason: 'invalid_credentials',
        retryAfter: undefined,
      });
  });

  test('an unknown user still costs one password verification (the dummy verify)', async () => {
    const owner = await signUpOwner(db.app);
    const services = testServices();
    const verify = vi.spyOn(services.accounts.passwords, 'verify');
    await attempt(services, {
      tenantSlug: owner.tenant.slug,
      email: 'ghost@example.com',
      password: STRONG_PASSWORD,
    });
    await attempt(services, {
      tenantSlug: 'no-such-tenant-2',
      email: 'ghost@example.com',
      password: STRONG_PASSWORD,
    });
    expect(verify).toHaveBeenCalledTimes(2);
    expect(verify.mock.calls.every(([stored]) => stored === null)).toBe(true);
  });
});

describe('lockout', () => {
  test('five failures across e-mail case and whitespace variants lock the account, even for the right password', async () => {
    const owner = await signUpOwner(db.app, { email: 'lock.me@example.com' });
    const services = testServices();
    const variants = [
      'lock.me@example.com',
      'LOCK.ME@example.com',
      ' lock.me@example.com ',
      'Lock.Me@Example.Com',
      'lock.me@EXAMPLE.com',
    ];
    const results = [];
    for (const email of variants)
      results.push(
        await attempt(services, {
          tenantSlug: owner.tenant.slug,
          email,
          password: 'wrong-wrong-wrong-wrong',
        }),
      );
    expect(results.slice(0, 4).map((r) => r.reason)).toEqual(Array(4).fill('invalid_credentials'));
    expect(results[4]).toMatchObject({ code: 'TOO_MANY_REQUESTS', reason: 'account_locked' });
    expect(results[4]?.retryAfter).toBe(30);
    const right = await attempt(services, {
      tenantSlug: owner.tenant.slug,
      email: owner.user.email,
      password: STRONG_PASSWORD,
    });
    expect(right).toMatchObject({ ok: false, reason: 'account_locked' });
  });

  test('the lock ends after its delay, and the next lock lasts twice as long', async () => {
    const owner = await signUpOwner(db.app);
    const services = testServices();
    const t0 = new Date();
    const wrong = {
      tenantSlug: owner.tenant.slug,
      email: owner.user.email,
      password: 'definitely-not-it-123',
    };
    for (let i = 0; i < 5; i += 1) await attempt(services, wrong, t0);
    const later = new Date(t0.getTime() + 31_000);
    for (let i = 0; i < 4; i += 1)
      expect((await attempt(services, wrong, later)).reason).toBe('invalid_credentials');
    expect(await attempt(services, wrong, later)).toMatchObject({
      reason: 'account_locked',
      retryAfter: 60,
    });
  });

  test('an unknown e-mail locks the same way, so a lock reveals nothing', async () => {
    const owner = await signUpOwner(db.app);
    const services = testServices();
    const results = [];
    for (let i = 0; i < 5; i += 1)
      results.push(
        await attempt(services, {
          tenantSlug: owner.tenant.slug,
          email: 'no.account@example.com',
          password: 'guess-guess-guess-1',
        }),
      );
    expect(results[4]).toMatchObject({ reason: 'account_locked' });
  });

  test('the failure counter and the audit rows survive the refused request', async () => {
    const owner = await signUpOwner(db.app);
    const services = testServices();
    for (let i = 0; i < 5; i += 1)
      await attempt(services, {
        tenantSlug: owner.tenant.slug,
        email: owner.user.email,
        password: 'nope-nope-nope-nope',
      });
    const throttle = await db.owner.pool.query(
      'SELECT lockouts, locked_until FROM login_throttles WHERE tenant_id = $1',
      [owner.tenant.id],
    );
    expect(throttle.rows[0]).toMatchObject({ lockouts: 1 });
    const audit = await db.owner.pool.query<{ action: string; n: number }>(
      "SELECT action, count(*)::int AS n FROM audit_logs WHERE tenant_id = $1 AND action IN ('auth.sign_in.failed', 'auth.account.locked') GROUP BY action ORDER BY action",
      [owner.tenant.id],
    );
    expect(audit.rows).toEqual([
      { action: 'auth.account.locked', n: 1 },
      { action: 'auth.sign_in.failed', n: 5 },
    ]);
  });

  test('an owner can unlock a locked member, and the unlock is audited', async () => {
    const owner = await signUpOwner(db.app);
    const services = testServices();
    const { rows } = await db.owner.pool.query<{ id: string }>(
      "INSERT INTO users (tenant_id, email, password_hash, password_algorithm, role) SELECT tenant_id, 'member@example.com', password_hash, password_algorithm, 'member' FROM users WHERE id = $1 RETURNING id",
      [owner.user.id],
    );
    const memberId = rows[0]?.id ?? '';
    const creds = {
      tenantSlug: owner.tenant.slug,
      email: 'member@example.com',
      password: STRONG_PASSWORD,
    };
    for (let i = 0; i < 5; i += 1)
      await attempt(services, { ...creds, password: 'nope-nope-nope-nope' });
    expect((await attempt(services, creds)).reason).toBe('account_locked');
    await (await callerFor(db.app, owner.token, { services })).users.unlock({ userId: memberId });
    expect((await attempt(services, creds)).ok).toBe(true);
    const audit = await db.owner.pool.query(
      "SELECT 1 FROM audit_logs WHERE tenant_id = $1 AND action = 'user.unlocked' AND target_id = $2",
      [owner.tenant.id, memberId],
    );
    expect(audit.rowCount).toBe(1);
  });
});

describe('rate limits', () => {
  test('per-account limit answers TOO_MANY_REQUESTS with a retry delay, whatever the e-mail spelling', async () => {
    const owner = await signUpOwner(db.app);
    const services = testServices();
    const results = [];
    for (let i = 0; i < 11; i += 1) {
      const email = i % 2 ? 'SPRAY@example.com' : 'spray@example.com ';
      results.push(
        await attempt(services, { tenantSlug: owner.tenant.slug, email, password: 'x'.repeat(20) }),
      );
    }
    expect(results[10]).toMatchObject({ code: 'TOO_MANY_REQUESTS', reason: 'rate_limited' });
    expect(results[10]?.retryAfter).toBeGreaterThan(0);
  });
});
