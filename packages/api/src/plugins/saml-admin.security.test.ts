// Who may configure SAML connections, and how (tenant.saml.*): owners create, repoint, trust and
// delete; admins may only rename and switch just-in-time provisioning; members and API keys
// nothing; every change needs step-up; IdP metadata comes as XML (no DTD) or from a URL under
// the outbound-URL rule. docs/sso.md "SAML", docs/design.md "Identity".
import { createCaller, type Principal, type Services } from '@tessera/api-contract';
import {
  createTestContext,
  principalFromToken,
  signUpOwner,
  testServices,
} from '@tessera/api-contract/testing';
import { userIdentities, users } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSamlTestIdp, type SamlTestIdp } from '../testing/saml-test-idp.js';

const db = useTestDatabase();
const dev = {
  ...testServices(),
  sso: { outbound: { mode: 'development' as const }, platformProviders: [] },
} as Services;
const prod = {
  ...testServices(),
  sso: { outbound: { mode: 'production' as const }, platformProviders: [] },
} as Services;
let idp: SamlTestIdp;
beforeAll(async () => {
  idp = await startSamlTestIdp();
});
afterAll(async () => idp?.close());

const callerAs = (principal: Principal | null, services = dev) =>
  createCaller(createTestContext(db.app, { services, principal }));

async function owner(): Promise<{ principal: Principal; tenantId: string }> {
  const seeded = await signUpOwner(db.app, { services: dev });
  const principal = await principalFromToken(db.app, seeded.token);
  if (!principal) throw new Error('no session');
  return { principal, tenantId: seeded.tenant.id };
}

async function auditActions(tenantId: string): Promise<string[]> {
  const { rows } = await db.owner.pool.query<{ action: string }>(
    "SELECT action FROM audit_logs WHERE tenant_id = $1 AND action LIKE 'tenant.saml.%' ORDER BY seq",
    [tenantId],
  );
  return rows.map((r) => r.action);
}

describe('tenant.saml', () => {
  test('an owner imports IdP metadata by URL; the view has the SP URLs and the certificate, never a key', async () => {
    const o = await owner();
    const view = await callerAs(o.principal).tenant.saml.create({
      name: 'Okta',
      metadataUrl: idp.metadataUrl,
      enabled: true,
    });
    expect(view).toMatchObject({
      name: 'Okta',
      enabled: true,
      idpEntityID: idp.entityId,
      idpSsoUrl: idp.ssoUrl,
      idpMetadataUrl: idp.metadataUrl,
      allowIdpInitiated: false,
      jitProvisioning: false,
      emailsVerified: false,
      trustIdpMfa: false,
      acsUrl: expect.stringMatching(
        /^http:\/\/localhost:3000\/auth\/saml\/[a-z0-9-]+\/[0-9a-f-]{36}\/acs$/,
      ),
    });
    expect(view.certificates).toHaveLength(1);
    expect(view.certificates[0]?.subject).toContain('Tessera Test IdP');
    expect(view.certificates[0]?.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(await callerAs(o.principal).tenant.saml.list()).toHaveLength(1);
    expect(await auditActions(o.tenantId)).toEqual(['tenant.saml.created']);
    // The public sign-in options list it as a button, pointing at its start URL.
    const [{ slug }] = (
      await db.owner.pool.query<{ slug: string }>('SELECT slug FROM tenants WHERE id = $1', [
        o.tenantId,
      ])
    ).rows as [{ slug: string }];
    expect(await callerAs(null).tenant.sso.signInOptions({ tenantSlug: slug })).toEqual([
      { provider: `saml-${view.id.replace(/-/g, '')}`, name: 'Okta', startUrl: view.startUrl },
    ]);
  });

  test('under the production rule a loopback metadata URL is refused before any request', async () => {
    const o = await owner();
    await expect(
      callerAs(o.principal, prod).tenant.saml.create({ name: 'x', metadataUrl: idp.metadataUrl }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await callerAs(o.principal).tenant.saml.list()).toEqual([]);
  });

  test('metadata with a DOCTYPE (XXE, entity expansion) is refused; enabling needs a complete IdP', async () => {
    const o = await owner();
    const xxe = `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>${idp.metadataXml().replace(/^<\?xml[^>]*>/, '')}`;
    await expect(
      callerAs(o.principal).tenant.saml.create({ name: 'x', metadataXml: xxe }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      callerAs(o.principal).tenant.saml.create({ name: 'x', enabled: true }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  test('admins may rename and switch JIT only; members and API keys may do nothing', async () => {
    const o = await owner();
    const { id } = await callerAs(o.principal).tenant.saml.create({
      name: 'Entra',
      metadataXml: idp.metadataXml(),
    });
    const admin = { ...o.principal, role: 'admin' } as Principal;
    await expect(
      callerAs(admin).tenant.saml.update({ id, name: 'Entra ID', jitProvisioning: true }),
    ).resolves.toMatchObject({ name: 'Entra ID', jitProvisioning: true });
    for (const patch of [
      { enabled: true },
      { trustIdpMfa: true },
      { emailsVerified: true },
      { allowIdpInitiated: true },
      { groupRoles: [{ group: 'x', role: 'admin' as const }] },
      { emailAttribute: 'otherMail' },
      { metadataXml: idp.metadataXml() },
    ]) {
      await expect(callerAs(admin).tenant.saml.update({ id, ...patch })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    }
    await expect(callerAs(admin).tenant.saml.create({ name: 'mine' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(callerAs(admin).tenant.saml.delete({ id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const member = { ...o.principal, role: 'member' } as Principal;
    await expect(callerAs(member).tenant.saml.list()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const key: Principal = {
      kind: 'api_key',
      tenantId: o.tenantId,
      keyId: o.principal.kind === 'session' ? o.principal.userId : '',
      keyType: 'secret',
      scopes: ['users:write'],
    };
    await expect(callerAs(key).tenant.saml.list()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  test('every change needs step-up (a second factor older than 10 minutes is refused)', async () => {
    const o = await owner();
    const { id } = await callerAs(o.principal).tenant.saml.create({
      name: 'Google',
      metadataXml: idp.metadataXml(),
    });
    const stale = {
      ...o.principal,
      mfaEnabled: true,
      aal: 2,
      mfaVerifiedAt: new Date(Date.now() - 11 * 60_000),
    } as Principal;
    const stepUp = { code: 'PRECONDITION_FAILED', cause: { code: 'step_up_required' } };
    await expect(callerAs(stale).tenant.saml.create({ name: 'x' })).rejects.toMatchObject(stepUp);
    await expect(callerAs(stale).tenant.saml.update({ id, enabled: true })).rejects.toMatchObject(
      stepUp,
    );
    await expect(callerAs(stale).tenant.saml.delete({ id })).rejects.toMatchObject(stepUp);
  });

  test('a new IdP entity id drops the identities linked through the old one; delete drops them too', async () => {
    const o = await owner();
    const created = await callerAs(o.principal).tenant.saml.create({
      name: 'ADFS',
      metadataXml: idp.metadataXml(),
    });
    const [user] = await db.withTenant(o.tenantId, (tx) =>
      tx.insert(users).values({ tenantId: o.tenantId, email: 'l@corp.test' }).returning(),
    );
    const link = () =>
      db.withTenant(o.tenantId, (tx) =>
        tx.insert(userIdentities).values({
          tenantId: o.tenantId,
          userId: user?.id ?? '',
          provider: `saml-${created.id.replace(/-/g, '')}`,
          issuer: idp.entityId,
          subject: 'someone',
        }),
      );
    const count = async () =>
      (await db.withTenant(o.tenantId, (tx) => tx.select().from(userIdentities))).length;
    await link();
    await callerAs(o.principal).tenant.saml.update({ id: created.id, name: 'renamed' });
    expect(await count()).toBe(1);
    await callerAs(o.principal).tenant.saml.update({
      id: created.id,
      idpEntityID: 'https://new-idp.example/entity',
    });
    expect(await count()).toBe(0);
    await link();
    await callerAs(o.principal).tenant.saml.delete({ id: created.id });
    expect(await count()).toBe(0);
    expect(await auditActions(o.tenantId)).toEqual([
      'tenant.saml.created',
      'tenant.saml.updated',
      'tenant.saml.updated',
      'tenant.saml.deleted',
    ]);
  });
});
