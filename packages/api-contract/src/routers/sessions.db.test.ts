import { hashSessionToken } from '@tessera/auth/sessions';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import {
  callerFor,
  createCaller,
  createTestContext,
  principalFromToken,
  signUpOwner,
  STRONG_PASSWORD,
  testServices,
} from '../testing/index.js';

const db = useTestDatabase();

async function signInAt(
  slug: string,
  email: string,
  now: Date,
  services = testServices(),
): Promise<string> {
  const ctx = createTestContext(db.app, { services, now: () => now });
  await createCaller(ctx).auth.signIn({ tenantSlug: slug, email, password: STRONG_PASSWORD });
  if (!ctx.cookies.token) throw new Error('no cookie');
  return ctx.cookies.token;
}

/**
 * Lets `minutes` pass for one session: the resolver reads the database clock, so the session's
 * timestamps move back instead (through the owner connection).
 */
async function elapse(token: string, minutes: number): Promise<void> {
  await db.owner.pool.query(
    `UPDATE sessions SET created_at = created_at - $2 * interval '1 minute', last_activity_at = last_activity_at - $2 * interval '1 minute' WHERE token_hash = $1`,
    [hashSessionToken(token), minutes],
  );
}

const lastActivityOf = async (token: string): Promise<Date | undefined> =>
  (
    await db.owner.pool.query<{ at: Date }>(
      'SELECT last_activity_at AS at FROM sessions WHERE token_hash = $1',
      [hashSessionToken(token)],
    )
  ).rows[0]?.at;

describe('session lifetime', () => {
  test('a session expires after 30 idle minutes and activity within a minute is not written', async () => {
    const owner = await signUpOwner(db.app);
    const token = await signInAt(owner.tenant.slug, owner.user.email, new Date());
    await elapse(token, 29);
    expect(await principalFromToken(db.app, token)).not.toBeNull();
    // Activity at +29 min renews the idle window, once: a second request within the minute writes nothing...
    const renewed = await lastActivityOf(token);
    expect(await principalFromToken(db.app, token)).not.toBeNull();
    expect(await lastActivityOf(token)).toEqual(renewed);
    await elapse(token, 29);
    expect(await principalFromToken(db.app, token)).not.toBeNull();
    // ...but 30 minutes of silence after that ends it.
    await elapse(token, 30);
    expect(await principalFromToken(db.app, token)).toBeNull();
  });

  test('a session ends at its absolute lifetime (8 h) however active it is', async () => {
    const owner = await signUpOwner(db.app);
    const token = await signInAt(owner.tenant.slug, owner.user.email, new Date());
    for (let minutes = 20; minutes < 480; minutes += 20) {
      await elapse(token, 20);
      expect(await principalFromToken(db.app, token), `at ${minutes} min`).not.toBeNull();
    }
    await elapse(token, 20);
    expect(await principalFromToken(db.app, token)).toBeNull();
  });

  test('expiresAt is the earlier of the idle and absolute expiry', async () => {
    const owner = await signUpOwner(db.app);
    const t0 = new Date();
    const token = await signInAt(owner.tenant.slug, owner.user.email, t0);
    const principal = await principalFromToken(db.app, token);
    expect(principal?.kind === 'session' && principal.expiresAt.getTime()).toBe(
      t0.getTime() + 30 * 60_000,
    );
  });

  test('a tenant policy with a shorter idle timeout applies to live sessions', async () => {
    const owner = await signUpOwner(db.app);
    await (
      await callerFor(db.app, owner.token)
    ).tenant.updateSecurityPolicy({ sessionIdleMinutes: 5 });
    const token = await signInAt(owner.tenant.slug, owner.user.email, new Date());
    await elapse(token, 6);
    expect(await principalFromToken(db.app, token)).toBeNull();
  });
});

describe('session management', () => {
  test('a sixth session evicts the oldest (default maximum 5)', async () => {
    const owner = await signUpOwner(db.app);
    const t0 = Date.now();
    const tokens = [owner.token];
    for (let i = 1; i <= 5; i += 1)
      tokens.push(await signInAt(owner.tenant.slug, owner.user.email, new Date(t0 + i * 1000)));
    const now = new Date(t0 + 10_000);
    expect(await principalFromToken(db.app, tokens[0] ?? '')).toBeNull();
    for (const token of tokens.slice(1))
      expect(await principalFromToken(db.app, token)).not.toBeNull();
    const listed = await (
      await callerFor(db.app, tokens[5] ?? '', { now: () => now })
    ).sessions.list();
    expect(listed).toHaveLength(5);
    expect(listed.filter((s) => s.current)).toHaveLength(1);
  });

  test('sessions.revoke ends one own session; revokeOthers ends all but the current', async () => {
    const owner = await signUpOwner(db.app);
    const second = await signInAt(owner.tenant.slug, owner.user.email, new Date());
    const third = await signInAt(owner.tenant.slug, owner.user.email, new Date());
    const caller = await callerFor(db.app, owner.token);
    const list = await caller.sessions.list();
    const secondId =
      (await principalFromToken(db.app, second))?.kind === 'session'
        ? list.find((s) => !s.current)?.id
        : undefined;
    expect(secondId).toBeDefined();
    await caller.sessions.revoke({ sessionId: secondId ?? '' });
    expect(await caller.sessions.revokeOthers()).toEqual({ revoked: 1 });
    expect(await principalFromToken(db.app, second)).toBeNull();
    expect(await principalFromToken(db.app, third)).toBeNull();
    expect(await principalFromToken(db.app, owner.token)).not.toBeNull();
  });

  test('changing the password revokes the other sessions and keeps this one', async () => {
    const owner = await signUpOwner(db.app);
    const other = await signInAt(owner.tenant.slug, owner.user.email, new Date());
    const caller = await callerFor(db.app, owner.token);
    await caller.auth.changePassword({
      currentPassword: STRONG_PASSWORD,
      newPassword: 'amber-falcon-drifts-under-4-moons',
    });
    expect(await principalFromToken(db.app, other)).toBeNull();
    expect(await principalFromToken(db.app, owner.token)).not.toBeNull();
  });
});
