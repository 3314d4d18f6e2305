import { randomBytes } from 'node:crypto';
import { createTxtLookup } from '@tessera/auth/domains';
import { startLocalDnsServer, type LocalDnsServer } from '@tessera/auth/testing';
import { auditLogs, loginThrottles, ssoSettings, users } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Principal, Services } from '../context.js';
import {
  createCaller,
  createTestContext,
  principalFromToken,
  signUpOwner,
  STRONG_PASSWORD,
  testServices,
} from '../testing/index.js';

const db = useTestDatabase();
let dns: LocalDnsServer;
let services: Services;

beforeAll(async () => {
  dns = await startLocalDnsServer();
  services = {
    ...testServices(),
    domains: { lookup: createTxtLookup({ servers: [dns.server], timeoutMs: 500 }) },
  };
});
afterAll(async () => dns?.close());

const uniqueDomain = () => `d${randomBytes(4).toString('hex')}.example.com`;
const callerAs = (principal: Principal | null) =>
  createCaller(createTestContext(db.app, { services, principal }));

async function owner(email?: string) {
  const seeded = await signUpOwner(db.app, { services, ...(email ? { email } : {}) });
  const principal = await principalFromToken(db.app, seeded.token);
  if (!principal) throw new Error('no session');
  return { ...seeded, principal, caller: callerAs(principal) };
}

async function enableSso(tenantId: string): Promise<void> {
  await db.withTenant(tenantId, (tx) =>
    tx.insert(ssoSettings).values({
      tenantId,
      enabled: true,
      issuer: 'https://idp.example.com',
      clientId: 'tessera',
      clientSecretCiphertext: 'v1.sealed-for-the-test',
    }),
  );
}

async function actions(tenantId: string): Promise<string[]> {
  const rows = await db.withTenant(tenantId, (tx) =>
    tx.select({ action: auditLogs.action }).from(auditLogs).orderBy(auditLogs.seq),
  );
  return rows.map((r) => r.action);
}

/** Adds and verifies a domain for `o` with its record published on the local DNS server. */
async function heldDomain(o: Awaited<ReturnType<typeof owner>>, domain = uniqueDomain()) {
  const added = await o.caller.domains.add({ domain });
  dns.publishTxt(added.record.name, added.record.value);
  const verified = await o.caller.domains.verify({ id: added.id });
  expect(verified.outcome).toBe('verified');
  return verified.domain;
}

describe('domains: add and verify', () => {
  test('an owner adds a domain, publishes the TXT record it is given, and verification against DNS holds it', async () => {
    const o = await owner();
    const domain = uniqueDomain();
    const added = await o.caller.domains.add({ domain: ` ${domain.toUpperCase()}. ` });
    expect(added).toMatchObject({ domain, status: 'pending', requireSso: false, autoJoin: false });
    expect(added.record.name).toBe(`_tessera-verification.${domain}`);
    expect(added.record.value).toMatch(/^tessera-domain-verification=[A-Za-z0-9_-]{32}$/);

    const missing = await o.caller.domains.verify({ id: added.id });
    expect(missing).toMatchObject({ outcome: 'record_missing', domain: { status: 'pending' } });

    dns.publishTxt(added.record.name, 'v=spf1 -all'); // other TXT values do not count
    expect((await o.caller.domains.verify({ id: added.id })).outcome).toBe('record_missing');
    dns.publishTxt(added.record.name, added.record.value);
    const verified = await o.caller.domains.verify({ id: added.id });
    expect(verified).toMatchObject({ outcome: 'verified', domain: { status: 'verified' } });
    expect(dns.queries).toContain(added.record.name);
    expect(await o.caller.domains.list()).toEqual([verified.domain]);
    expect(await actions(o.tenant.id)).toEqual(
      expect.arrayContaining(['domain.added', 'domain.verification_failed', 'domain.verified']),
    );
  });

  test('a DNS failure that is not an answer verifies nothing and suspends nothing', async () => {
    const o = await owner();
    const held = await heldDomain(o);
    dns.fail(held.record.name);
    try {
      const result = await o.caller.domains.verify({ id: held.id });
      expect(result).toMatchObject({ outcome: 'dns_unavailable', domain: { status: 'verified' } });
    } finally {
      dns.recover(held.record.name);
    }
  });

  test('an admin checking a held domain whose record is gone suspends it', async () => {
    const o = await owner();
    const held = await heldDomain(o);
    dns.withdraw(held.record.name);
    const result = await o.caller.domains.verify({ id: held.id });
    expect(result).toMatchObject({ outcome: 'suspended', domain: { status: 'suspended' } });
    dns.publishTxt(held.record.name, held.record.value);
    const back = await o.caller.domains.verify({ id: held.id });
    expect(back).toMatchObject({ outcome: 'verified', domain: { status: 'verified' } });
    expect(await actions(o.tenant.id)).toEqual(
      expect.arrayContaining(['domain.suspended', 'domain.restored']),
    );
  });

  test('public suffixes, IP addresses and malformed names are refused; a domain is listed once', async () => {
    const o = await owner();
    for (const domain of ['co.uk', 'github.io', 'com', '192.168.0.1', 'exa mple.com', 'a..b.com'])
      await expect(o.caller.domains.add({ domain }), domain).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
    const domain = uniqueDomain();
    await o.caller.domains.add({ domain });
    await expect(o.caller.domains.add({ domain })).rejects.toMatchObject({ code: 'CONFLICT' });
    // Internationalised names are stored as A-labels.
    const idn = await o.caller.domains.add({
      domain: `bücher-${randomBytes(2).toString('hex')}.de`,
    });
    expect(idn.domain).toMatch(/^xn--bcher-.*\.de$/);
  });

  test('settings and removal are audited with before and after', async () => {
    const o = await owner();
    const held = await heldDomain(o);
    const updated = await o.caller.domains.update({
      id: held.id,
      requireSso: true,
      autoJoin: true,
    });
    expect(updated).toMatchObject({ requireSso: true, autoJoin: true, ssoEnforced: false });
    await enableSso(o.tenant.id);
    expect((await o.caller.domains.list())[0]?.ssoEnforced).toBe(true);
    await o.caller.domains.remove({ id: held.id });
    expect(await o.caller.domains.list()).toEqual([]);
    const [event] = await db.withTenant(o.tenant.id, (tx) =>
      tx.select().from(auditLogs).where(eq(auditLogs.action, 'domain.settings_updated')),
    );
    expect(event?.before).toMatchObject({ requireSso: false, autoJoin: false });
    expect(event?.after).toMatchObject({ requireSso: true, autoJoin: true });
    expect(await actions(o.tenant.id)).toContain('domain.removed');
  });
});

describe('domains: who may', () => {
  test('members, API keys and anonymous callers can neither list nor change domains', async () => {
    const o = await owner();
    const [member] = await db.withTenant(o.tenant.id, (tx) =>
      tx
        .insert(users)
        .values({ tenantId: o.tenant.id, email: 'm@example.com', role: 'member' })
        .returning(),
    );
    const asMember = { ...o.principal, userId: member?.id ?? '', role: 'member' } as Principal;
    const asKey: Principal = {
      kind: 'api_key',
      tenantId: o.tenant.id,
      keyId: 'k',
      keyType: 'secret',
      scopes: ['users:read', 'users:write'],
    };
    for (const principal of [asMember, asKey, null]) {
      const caller = callerAs(principal);
      await expect(caller.domains.list()).rejects.toMatchObject({
        code: principal ? 'FORBIDDEN' : 'UNAUTHORIZED',
      });
      await expect(caller.domains.add({ domain: uniqueDomain() })).rejects.toMatchObject({
        code: principal ? 'FORBIDDEN' : 'UNAUTHORIZED',
      });
    }
  });

  test('every change needs step-up from a user with a second factor', async () => {
    const o = await owner();
    const added = await o.caller.domains.add({ domain: uniqueDomain() });
    const stale = callerAs({
      ...o.principal,
      mfaEnabled: true,
      mfaVerifiedAt: new Date(Date.now() - 11 * 60_000),
    } as Principal);
    const refused = { code: 'PRECONDITION_FAILED', cause: { code: 'step_up_required' } };
    await expect(stale.domains.add({ domain: uniqueDomain() })).rejects.toMatchObject(refused);
    await expect(stale.domains.verify({ id: added.id })).rejects.toMatchObject(refused);
    await expect(stale.domains.update({ id: added.id, autoJoin: true })).rejects.toMatchObject(
      refused,
    );
    await expect(stale.domains.remove({ id: added.id })).rejects.toMatchObject(refused);
    expect(await stale.domains.list()).toHaveLength(1); // reading needs none
  });
});

describe('domains: SSO required for the domain', () => {
  test('password sign-in for an address at an enforced domain is refused with sso_required, audited, and counts no failure', async () => {
    const domain = uniqueDomain();
    const o = await owner(`owner@${domain}`);
    await heldDomain(o, domain);
    await o.caller.domains.update({
      id: (await o.caller.domains.list())[0]?.id ?? '',
      requireSso: true,
    });
    const anonymous = callerAs(null);
    const signIn = (email: string, password = STRONG_PASSWORD) =>
      anonymous.auth.signIn({ tenantSlug: o.tenant.slug, email, password });

    // Require-SSO with no SSO connection enabled would lock everyone out: not in force yet.
    await expect(signIn(`owner@${domain}`)).resolves.toMatchObject({ status: 'signed_in' });
    await enableSso(o.tenant.id);
    const refused = { code: 'FORBIDDEN', cause: { code: 'sso_required' } };
    await expect(signIn(`owner@${domain}`)).rejects.toMatchObject(refused);
    await expect(signIn(`OWNER@${domain.toUpperCase()}`, 'wrong')).rejects.toMatchObject(refused);
    // The same answer for an address without an account: it depends on the domain only.
    await expect(signIn(`nobody@${domain}`, 'wrong')).rejects.toMatchObject(refused);
    const [event] = await db.withTenant(o.tenant.id, (tx) =>
      tx
        .select()
        .from(auditLogs)
        .where(and(eq(auditLogs.action, 'auth.sign_in.refused'))),
    );
    expect(event?.metadata).toMatchObject({ reason: 'sso_required' });
    const throttles = await db.withTenant(o.tenant.id, (tx) => tx.select().from(loginThrottles));
    expect(throttles).toEqual([]);
    // Other domains sign in with a password as before.
    await expect(signIn(`someone@${uniqueDomain()}`, 'wrong')).rejects.toMatchObject({
      cause: { code: 'invalid_credentials' },
    });
  });

  test('a suspended domain enforces nothing', async () => {
    const domain = uniqueDomain();
    const o = await owner(`owner@${domain}`);
    const held = await heldDomain(o, domain);
    await o.caller.domains.update({ id: held.id, requireSso: true });
    await enableSso(o.tenant.id);
    dns.withdraw(held.record.name);
    expect((await o.caller.domains.verify({ id: held.id })).outcome).toBe('suspended');
    await expect(
      callerAs(null).auth.signIn({
        tenantSlug: o.tenant.slug,
        email: `owner@${domain}`,
        password: STRONG_PASSWORD,
      }),
    ).resolves.toMatchObject({ status: 'signed_in' });
  });
});

describe('domains.route', () => {
  test('routes an address at a held domain to its tenant SSO start; pending, suspended and unknown domains answer alike', async () => {
    const o = await owner();
    const held = await heldDomain(o);
    const pending = await o.caller.domains.add({ domain: uniqueDomain() });
    const route = (email: string) => callerAs(null).domains.route({ email });
    expect(await route(`a@${held.domain}`)).toEqual({ sso: null }); // no SSO connection yet
    await enableSso(o.tenant.id);
    expect(await route(`Someone@${held.domain.toUpperCase()}`)).toEqual({
      sso: {
        tenantSlug: o.tenant.slug,
        protocol: 'oidc',
        startUrl: `http://localhost:3000/auth/sso/${o.tenant.slug}/start`,
      },
    });
    expect(await route(`a@${pending.domain}`)).toEqual({ sso: null });
    expect(await route(`a@${uniqueDomain()}`)).toEqual({ sso: null });
    expect(await route('not-an-address')).toEqual({ sso: null });
    dns.withdraw(held.record.name);
    await o.caller.domains.verify({ id: held.id });
    expect(await route(`a@${held.domain}`)).toEqual({ sso: null });
  });

  test('is limited per IP', async () => {
    const caller = createCaller(createTestContext(db.app, { services, ip: '198.51.100.77' }));
    for (let i = 0; i < 30; i += 1) await caller.domains.route({ email: `a@${uniqueDomain()}` });
    await expect(caller.domains.route({ email: 'a@example.org' })).rejects.toMatchObject({
      code: 'TOO_MANY_REQUESTS',
    });
  });
});
