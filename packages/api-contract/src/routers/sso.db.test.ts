import { userIdentities, users } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import type { Principal, Services } from '../context.js';
import {
  principalFromToken,
  signUpOwner,
  testServices,
  createTestContext,
  type SeededOwner,
} from '../testing/index.js';
import { createCallerFactory, router } from '../trpc.js';
import { identitiesRouter, ssoRouter, type SsoServices } from './sso.js';

const db = useTestDatabase();
// Mounted as the lead will mount it (routers/tenant.ts: `sso: ssoRouter`).
const testRouter = router({ tenant: router({ sso: ssoRouter }), identities: identitiesRouter });
const createCaller = createCallerFactory(testRouter);
const sso: SsoServices = {
  outbound: { mode: 'development' },
  platformProviders: [{ id: 'google', name: 'Google' }],
};
const services = { ...testServices(), sso } as Services;
const connection = {
  enabled: true,
  issuer: 'http://127.0.0.1:9/idp',
  clientId: 'tessera',
  clientSecret: 'a-client-secret-value',
};

async function callerAs(principal: Principal | null) {
  return createCaller(createTestContext(db.app, { services, principal }));
}

async function owner(): Promise<SeededOwner & { principal: Principal }> {
  const seeded = await signUpOwner(db.app, { services });
  const principal = await principalFromToken(db.app, seeded.token);
  if (!principal) throw new Error('no session');
  return { ...seeded, principal };
}

describe('tenant.sso', () => {
  test('an owner configures SSO; get shows the callback URL and never the secret', async () => {
    const o = await owner();
    const caller = await callerAs(o.principal);
    const updated = await caller.tenant.sso.update({
      ...connection,
      platformProviders: ['google'],
    });
    expect(updated).toMatchObject({
      enabled: true,
      clientSecretSet: true,
      platformProviders: ['google'],
      callbackUrl: `http://localhost:3000/auth/callback/tenant-${o.tenant.slug}`,
    });
    const view = await caller.tenant.sso.get();
    expect(JSON.stringify(view)).not.toContain(connection.clientSecret);
    expect(view.availablePlatformProviders).toEqual([{ id: 'google', name: 'Google' }]);
  });

  test('members, API keys and anonymous callers cannot read or change SSO settings', async () => {
    const o = await owner();
    const [member] = await db.withTenant(o.tenant.id, (tx) =>
      tx
        .insert(users)
        .values({ tenantId: o.tenant.id, email: 'm@example.com', role: 'member' })
        .returning(),
    );
    const asMember: Principal = {
      ...o.principal,
      kind: 'session',
      userId: member?.id ?? '',
      role: 'member',
    } as Principal;
    await expect((await callerAs(asMember)).tenant.sso.get()).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(
      (await callerAs(asMember)).tenant.sso.update({ jitProvisioning: true }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const key: Principal = {
      kind: 'api_key',
      tenantId: o.tenant.id,
      keyId: o.user.id,
      keyType: 'secret',
      scopes: ['users:write'],
    };
    await expect((await callerAs(key)).tenant.sso.get()).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(
      (await callerAs(null)).tenant.sso.update({ jitProvisioning: true }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  test('a session whose second factor is older than 10 minutes cannot change SSO settings (step-up)', async () => {
    const o = await owner();
    const now = Date.now();
    const stale = {
      ...o.principal,
      mfaEnabled: true,
      aal: 2,
      mfaVerifiedAt: new Date(now - 11 * 60_000),
    } as Principal;
    // Repointing the connection at another identity provider and trusting its MFA would hand out sessions for any user.
    await expect(
      (await callerAs(stale)).tenant.sso.update({ ...connection, trustProviderMfa: true }),
    ).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', cause: { code: 'step_up_required' } });
    await expect(
      (await callerAs(stale)).tenant.sso.update({ enabled: false }),
    ).rejects.toMatchObject({ cause: { code: 'step_up_required' } });
    expect(await (await callerAs(stale)).tenant.sso.get()).toMatchObject({
      enabled: false,
      clientSecretSet: false,
    });
    const fresh = {
      ...o.principal,
      mfaEnabled: true,
      aal: 2,
      mfaVerifiedAt: new Date(now - 60_000),
    } as Principal;
    await expect((await callerAs(fresh)).tenant.sso.update(connection)).resolves.toMatchObject({
      enabled: true,
    });
  });

  test('an admin may not repoint the connection (owner-only), and says so', async () => {
    const o = await owner();
    const asAdmin = { ...o.principal, role: 'admin' } as Principal;
    await expect(
      (await callerAs(asAdmin)).tenant.sso.update({ issuer: 'https://evil.example.com' }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Only owners change the identity provider connection.',
    });
  });

  test('inputs are strict and bounded', async () => {
    const caller = await callerAs((await owner()).principal);
    await expect(
      caller.tenant.sso.update({ clientSecret: 'x'.repeat(1025) }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(caller.tenant.sso.update({ issuer: 'not a url' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(caller.tenant.sso.update({ extra: true } as never)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  test('signInOptions is public and answers the same empty list for unknown tenants and tenants without SSO', async () => {
    const o = await owner();
    const anonymous = await callerAs(null);
    expect(await anonymous.tenant.sso.signInOptions({ tenantSlug: o.tenant.slug })).toEqual([]);
    expect(await anonymous.tenant.sso.signInOptions({ tenantSlug: 'no-such-tenant' })).toEqual([]);
    await (
      await callerAs(o.principal)
    ).tenant.sso.update({ ...connection, displayName: 'Acme SSO', platformProviders: ['google'] });
    expect(await anonymous.tenant.sso.signInOptions({ tenantSlug: o.tenant.slug })).toEqual([
      {
        provider: 'tenant',
        name: 'Acme SSO',
        startUrl: `http://localhost:3000/auth/sso/${o.tenant.slug}/start`,
      },
      {
        provider: 'google',
        name: 'Google',
        startUrl: `http://localhost:3000/auth/sso/${o.tenant.slug}/start?provider=google`,
      },
    ]);
  });
});

describe('identities', () => {
  test('a user lists and unlinks their identities, but not the last way to sign in', async () => {
    const o = await owner();
    const caller = await callerAs(o.principal);
    await caller.tenant.sso.update({ ...connection, platformProviders: ['google'] });
    const [member] = await db.withTenant(o.tenant.id, (tx) =>
      tx
        .insert(users)
        .values({ tenantId: o.tenant.id, email: 'sso-only@example.com', role: 'member' })
        .returning(),
    );
    await db.withTenant(o.tenant.id, (tx) =>
      tx.insert(userIdentities).values([
        {
          tenantId: o.tenant.id,
          userId: member?.id ?? '',
          provider: 'tenant',
          issuer: connection.issuer,
          subject: 's1',
        },
        {
          tenantId: o.tenant.id,
          userId: member?.id ?? '',
          provider: 'google',
          issuer: 'https://accounts.google.com',
          subject: 's2',
        },
      ]),
    );
    const asMember = await callerAs({
      ...o.principal,
      userId: member?.id ?? '',
      role: 'member',
    } as Principal);
    const listed = await asMember.tenant.sso.identities.list();
    expect(listed.map((i) => i.providerName)).toEqual(['Single sign-on', 'Google']);
    expect(await asMember.identities.unlink({ identityId: listed[1]?.id ?? '' })).toEqual({
      ok: true,
    });
    await expect(
      asMember.tenant.sso.identities.unlink({ identityId: listed[0]?.id ?? '' }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'This is your only way to sign in. Set a password or link another sign-in first.',
    });
    expect(await caller.tenant.sso.identities.list()).toEqual([]); // the owner sees only their own
  });
});

test('every SSO procedure declares its access, and the one taking a secret is a mutation', () => {
  const procedures = Object.entries(
    testRouter._def.procedures as unknown as Record<
      string,
      { _def: { type: string; meta?: { access?: unknown } } }
    >,
  );
  expect(procedures.length).toBeGreaterThanOrEqual(7);
  for (const [name, procedure] of procedures)
    expect(procedure._def.meta?.access, name).toBeDefined();
  expect(procedures.find(([name]) => name === 'tenant.sso.update')?.[1]._def.type).toBe('mutation');
});
