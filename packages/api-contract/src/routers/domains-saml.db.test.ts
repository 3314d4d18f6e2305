// Verified domains with SAML connections (docs/domains.md "Require SSO", "Routing by e-mail
// domain", "Auto-join"): an enabled SAML connection counts as the tenant's SSO as the OIDC
// connection does, routing answers the connection to start, and SAML sign-ins auto-join.
import { randomBytes } from 'node:crypto';
import { createTxtLookup } from '@tessera/auth/domains';
import { completeSamlSignIn } from '@tessera/auth/sso';
import { startLocalDnsServer, type LocalDnsServer } from '@tessera/auth/testing';
import { auditLogs, samlConnections, ssoSettings, tenantDomains, users } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Principal, Services } from '../context.js';
import {
  createCaller,
  createTestContext,
  principalFromToken,
  signUpOwner,
  STRONG_PASSWORD,
  testAccountDeps,
  testServices,
} from '../testing/index.js';

const db = useTestDatabase();
let dns: LocalDnsServer;
let services: Services;
const request = { ip: '203.0.113.7', userAgent: 'vitest' };

beforeAll(async () => {
  dns = await startLocalDnsServer();
  services = {
    ...testServices(),
    domains: { lookup: createTxtLookup({ servers: [dns.server], timeoutMs: 500 }) },
    sso: { outbound: { mode: 'development' }, platformProviders: [] },
  };
});
afterAll(async () => dns?.close());

const uniqueDomain = () => `s${randomBytes(4).toString('hex')}.example.com`;
const callerAs = (principal: Principal | null) =>
  createCaller(createTestContext(db.app, { services, principal }));

async function owner(email: string) {
  const seeded = await signUpOwner(db.app, { services, email });
  const principal = await principalFromToken(db.app, seeded.token);
  if (!principal) throw new Error('no session');
  return { ...seeded, principal, caller: callerAs(principal) };
}
type Owner = Awaited<ReturnType<typeof owner>>;

/** Adds and verifies `domain` for `o` with its record on the local DNS server; require-SSO on. */
async function enforcedDomain(o: Owner, domain: string): Promise<string> {
  const added = await o.caller.domains.add({ domain });
  dns.publishTxt(added.record.name, added.record.value);
  expect((await o.caller.domains.verify({ id: added.id })).outcome).toBe('verified');
  await o.caller.domains.update({ id: added.id, requireSso: true });
  return added.id;
}

/** A complete SAML connection row as tenant.saml.create leaves it (the IdP is not contacted). */
async function samlConnection(
  tenantId: string,
  state: { enabled: boolean; createdAt?: Date; emailsVerified?: boolean },
) {
  const [row] = await db.withTenant(tenantId, (tx) =>
    tx
      .insert(samlConnections)
      .values({
        tenantId,
        name: 'Corp IdP',
        enabled: state.enabled,
        idpEntityID: 'https://idp.corp.example/metadata',
        idpSsoUrl: 'https://idp.corp.example/sso',
        idpCertificates: ['MIIBfake'],
        emailsVerified: state.emailsVerified ?? false,
        ...(state.createdAt ? { createdAt: state.createdAt } : {}),
      })
      .returning(),
  );
  if (!row) throw new Error('no connection');
  return row;
}

const samlStart = (slug: string, id: string) =>
  `http://localhost:3000/auth/saml/${slug}/${id}/start`;
const signIn = (slug: string, email: string) =>
  callerAs(null).auth.signIn({ tenantSlug: slug, email, password: STRONG_PASSWORD });
const route = (email: string) => callerAs(null).domains.route({ email });
const refused = { code: 'FORBIDDEN', cause: { code: 'sso_required' } };

describe('require-SSO and routing with a SAML connection', () => {
  test('a tenant whose only SSO is an enabled SAML connection enforces SSO and routes to the SAML start URL', async () => {
    const domain = uniqueDomain();
    const o = await owner(`owner@${domain}`);
    const id = await enforcedDomain(o, domain);
    const conn = await samlConnection(o.tenant.id, { enabled: false });
    // A disabled connection enforces nothing and routes nowhere.
    await expect(signIn(o.tenant.slug, `owner@${domain}`)).resolves.toMatchObject({
      status: 'signed_in',
    });
    expect(await route(`owner@${domain}`)).toEqual({ sso: null });
    expect((await o.caller.domains.list())[0]).toMatchObject({ id, ssoEnforced: false });

    await o.caller.tenant.saml.update({ id: conn.id, enabled: true });
    await expect(signIn(o.tenant.slug, `owner@${domain}`)).rejects.toMatchObject(refused);
    await expect(signIn(o.tenant.slug, `nobody@${domain}`)).rejects.toMatchObject(refused);
    expect((await o.caller.domains.list())[0]).toMatchObject({ id, ssoEnforced: true });
    expect(await route(`Someone@${domain.toUpperCase()}`)).toEqual({
      sso: {
        tenantSlug: o.tenant.slug,
        protocol: 'saml',
        startUrl: samlStart(o.tenant.slug, conn.id),
      },
    });
    const events = await db.withTenant(o.tenant.id, (tx) =>
      tx.select().from(auditLogs).where(eq(auditLogs.action, 'auth.sign_in.refused')),
    );
    expect(events.map((e) => e.metadata)).toEqual([
      expect.objectContaining({ reason: 'sso_required' }),
      expect.objectContaining({ reason: 'sso_required' }),
    ]);
  });

  test('disabling the SAML connection lifts enforcement and routing at once', async () => {
    const domain = uniqueDomain();
    const o = await owner(`owner@${domain}`);
    const id = await enforcedDomain(o, domain);
    const conn = await samlConnection(o.tenant.id, { enabled: true });
    await expect(signIn(o.tenant.slug, `owner@${domain}`)).rejects.toMatchObject(refused);

    await o.caller.tenant.saml.update({ id: conn.id, enabled: false });
    await expect(signIn(o.tenant.slug, `owner@${domain}`)).resolves.toMatchObject({
      status: 'signed_in',
    });
    expect(await route(`a@${domain}`)).toEqual({ sso: null });
    expect((await o.caller.domains.list())[0]).toMatchObject({ id, ssoEnforced: false });
  });

  test('routing prefers the OIDC connection while it is enabled, else the oldest enabled SAML connection', async () => {
    const domain = uniqueDomain();
    const o = await owner(`owner@${domain}`);
    await enforcedDomain(o, domain);
    const older = await samlConnection(o.tenant.id, {
      enabled: true,
      createdAt: new Date(Date.now() - 60_000),
    });
    const newer = await samlConnection(o.tenant.id, { enabled: true });
    const oldest = await samlConnection(o.tenant.id, {
      enabled: false,
      createdAt: new Date(Date.now() - 120_000),
    });
    expect((await route(`a@${domain}`)).sso?.startUrl).toBe(samlStart(o.tenant.slug, older.id));

    await db.withTenant(o.tenant.id, (tx) =>
      tx.insert(ssoSettings).values({
        tenantId: o.tenant.id,
        enabled: true,
        issuer: 'https://idp.example.com',
        clientId: 'tessera',
        clientSecretCiphertext: 'v1.sealed-for-the-test',
      }),
    );
    expect(await route(`a@${domain}`)).toEqual({
      sso: {
        tenantSlug: o.tenant.slug,
        protocol: 'oidc',
        startUrl: `http://localhost:3000/auth/sso/${o.tenant.slug}/start`,
      },
    });

    await db.withTenant(o.tenant.id, (tx) => tx.update(ssoSettings).set({ enabled: false }));
    await o.caller.tenant.saml.update({ id: older.id, enabled: false });
    expect((await route(`a@${domain}`)).sso?.startUrl).toBe(samlStart(o.tenant.slug, newer.id));
    await o.caller.tenant.saml.update({ id: oldest.id, enabled: true });
    expect((await route(`a@${domain}`)).sso?.startUrl).toBe(samlStart(o.tenant.slug, oldest.id));
  });
});

describe('auto-join through a SAML connection', () => {
  async function tenantWithAutoJoin() {
    const tenant = await db.seedTenant();
    const domain = `j${randomBytes(4).toString('hex')}.example.com`;
    await db.withTenant(tenant.id, (tx) =>
      tx.insert(tenantDomains).values({
        tenantId: tenant.id,
        domain,
        verificationToken: randomBytes(24).toString('base64url'),
        autoJoin: true,
        verifiedAt: new Date(),
      }),
    );
    return { tenant, domain };
  }
  const assertion = (email: string) => ({
    assertionId: `_${randomBytes(8).toString('hex')}`,
    subject: randomBytes(8).toString('hex'),
    email,
    name: 'Jo Corp',
    groups: [],
    authnContexts: [],
  });

  test('with auto-join on, an address at the held domain joins as a member when the connection vouches for its addresses', async () => {
    const { tenant, domain } = await tenantWithAutoJoin();
    const conn = await samlConnection(tenant.id, { enabled: true, emailsVerified: true });
    const result = await completeSamlSignIn(
      { db: db.app, deps: testAccountDeps(), request, now: new Date() },
      conn,
      assertion(`Ann@${domain}`),
    );
    expect(result.status).toBe('signed_in');
    const members = await db.withTenant(tenant.id, (tx) => tx.select().from(users));
    expect(members.map((u) => [u.email, u.role, u.emailVerifiedAt !== null])).toEqual([
      [`ann@${domain}`, 'member', true],
    ]);
    const [event] = await db.withTenant(tenant.id, (tx) =>
      tx.select().from(auditLogs).where(eq(auditLogs.action, 'auth.sso.user_provisioned')),
    );
    expect(event?.metadata).toMatchObject({ via: 'domain_auto_join', role: 'member' });
  });

  test('no auto-join when the connection does not vouch for addresses, or for another domain', async () => {
    const { tenant, domain } = await tenantWithAutoJoin();
    const unvouched = await samlConnection(tenant.id, { enabled: true });
    const vouched = await samlConnection(tenant.id, { enabled: true, emailsVerified: true });
    const no = { status: 'refused', reason: 'no_account' };
    const deps = testAccountDeps();
    expect(
      await completeSamlSignIn(
        { db: db.app, deps, request, now: new Date() },
        unvouched,
        assertion(`ann@${domain}`),
      ),
    ).toEqual(no);
    expect(
      await completeSamlSignIn(
        { db: db.app, deps, request, now: new Date() },
        vouched,
        assertion(`ann@sub.${domain}`),
      ),
    ).toEqual(no);
    expect(await db.withTenant(tenant.id, (tx) => tx.select().from(users))).toEqual([]);
  });
});
