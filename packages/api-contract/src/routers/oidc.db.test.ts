// oidc.* procedures: owners and admins register apps (exact, safe redirect URIs; the secret shown
// once and stored as SHA-256 only), revoke them, and rotate the signing key; registering and
// rotating need step-up from a user whose second factor is older than 10 minutes. docs/design.md
// rule 4 and "Identity" (step-up); docs/oidc-provider.md.
import { createHash } from 'node:crypto';
import { totpCodeAt } from '@tessera/auth/mfa';
import { findOidcClientMetadata } from '@tessera/auth/oidc';
import { oidcClients } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import {
  callerFor,
  createCaller,
  createTestContext,
  principalFromToken,
  signUpOwner,
  type SeededOwner,
} from '../testing/index.js';

const db = useTestDatabase();
const web = {
  name: 'Shop',
  kind: 'web' as const,
  redirectUris: ['https://shop.example.com/callback'],
  scopes: ['openid', 'email', 'orders:read'],
};

describe('registering apps', () => {
  test('a web app gets a secret shown once; only its SHA-256 is stored and the list never shows it', async () => {
    const owner = await signUpOwner(db.app);
    const caller = await callerFor(db.app, owner.token, { services: owner.services });
    const { client, clientSecret } = await caller.oidc.createClient(web);
    expect(client.clientId).toMatch(/^oc_[A-Za-z0-9_-]{22}$/);
    expect(clientSecret).toMatch(/^ocs_[A-Za-z0-9_-]{43}$/);
    const [row] = await db.withTenant(owner.tenant.id, (tx) => tx.select().from(oidcClients));
    expect(row?.secretHash).toEqual(
      createHash('sha256')
        .update(clientSecret ?? '')
        .digest(),
    );
    expect(JSON.stringify(await caller.oidc.listClients())).not.toContain(clientSecret ?? '');
    const spa = await caller.oidc.createClient({ ...web, kind: 'spa' });
    expect(spa.clientSecret).toBeNull();
  });

  test.each([
    ['plain http to a public host', { redirectUris: ['http://shop.example.com/cb'] }],
    ['a fragment', { redirectUris: ['https://shop.example.com/cb#x'] }],
    ['a wildcard', { redirectUris: ['https://*.example.com/cb'] }],
    ['a custom scheme on a web app', { redirectUris: ['com.example.shop:/cb'] }],
    ['no redirect URI', { redirectUris: [] }],
    ['a machine client with a redirect URI', { kind: 'machine' as const, scopes: ['orders:read'] }],
    ['an unknown scope', { scopes: ['openid', 'everything'] }],
  ])('an app with %s is refused', async (_name, change) => {
    const owner = await signUpOwner(db.app);
    const caller = await callerFor(db.app, owner.token, { services: owner.services });
    await expect(caller.oidc.createClient({ ...web, ...change })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  test('a native app may use a reverse-domain scheme and loopback', async () => {
    const owner = await signUpOwner(db.app);
    const caller = await callerFor(db.app, owner.token, { services: owner.services });
    const { client } = await caller.oidc.createClient({
      ...web,
      kind: 'native',
      redirectUris: ['com.example.shop:/oauth/callback', 'http://127.0.0.1/callback'],
    });
    expect(client.kind).toBe('native');
  });

  test('a revoked app is unknown to the provider and cannot be revoked twice', async () => {
    const owner = await signUpOwner(db.app);
    const caller = await callerFor(db.app, owner.token, { services: owner.services });
    const { client } = await caller.oidc.createClient(web);
    await caller.oidc.revokeClient({ id: client.id });
    expect(
      await db.withTenant(owner.tenant.id, (tx) => findOidcClientMetadata(tx, client.clientId)),
    ).toBeNull();
    await expect(caller.oidc.revokeClient({ id: client.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  test("another tenant's app cannot be revoked by id", async () => {
    const a = await signUpOwner(db.app);
    const b = await signUpOwner(db.app);
    const { client } = await (
      await callerFor(db.app, a.token, { services: a.services })
    ).oidc.createClient(web);
    const callerB = await callerFor(db.app, b.token, { services: b.services });
    await expect(callerB.oidc.revokeClient({ id: client.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('step-up', () => {
  /** An owner who enrolled TOTP now; `later` is past the 10-minute step-up window. */
  async function ownerWithStaleFactor(): Promise<{ owner: SeededOwner; later: Date }> {
    const t0 = new Date();
    const owner = await signUpOwner(db.app, { now: () => t0 });
    const { secret } = await (
      await callerFor(db.app, owner.token, { services: owner.services, now: () => t0 })
    ).mfa.beginEnrollment();
    const ctx = createTestContext(db.app, {
      services: owner.services,
      now: () => t0,
      principal: await principalFromToken(db.app, owner.token),
    });
    await createCaller(ctx).mfa.confirmEnrollment({ code: totpCodeAt(secret, t0) });
    const token = ctx.cookies.token ?? owner.token; // a privilege change may renew the session
    return { owner: { ...owner, token }, later: new Date(t0.getTime() + 11 * 60_000) };
  }

  test('registering an app and rotating the key need a recent second factor', async () => {
    const { owner, later } = await ownerWithStaleFactor();
    const caller = await callerFor(db.app, owner.token, {
      services: owner.services,
      now: () => later,
    });
    const stepUp = { code: 'PRECONDITION_FAILED', cause: { code: 'step_up_required' } };
    await expect(caller.oidc.createClient(web)).rejects.toMatchObject(stepUp);
    await expect(caller.oidc.rotateSigningKey()).rejects.toMatchObject(stepUp);
  });
});
