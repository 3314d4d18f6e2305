// SAML 2.0 sign-in against a real identity provider (samlify in its IdP role, on 127.0.0.1 over
// HTTP), and the attacks an SP must refuse: XML signature wrapping, an unsigned assertion inside
// a signed response, a comment in the NameID, expired and not-yet-valid assertions, a wrong
// audience, recipient, destination or issuer, a replayed assertion (also at another process),
// a response for another tenant's connection, an InResponseTo this browser did not start, an
// unsolicited response where IdP-initiated sign-in is off, an XXE payload, a key that is not
// the connection's. docs/sso.md "SAML", docs/threat-model.md.
import { inflateRawSync } from 'node:zlib';
import { generateKeyringSpec } from '@tessera/auth';
import { beginEnrollment, confirmEnrollment, totpCodeAt } from '@tessera/auth/mfa';
import {
  samlProviderKey,
  type SamlConnectionPatch,
  type SamlConnectionView,
} from '@tessera/auth/sso';
import { principalFromToken, testServices } from '@tessera/api-contract/testing';
import { userIdentities, users, withTenant } from '@tessera/db';
import { freePort, useTestDatabase } from '@tessera/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';
import { saveSaml } from '../testing/sso-setup.js';
import { browse, CookieJar } from '../testing/sso-test-idp.js';
import {
  makeSigningKey,
  MFA_CONTEXT,
  startSamlTestIdp,
  type ResponseOptions,
  type SamlTestIdp,
  type SamlTestUser,
} from '../testing/saml-test-idp.js';
import { samlPlugin } from './saml.js';
import { mfaChallengeCookieName, sessionCookieName } from './session-cookie.js';

const db = useTestDatabase();
const services = testServices();
const sessionSecret = `${generateKeyringSpec(2)},${generateKeyringSpec(1)}`;
const request = { ip: '203.0.113.7', userAgent: 'vitest' };
let idp: SamlTestIdp;
let origin: string;
let app: FastifyInstance;
let other: FastifyInstance; // a second API process on the same database

async function build(publicUrl: string): Promise<FastifyInstance> {
  const server = await buildServer(
    { ...defaultApiConfig, publicUrl, logLevel: 'silent' },
    { database: db.app, services },
  );
  await server.register(samlPlugin, {
    database: db.app,
    services,
    publicUrl,
    cookieName: sessionCookieName(publicUrl),
    sessionSecret,
    limit: { max: 1_000, windowMs: 60_000 }, // every test here starts from 127.0.0.1
  });
  return server;
}

beforeAll(async () => {
  idp = await startSamlTestIdp();
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  app = await build(origin);
  await app.listen({ port, host: '127.0.0.1' });
  other = await build(origin);
});
afterAll(async () => {
  await app?.close();
  await other?.close();
  await idp?.close();
});

interface Rig {
  tenantId: string;
  ownerId: string;
  conn: SamlConnectionView;
}

async function samlTenant(patch: SamlConnectionPatch = {}): Promise<Rig> {
  const tenant = await db.seedTenant();
  const ownerId = await tesseraUser(tenant.id, `owner@${tenant.slug}.test`, 'owner');
  const conn = await saveSaml(
    {
      db: db.app,
      deps: { publicUrl: origin, outbound: { mode: 'development' } },
      actor: { tenantId: tenant.id, userId: ownerId, role: 'owner', sessionId: null },
      request,
      now: new Date(),
    },
    null,
    {
      name: 'Test IdP',
      metadataXml: idp.metadataXml(),
      enabled: true,
      jitProvisioning: true,
      emailsVerified: true,
      ...patch,
    },
  );
  idp.sps.set(conn.spEntityId, { acsUrl: conn.acsUrl });
  return { tenantId: tenant.id, ownerId, conn };
}

async function tesseraUser(
  tenantId: string,
  email: string,
  role: 'owner' | 'member' = 'member',
  verified = true,
): Promise<string> {
  const [row] = await db.withTenant(tenantId, (tx) =>
    tx
      .insert(users)
      .values({ tenantId, email, role, emailVerifiedAt: verified ? new Date() : null })
      .returning({ id: users.id }),
  );
  if (!row) throw new Error('no user');
  return row.id;
}

let counter = 0;
function idpUser(user: Partial<SamlTestUser> = {}): { login: string; user: SamlTestUser } {
  counter += 1;
  const login = `login-${counter}`;
  const full = {
    nameId: `persistent-${counter}`,
    email: `user${counter}@corp.test`,
    name: `User ${counter}`,
    ...user,
  };
  idp.users.set(login, full);
  return { login, user: full };
}

/** Starts at Tessera; returns the AuthnRequest id (as the IdP received it) and the jar. */
async function startFlow(
  rig: Rig,
  jar = new CookieJar(),
): Promise<{ jar: CookieJar; id: string; url: string }> {
  const started = await browse(rig.conn.startUrl, jar, (url) => url.startsWith(idp.ssoUrl));
  const samlRequest = new URL(started.url).searchParams.get('SAMLRequest') ?? '';
  const xml = inflateRawSync(Buffer.from(samlRequest, 'base64')).toString('utf8');
  return { jar, id: /\sID="([^"]+)"/.exec(xml)?.[1] ?? '', url: started.url };
}

/** Posts a SAMLResponse to the ACS as the IdP's auto-submitting form would (cross-site). */
async function postAcs(
  rig: Rig,
  samlResponse: string,
  jar: CookieJar,
  acsUrl = rig.conn.acsUrl,
): Promise<{ location: string | null; response: Response }> {
  const response = await fetch(acsUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: new URL(idp.ssoUrl).origin,
      'sec-fetch-site': 'cross-site',
      cookie: jar.header(acsUrl),
    },
    body: new URLSearchParams({ SAMLResponse: samlResponse }),
  });
  jar.store(acsUrl, response);
  return { location: response.headers.get('location'), response };
}

/** The whole browser flow through the IdP's login form and its auto-posting answer. */
async function signIn(
  rig: Rig,
  login: string,
  options: { context?: string; jar?: CookieJar } = {},
): Promise<{ jar: CookieJar; location: string | null; response: Response }> {
  const { jar, url } = await startFlow(rig, options.jar);
  const page = await (await fetch(url)).text();
  const field = (name: string) =>
    new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1] ?? '';
  const answer = await fetch(`${new URL(idp.ssoUrl).origin}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      sp: field('sp').replace(/&amp;/g, '&'),
      requestId: field('requestId'),
      login,
      context: options.context ?? '',
    }),
  });
  const form = await answer.text();
  const samlResponse = /name="SAMLResponse" value="([^"]+)"/.exec(form)?.[1] ?? '';
  expect(samlResponse, form).not.toBe('');
  return { jar, ...(await postAcs(rig, samlResponse, jar)) };
}

const sessionOf = (jar: CookieJar) => jar.get('127.0.0.1', 'tessera_session');

function respondFor(rig: Rig, user: SamlTestUser, extra: Partial<ResponseOptions> = {}) {
  return idp.respond({
    sp: { entityId: rig.conn.spEntityId, acsUrl: rig.conn.acsUrl },
    user,
    ...extra,
  });
}

async function refusals(tenantId: string): Promise<string[]> {
  const { rows } = await db.owner.pool.query<{ reason: string }>(
    `SELECT metadata->>'reason' AS reason FROM audit_logs
      WHERE tenant_id = $1 AND action = 'auth.saml.refused' ORDER BY seq`,
    [tenantId],
  );
  return rows.map((r) => r.reason);
}

const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');
const xmlOf = (samlResponse: string) => Buffer.from(samlResponse, 'base64').toString('utf8');
const REFUSED = /\/sign-in\?sso_error=sso_failed$/;

describe('SP-initiated sign-in through a real SAML IdP', () => {
  test('the SP metadata is published at its entity id, with the HTTP-POST assertion consumer service', async () => {
    const rig = await samlTenant();
    const res = await fetch(rig.conn.metadataUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/samlmetadata\+xml/);
    const xml = await res.text();
    expect(xml).toContain(`entityID="${rig.conn.spEntityId}"`);
    expect(xml).toMatch(
      new RegExp(
        `AssertionConsumerService[^>]*Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"[^>]*Location="${rig.conn.acsUrl}"`,
      ),
    );
    expect(rig.conn.spEntityId).toBe(
      `${origin}/auth/saml/${rig.conn.startUrl.split('/')[5]}/${rig.conn.id}/metadata`,
    );
  });

  test('a new user is provisioned as a member and signed in; the identity is bound to (connection, NameID, IdP)', async () => {
    const rig = await samlTenant();
    const { login, user } = idpUser();
    const { jar, location } = await signIn(rig, login);
    expect(location).toBe(`${origin}/`);
    const principal = await principalFromToken(db.app, sessionOf(jar) ?? '');
    expect(principal).toMatchObject({ kind: 'session', tenantId: rig.tenantId, aal: 1 });
    const created = (await db.withTenant(rig.tenantId, (tx) => tx.select().from(users))).find(
      (row) => row.email === user.email,
    );
    expect(created).toMatchObject({ role: 'member', displayName: user.name });
    expect(created?.emailVerifiedAt).not.toBeNull();
    const links = await db.withTenant(rig.tenantId, (tx) => tx.select().from(userIdentities));
    expect(links).toMatchObject([
      {
        userId: created?.id,
        provider: samlProviderKey(rig.conn.id),
        issuer: idp.entityId,
        subject: user.nameId,
      },
    ]);
    expect(jar.get('127.0.0.1', 'tessera_saml_flow')).toBeUndefined(); // the flow is spent
  });

  test("group-to-role rules decide a new user's role; no match stays member", async () => {
    const rig = await samlTenant({ groupRoles: [{ group: 'tessera-admins', role: 'admin' }] });
    const admin = idpUser({ groups: ['staff', 'tessera-admins'] });
    const plain = idpUser({ groups: ['staff'] });
    await signIn(rig, admin.login);
    await signIn(rig, plain.login);
    const rows = await db.withTenant(rig.tenantId, (tx) => tx.select().from(users));
    expect(rows.find((r) => r.email === admin.user.email)?.role).toBe('admin');
    expect(rows.find((r) => r.email === plain.user.email)?.role).toBe('member');
  });

  test('an existing user is linked by e-mail only when the connection vouches for addresses and Tessera holds it verified', async () => {
    const vouched = await samlTenant({ jitProvisioning: false });
    const a = idpUser({ email: 'ann@corp.test' });
    const annId = await tesseraUser(vouched.tenantId, 'ann@corp.test');
    const linked = await signIn(vouched, a.login);
    expect(await principalFromToken(db.app, sessionOf(linked.jar) ?? '')).toMatchObject({
      userId: annId,
    });

    const unverifiedHere = idpUser({ email: 'bob@corp.test' });
    await tesseraUser(vouched.tenantId, 'bob@corp.test', 'member', false);
    const refusedHere = await signIn(vouched, unverifiedHere.login);
    expect(refusedHere.location).toMatch(/sso_error=sso_no_account$/);

    const notVouched = await samlTenant({ jitProvisioning: false, emailsVerified: false });
    const c = idpUser({ email: 'cid@corp.test' });
    await tesseraUser(notVouched.tenantId, 'cid@corp.test');
    const refused = await signIn(notVouched, c.login);
    expect(refused.location).toMatch(/sso_error=sso_no_account$/);
    expect(sessionOf(refused.jar)).toBeUndefined();
  });

  test('a user with a factor gets an MFA challenge; a trusted AuthnContextClassRef signs in at AAL2 instead', async () => {
    const rig = await samlTenant();
    const email = `mfa${Date.now()}@corp.test`;
    const userId = await tesseraUser(rig.tenantId, email);
    const { login } = idpUser({ email });
    const first = await signIn(rig, login); // no factor yet: a session, linked by verified e-mail
    const principal = await principalFromToken(db.app, sessionOf(first.jar) ?? '');
    const who = {
      tenantId: rig.tenantId,
      userId,
      sessionId: principal?.kind === 'session' ? principal.sessionId : '',
    };
    const past = new Date(Date.now() - 30_000);
    const { secret } = await withTenant(db.app, who.tenantId, (tx) =>
      beginEnrollment(tx, { actor: who, deps: services.accounts, now: past }),
    );
    await withTenant(db.app, who.tenantId, (tx) =>
      confirmEnrollment(
        tx,
        { deps: services.accounts, actor: who, request, now: past },
        totpCodeAt(secret, past),
      ),
    );
    const challenged = await signIn(rig, login, { context: MFA_CONTEXT });
    expect(challenged.location).toBe(`${origin}/sign-in?sso=mfa_required`);
    expect(sessionOf(challenged.jar)).toBeUndefined();
    expect(
      challenged.jar.get('127.0.0.1', mfaChallengeCookieName(sessionCookieName(origin))),
    ).toBeTruthy();

    await saveSaml(
      {
        db: db.app,
        deps: { publicUrl: origin, outbound: { mode: 'development' } },
        actor: { tenantId: rig.tenantId, userId: rig.ownerId, role: 'owner', sessionId: null },
        request,
        now: new Date(),
      },
      rig.conn.id,
      { trustIdpMfa: true },
    );
    const passwordOnly = await signIn(rig, login);
    expect(passwordOnly.location).toBe(`${origin}/sign-in?sso=mfa_required`);
    const trusted = await signIn(rig, login, { context: MFA_CONTEXT });
    expect(trusted.location).toBe(`${origin}/`);
    expect(await principalFromToken(db.app, sessionOf(trusted.jar) ?? '')).toMatchObject({
      userId,
      aal: 2,
    });
  });

  test('a signed assertion in an unsigned response is accepted; an unsigned one is not', async () => {
    const rig = await samlTenant();
    const { user } = idpUser();
    const one = await startFlow(rig);
    const signedAssertion = await respondFor(rig, user, {
      inResponseTo: one.id,
      sign: 'assertion',
    });
    expect(xmlOf(signedAssertion)).toMatch(/<saml:Assertion[^>]*>.*<ds:Signature/);
    expect((await postAcs(rig, signedAssertion, one.jar)).location).toBe(`${origin}/`);
    const two = await startFlow(rig);
    const unsigned = await respondFor(rig, user, { inResponseTo: two.id, sign: 'none' });
    expect((await postAcs(rig, unsigned, two.jar)).location).toMatch(REFUSED);
    expect(await refusals(rig.tenantId)).toEqual(['invalid']);
  });

  test('certificate rotation: both configured certificates verify; any other key is refused', async () => {
    const rig = await samlTenant();
    const next = await idp.addNextKey();
    try {
      await saveSaml(
        {
          db: db.app,
          deps: { publicUrl: origin, outbound: { mode: 'development' } },
          actor: { tenantId: rig.tenantId, userId: rig.ownerId, role: 'owner', sessionId: null },
          request,
          now: new Date(),
        },
        rig.conn.id,
        { metadataXml: idp.metadataXml() },
      );
      const { user } = idpUser();
      for (const key of [idp.key, next]) {
        const flow = await startFlow(rig);
        const response = await respondFor(rig, user, { inResponseTo: flow.id, key });
        expect((await postAcs(rig, response, flow.jar)).location).toBe(`${origin}/`);
      }
      const stranger = await makeSigningKey('Someone else');
      const flow = await startFlow(rig);
      const forged = await respondFor(rig, user, {
        inResponseTo: flow.id,
        key: stranger,
        sign: 'both',
      });
      expect(xmlOf(forged)).toContain('<ds:X509Certificate>'); // it carries its own certificate
      expect((await postAcs(rig, forged, flow.jar)).location).toMatch(REFUSED);
    } finally {
      // later tests use a one-key connection again
      idp.useKey(idp.key);
    }
  });
});

test('starts and assertion posts are limited per IP (30 a minute by default)', async () => {
  const rig = await samlTenant();
  const limited = await buildServer(
    { ...defaultApiConfig, publicUrl: origin, logLevel: 'silent' },
    { database: db.app, services: testServices() }, // a limiter of its own
  );
  await limited.register(samlPlugin, {
    database: db.app,
    services: testServices(),
    publicUrl: origin,
    cookieName: sessionCookieName(origin),
    sessionSecret,
  });
  try {
    const path = new URL(rig.conn.startUrl).pathname;
    const answers: string[] = [];
    for (let i = 0; i < 31; i += 1)
      answers.push(String((await limited.inject({ method: 'GET', url: path })).headers.location));
    expect(answers.slice(0, 30).every((l) => l.startsWith(idp.ssoUrl))).toBe(true);
    expect(answers[30]).toBe(`${origin}/sign-in?sso_error=rate_limited`);
  } finally {
    await limited.close();
  }
});

describe('attacks that must all be refused', () => {
  let rig: Rig;
  let victim: SamlTestUser;
  let mallory: SamlTestUser;
  beforeAll(async () => {
    rig = await samlTenant();
    victim = idpUser({ email: 'victim@corp.test', nameId: 'victim' }).user;
    mallory = idpUser({ email: 'mallory@corp.test', nameId: 'mallory' }).user;
    // The victim exists and has signed in before; a successful attack would sign in as them.
    await signIn(rig, [...idp.users].find(([, u]) => u === victim)?.[0] ?? '');
  });

  async function refused(
    make: (requestId: string) => Promise<string> | string,
    reason: string,
  ): Promise<void> {
    const before = (await refusals(rig.tenantId)).length;
    const flow = await startFlow(rig);
    const { location, response } = await postAcs(rig, await make(flow.id), flow.jar);
    expect(response.status).toBe(302);
    expect(location).toMatch(REFUSED);
    expect(sessionOf(flow.jar)).toBeUndefined();
    const after = await refusals(rig.tenantId);
    expect(after.slice(before)).toEqual([reason]);
  }

  const signedFor = (user: SamlTestUser, id: string, extra: Partial<ResponseOptions> = {}) =>
    respondFor(rig, user, { inResponseTo: id, ...extra });
  const assertionOf = (xml: string) =>
    /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)?.[0] ?? '';
  const withoutSignature = (xml: string) =>
    xml.replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/, '');

  test('XSW: an evil assertion beside the signed one (response carries two assertions)', async () => {
    await refused(async (id) => {
      const xml = xmlOf(await signedFor(mallory, id, { sign: 'assertion' }));
      const evil = withoutSignature(assertionOf(xml))
        .replace('>mallory<', '>victim<')
        .replace(/ID="[^"]+"/, 'ID="_evil"');
      return b64(xml.replace('<saml:Assertion', `${evil}<saml:Assertion`));
    }, 'invalid');
  });

  test('XSW: the signed assertion moved into Extensions, an evil copy with its id in its place', async () => {
    await refused(async (id) => {
      const xml = xmlOf(await signedFor(mallory, id, { sign: 'assertion' }));
      const signed = assertionOf(xml);
      const evil = withoutSignature(signed).replace('>mallory<', '>victim<');
      return b64(xml.replace(signed, `<samlp:Extensions>${signed}</samlp:Extensions>${evil}`));
    }, 'invalid');
  });

  test('XSW: the evil assertion carries the original signature, the signed one hidden inside it', async () => {
    await refused(async (id) => {
      const xml = xmlOf(await signedFor(mallory, id, { sign: 'assertion' }));
      const signed = assertionOf(xml);
      const signature = /<ds:Signature[\s\S]*?<\/ds:Signature>/.exec(signed)?.[0] ?? '';
      const evil = withoutSignature(signed)
        .replace('>mallory<', '>victim<')
        .replace(
          '</saml:Issuer>',
          `</saml:Issuer>${signature.replace('</ds:Signature>', `<ds:Object>${signed}</ds:Object></ds:Signature>`)}`,
        );
      return b64(xml.replace(signed, evil));
    }, 'invalid');
  });

  test('XSW: a new response around an evil assertion, the signed response wrapped inside it', async () => {
    await refused(async (id) => {
      const xml = xmlOf(await signedFor(mallory, id, { sign: 'response' }));
      const evil = withoutSignature(assertionOf(xml)).replace('>mallory<', '>victim<');
      const head = /^<samlp:Response[^>]*>/.exec(xml)?.[0] ?? '';
      return b64(
        `${head.replace(/ID="[^"]+"/, 'ID="_wrapper"')}<saml:Issuer>${idp.entityId}</saml:Issuer>` +
          `<samlp:Extensions>${xml}</samlp:Extensions>` +
          `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
          `${evil}</samlp:Response>`,
      );
    }, 'invalid');
  });

  test('an unsigned assertion for another subject inside a response the IdP signed', async () => {
    await refused(async (id) => {
      const xml = xmlOf(await signedFor(mallory, id, { sign: 'response' }));
      return b64(xml.replace(/>mallory</, '>victim<')); // the signed response's digest no longer holds
    }, 'invalid');
    await refused(async (id) => {
      const xml = xmlOf(await signedFor(mallory, id, { sign: 'response' }));
      const extra = assertionOf(xml)
        .replace('>mallory<', '>victim<')
        .replace(/ID="[^"]+"/, 'ID="_extra"');
      return b64(xml.replace('</samlp:Response>', `${extra}</samlp:Response>`));
    }, 'invalid');
  });

  test('a comment injected into a signed NameID (the signature still verifies: exclusive c14n drops comments)', async () => {
    const longer = { ...mallory, nameId: 'victim.attacker' };
    await refused(async (id) => {
      const xml = xmlOf(await signedFor(longer, id, { sign: 'assertion' }));
      return b64(xml.replace('>victim.attacker<', '>victim<!---->.attacker<'));
    }, 'malformed');
  });

  test('expired and not-yet-valid assertions, beyond two minutes of skew; within it they pass', async () => {
    const now = Date.now();
    await refused(
      (id) => signedFor(mallory, id, { notOnOrAfter: new Date(now - 150_000) }),
      'invalid',
    );
    await refused(
      (id) => signedFor(mallory, id, { notBefore: new Date(now + 150_000) }),
      'invalid',
    );
    for (const extra of [
      { notOnOrAfter: new Date(now - 60_000) },
      { notBefore: new Date(now + 60_000) },
    ]) {
      const flow = await startFlow(rig);
      const ok = await postAcs(rig, await signedFor(mallory, flow.id, extra), flow.jar);
      expect(ok.location).toBe(`${origin}/`);
    }
  });

  test('a wrong audience, recipient, destination or issuer', async () => {
    await refused(
      (id) => signedFor(mallory, id, { audience: 'https://other-sp.example/metadata' }),
      'invalid',
    );
    await refused(
      (id) => signedFor(mallory, id, { recipient: 'https://other-sp.example/acs' }),
      'wrong_recipient',
    );
    await refused(
      (id) => signedFor(mallory, id, { destination: 'https://other-sp.example/acs' }),
      'wrong_destination',
    );
    await refused(
      (id) => signedFor(mallory, id, { issuer: 'https://other-idp.example' }),
      'wrong_issuer',
    );
  });

  test('an InResponseTo this browser did not start, and an unsolicited response while IdP-initiated sign-in is off', async () => {
    const elsewhere = await startFlow(rig); // another browser's request
    await refused(() => signedFor(mallory, elsewhere.id), 'invalid');
    await refused(() => signedFor(mallory, '_never-issued'), 'invalid');
    await refused(() => signedFor(mallory, '', { inResponseTo: null }), 'unsolicited');
  });

  test('an XXE payload (DOCTYPE with an external entity) is refused before parsing', async () => {
    await refused(async (id) => {
      const xml = xmlOf(await signedFor(mallory, id));
      return b64(
        `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${xml.replace('>mallory<', '>&x;<')}`,
      );
    }, 'malformed');
  });

  test('a replayed assertion is refused, here and at another API process on the same database', async () => {
    const idpInitiated = await samlTenant({ allowIdpInitiated: true });
    const { user } = idpUser();
    const unsolicited = await respondFor(idpInitiated, user, { inResponseTo: null });
    const first = await postAcs(idpInitiated, unsolicited, new CookieJar());
    expect(first.location).toBe(`${origin}/`);
    const again = await postAcs(idpInitiated, unsolicited, new CookieJar());
    expect(again.location).toMatch(REFUSED);
    const elsewhere = await other.inject({
      method: 'POST',
      url: new URL(idpInitiated.conn.acsUrl).pathname,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ SAMLResponse: unsolicited }).toString(),
    });
    expect(elsewhere.headers.location).toMatch(REFUSED);
    expect(await refusals(idpInitiated.tenantId)).toEqual(['replayed', 'replayed']);
    // Solicited replay: the flow is spent with the first use, the assertion id too.
    const flow = await startFlow(rig);
    const once = await signedFor(mallory, flow.id);
    expect((await postAcs(rig, once, flow.jar.clone())).location).toBe(`${origin}/`);
    expect((await postAcs(rig, once, flow.jar)).location).toMatch(REFUSED);
  });

  test("a response for another tenant's connection at the same IdP", async () => {
    const tenantB = await samlTenant();
    const { user } = idpUser();
    // Issued for B's SP (its audience and ACS), posted to A's ACS with A's flow.
    await refused((id) => respondFor(tenantB, user, { inResponseTo: id }), 'invalid');
    // A's flow cookie at B's ACS: B never started that request.
    const flow = await startFlow(rig);
    const forB = await respondFor(tenantB, user, { inResponseTo: flow.id });
    const atB = await postAcs(tenantB, forB, flow.jar);
    expect(atB.location).toMatch(REFUSED);
    expect(await refusals(tenantB.tenantId)).toEqual(['invalid']);
  });
});
