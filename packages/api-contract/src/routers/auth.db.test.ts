import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import {
  callerFor,
  createCaller,
  createTestContext,
  signUpOwner,
  STRONG_PASSWORD,
} from '../testing/index.js';

const db = useTestDatabase();

describe('sign-up and sign-in', () => {
  test('sign-up creates the tenant and its owner and sets a session cookie', async () => {
    const owner = await signUpOwner(db.app);
    const me = await (await callerFor(db.app, owner.token)).auth.me();
    expect(me.user).toMatchObject({ id: owner.user.id, role: 'owner', mfaEnabled: false });
    expect(me.tenant).toEqual(owner.tenant);
    expect(me.session.aal).toBe(1);
    expect(new Date(me.session.expiresAt).getTime()).toBeGreaterThan(Date.now());
  });

  test('a taken slug is a CONFLICT on the slug field', async () => {
    const owner = await signUpOwner(db.app);
    const caller = createCaller(createTestContext(db.app));
    await expect(
      caller.auth.signUp({
        tenantName: 'Again',
        tenantSlug: owner.tenant.slug,
        email: 'x@example.com',
        password: STRONG_PASSWORD,
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT', cause: { field: 'tenantSlug' } });
  });

  test('sign-in with e-mail in another case and with spaces succeeds and issues a new token', async () => {
    const owner = await signUpOwner(db.app, { email: 'Mixed.Case@Example.com' });
    const ctx = createTestContext(db.app);
    const result = await createCaller(ctx).auth.signIn({
      tenantSlug: owner.tenant.slug,
      email: '  MIXED.case@example.COM ',
      password: STRONG_PASSWORD,
    });
    expect(result).toMatchObject({ status: 'signed_in', user: { id: owner.user.id } });
    expect(ctx.cookies.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(ctx.cookies.token).not.toBe(owner.token);
  });

  test('a weak password is refused at sign-up with a reason and nothing is created', async () => {
    const caller = createCaller(createTestContext(db.app));
    await expect(
      caller.auth.signUp({
        tenantName: 'Weak',
        tenantSlug: 'weak-co',
        email: 'w@example.com',
        password: 'password1234567',
      }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      cause: { code: 'weak_password' },
    });
    const lookup = await db.app.pool.query('SELECT * FROM lookup_tenant_by_slug($1)', ['weak-co']);
    expect(lookup.rows).toEqual([]);
  });

  test('sign-out revokes the session: the token no longer resolves', async () => {
    const owner = await signUpOwner(db.app);
    const caller = await callerFor(db.app, owner.token);
    await caller.auth.signOut();
    await expect(callerFor(db.app, owner.token)).rejects.toThrow(/does not resolve/);
  });

  test('the database keeps only the SHA-256 of a session token', async () => {
    const owner = await signUpOwner(db.app);
    const { rows } = await db.owner.pool.query<{ found: number }>(
      "SELECT count(*)::int AS found FROM sessions WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%' OR encode(token_hash, 'hex') = encode(convert_to($1, 'UTF8'), 'hex')",
      [owner.token],
    );
    expect(rows[0]?.found).toBe(0);
    const hashed = await db.owner.pool.query(
      "SELECT 1 FROM sessions WHERE token_hash = sha256(convert_to($1, 'UTF8'))",
      [owner.token],
    );
    expect(hashed.rowCount).toBe(1);
  });

  test('passwordStrength scores without storing anything and refuses overlong input', async () => {
    const caller = createCaller(createTestContext(db.app));
    const weak = await caller.auth.passwordStrength({ password: 'password' });
    expect(weak).toMatchObject({ acceptable: false });
    const strong = await caller.auth.passwordStrength({ password: STRONG_PASSWORD });
    expect(strong.acceptable).toBe(true);
    expect(strong.score).toBeGreaterThanOrEqual(3);
    await expect(
      caller.auth.passwordStrength({ password: 'a'.repeat(1025) }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
