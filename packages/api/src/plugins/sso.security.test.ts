// Attacks on SSO sign-in that succeeds: taking over an account by claiming its e-mail at an
// identity provider (link only when both sides hold it verified), an SSO login that skips the
// user's second factor or the tenant's MFA policy, and Auth.js minting a session of its own
// beside Tessera's. A real OpenID Provider (oidc-provider) runs on 127.0.0.1; the whole
// authorization-code flow goes over HTTP. docs/design.md "Identity", "MFA"; ASVS V2.x/V3.x.
import { randomBytes } from 'node:crypto';
import { generateKeyringSpec } from '@tessera/auth';
import { beginEnrollment, confirmEnrollment, totpCodeAt } from '@tessera/auth/mfa';
import { type SsoDeps, type SsoSettingsPatch } from '@tessera/auth/sso';
import { principalFromToken, testServices } from '@tessera/api-contract/testing';
import { tenants, userIdentities, users, withTenant } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';
import { saveSsoSettings } from '../testing/sso-setup.js';
import { mfaChallengeCookieName, sessionCookieName } from './session-cookie.js';
import { ssoPlugin } from './sso.js';
import { ssoSignIn, startSsoHarness, type SsoHarness } from '../testing/sso-test-idp.js';

const db = useTestDatabase();
const services = testServices();
const SLUGS = ['sso-link', 'sso-jit', 'sso-nojit', 'sso-mfa', 'sso-amr', 'sso-policy'] as const;
let h: SsoHarness;

beforeAll(async () => {
  h = await startSsoHarness({ 'tessera-a': SLUGS }, async (origin) => {
    const app = await buildServer(
      { ...defaultApiConfig, publicUrl: origin, logLevel: 'silent' },
      { database: db.app, services },
    );
    await app.register(ssoPlugin, {
      database: db.app,
      services,
      publicUrl: origin,
      cookieName: sessionCookieName(origin),
      sessionSecret: `${generateKeyringSpec(2)},${generateKeyringSpec(1)}`,
      platformProviders: [],
      outbound: { mode: 'development' },
    });
    return app;
  });
});
afterAll(async () => h?.close());

const request = { ip: '203.0.113.9', userAgent: 'vitest' };
const ssoDeps = (): SsoDeps => ({
  keyring: services.accounts.keyring,
  outbound: { mode: 'development' },
  platformProviders: [],
  publicUrl: h.origin,
});

async function ssoTenant(slug: string, patch: SsoSettingsPatch = {}): Promise<{ id: string }> {
  const tenant = await db.seedTenant({ slug });
  const ownerId = await tesseraUser(tenant.id, `owner@${slug}.test`, { role: 'owner' });
  await saveSsoSettings(
    {
      db: db.app,
      deps: ssoDeps(),
      actor: { tenantId: tenant.id, userId: ownerId, role: 'owner', sessionId: null },
      request,
      now: new Date(),
    },
    {
      enabled: true,
      issuer: h.idp.issuer,
      clientId: 'tessera-a',
      clientSecret: h.secrets['tessera-a'] ?? '',
      ...patch,
    },
  );
  return tenant;
}

async function tesseraUser(
  tenantId: string,
  email: string,
  options: { verified?: boolean; role?: 'owner' | 'member' } = {},
): Promise<string> {
  const [row] = await db.withTenant(tenantId, (tx) =>
    tx
      .insert(users)
      .values({
        tenantId,
        email,
        role: options.role ?? 'member',
        emailVerifiedAt: options.verified === false ? null : new Date(),
      })
      .returning({ id: users.id }),
  );
  if (!row) throw new Error('no user');
  return row.id;
}

function idpAccount(email: string, emailVerified = true): string {
  const login = `idp-${randomBytes(4).toString('hex')}`;
  h.idp.accounts.set(login, { email, emailVerified });
  return login;
}

const sessionToken = (jar: {
  get(host: string, name: string): string | undefined;
}): string | undefined => jar.get('127.0.0.1', 'tessera_session');

describe('the authorization-code flow against a real OpenID Provider', () => {
  test('a verified e-mail on both sides links the identity and yields a normal Tessera session for that tenant and user', async () => {
    const tenant = await ssoTenant('sso-link');
    const userId = await tesseraUser(tenant.id, 'alice@example.com');
    const login = idpAccount('Alice@Example.com');
    const { jar, url, hops } = await ssoSignIn(h, 'sso-link', login);
    expect(url).toBe(`${h.origin}/`);
    expect(
      hops.some(
        (hop) =>
          hop.url.startsWith(`${h.idp.issuer}/auth?`) &&
          /code_challenge_method=S256/.test(hop.url) &&
          /nonce=/.test(hop.url) &&
          /state=/.test(hop.url),
      ),
    ).toBe(true);
    const principal = await principalFromToken(db.app, sessionToken(jar) ?? '');
    expect(principal).toMatchObject({
      kind: 'session',
      tenantId: tenant.id,
      userId,
      aal: 1,
      enrollmentOnly: false,
    });
    expect(jar.get('127.0.0.1', 'authjs.session-token')).toBeUndefined(); // Auth.js never issues its own session
    const links = (await db.withTenant(tenant.id, (tx) => tx.select().from(userIdentities))).filter(
      (row) => row.userId === userId,
    );
    expect(links).toMatchObject([{ provider: 'tenant', issuer: h.idp.issuer, subject: login }]);
  });

  test('a linked identity signs in again even after its e-mail at the provider changed', async () => {
    const [tenant] = await db.owner.pool
      .query<{ id: string }>("SELECT id FROM tenants WHERE slug = 'sso-link'")
      .then((r) => r.rows);
    const [link] = await db.owner.pool
      .query<{ subject: string; user_id: string }>(
        'SELECT subject, user_id FROM user_identities WHERE tenant_id = $1',
        [tenant?.id],
      )
      .then((r) => r.rows);
    h.idp.accounts.set(link?.subject ?? '', {
      email: 'renamed@elsewhere.test',
      emailVerified: false,
    });
    const { jar } = await ssoSignIn(h, 'sso-link', link?.subject ?? '');
    expect(await principalFromToken(db.app, sessionToken(jar) ?? '')).toMatchObject({
      tenantId: tenant?.id,
      userId: link?.user_id,
    });
  });

  test('just-in-time provisioning creates a member without a password when the tenant allows it', async () => {
    const tenant = await ssoTenant('sso-jit', { jitProvisioning: true });
    const { jar } = await ssoSignIn(h, 'sso-jit', idpAccount('newcomer@example.com'));
    const principal = await principalFromToken(db.app, sessionToken(jar) ?? '');
    expect(principal).toMatchObject({ tenantId: tenant.id, role: 'member' });
    const user = (await db.withTenant(tenant.id, (tx) => tx.select().from(users))).find(
      (row) => row.email === 'newcomer@example.com',
    );
    expect(user).toMatchObject({
      role: 'member',
      passwordHash: null,
      id: principal?.kind === 'session' ? principal.userId : '',
    });
    expect(user?.emailVerifiedAt).toBeInstanceOf(Date);
  });

  test('without just-in-time provisioning an unknown person is refused with a code and no details', async () => {
    const tenant = await ssoTenant('sso-nojit');
    const { jar, url } = await ssoSignIn(h, 'sso-nojit', idpAccount('stranger@example.com'));
    expect(url).toBe(`${h.origin}/sign-in?sso_error=sso_no_account`);
    expect(sessionToken(jar)).toBeUndefined();
    const { rows } = await db.owner.pool.query(
      "SELECT metadata FROM audit_logs WHERE tenant_id = $1 AND action = 'auth.sso.refused'",
      [tenant.id],
    );
    expect(rows).toMatchObject([{ metadata: { reason: 'not_provisioned', provider: 'tenant' } }]);
  });
});

describe('MFA after SSO', () => {
  async function enrolled(
    slug: string,
    patch: SsoSettingsPatch = {},
  ): Promise<{ tenantId: string; userId: string; secret: string; login: string }> {
    const tenant = await ssoTenant(slug, patch);
    const email = `mfa@${slug}.test`;
    const userId = await tesseraUser(tenant.id, email);
    const login = idpAccount(email);
    const first = await ssoSignIn(h, slug, login);
    const principal = await principalFromToken(db.app, sessionToken(first.jar) ?? '');
    const who = {
      tenantId: tenant.id,
      userId,
      sessionId: principal?.kind === 'session' ? principal.sessionId : '',
    };
    const now = new Date(Date.now() - 30_000); // one TOTP step back, so a current code is fresh
    const { secret } = await withTenant(db.app, tenant.id, (tx) =>
      beginEnrollment(tx, { actor: who, deps: services.accounts, now }),
    );
    await withTenant(db.app, tenant.id, (tx) =>
      confirmEnrollment(
        tx,
        { deps: services.accounts, actor: who, request, now },
        totpCodeAt(secret, now),
      ),
    );
    return { tenantId: tenant.id, userId, secret, login };
  }

  test('a user with a factor gets the short-lived challenge cookie, no session; auth.verifyMfa completes it at AAL2', async () => {
    const { tenantId, userId, secret, login } = await enrolled('sso-mfa');
    const stopped = await ssoSignIn(h, 'sso-mfa', login, { stopAtCallback: true });
    const callback = await fetch(stopped.url, {
      redirect: 'manual',
      headers: { cookie: stopped.jar.header(stopped.url) },
    });
    expect(callback.headers.get('location')).toBe(`${h.origin}/sign-in?sso=mfa_required`);
    const setCookies = callback.headers.getSetCookie();
    expect(setCookies.some((line) => line.startsWith('tessera_session='))).toBe(false);
    // Named like the session cookie (plain on http://127.0.0.1, __Host- elsewhere), so Path=/.
    const cookieName = mfaChallengeCookieName(sessionCookieName(h.origin));
    const line = setCookies.find((c) => c.startsWith(`${cookieName}=`)) ?? '';
    expect(line.split('; ').slice(1).sort()).toEqual([
      'HttpOnly',
      'Max-Age=300',
      'Path=/',
      'SameSite=Strict',
      'Secure',
    ]);
    const challenge = /^[^=]+=([^;]*)/.exec(line)?.[1];
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const res = await fetch(`${h.origin}/trpc/auth.verifyMfa`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: h.origin,
        cookie: `${cookieName}=${challenge}`,
      },
      body: JSON.stringify({ code: totpCodeAt(secret, new Date()) }),
    });
    expect(res.status).toBe(200);
    const token = /tessera_session=([^;]+)/.exec(res.headers.getSetCookie().join('\n'))?.[1] ?? '';
    expect(await principalFromToken(db.app, token)).toMatchObject({ tenantId, userId, aal: 2 });
  });

  test("the provider's amr does not count unless the tenant opted in; with the opt-in, amr=mfa gives AAL2 without a challenge", async () => {
    const { tenantId, userId, login } = await enrolled('sso-amr');
    const untrusted = await ssoSignIn(h, 'sso-amr', login, { amr: 'pwd,mfa' });
    expect(untrusted.url).toBe(`${h.origin}/sign-in?sso=mfa_required`);
    const owner = (await db.withTenant(tenantId, (tx) => tx.select().from(users))).find(
      (row) => row.role === 'owner',
    );
    await saveSsoSettings(
      {
        db: db.app,
        deps: ssoDeps(),
        actor: { tenantId, userId: owner?.id ?? '', role: 'owner', sessionId: null },
        request,
        now: new Date(),
      },
      { trustProviderMfa: true },
    );
    const pwdOnly = await ssoSignIn(h, 'sso-amr', login, { amr: 'pwd' });
    expect(pwdOnly.url).toBe(`${h.origin}/sign-in?sso=mfa_required`);
    const trusted = await ssoSignIn(h, 'sso-amr', login, { amr: 'pwd,mfa' });
    expect(await principalFromToken(db.app, sessionToken(trusted.jar) ?? '')).toMatchObject({
      tenantId,
      userId,
      aal: 2,
    });
  });

  test("the tenant's MFA requirement still applies: an SSO user without a factor gets an enrollment-only session", async () => {
    const tenant = await ssoTenant('sso-policy');
    await db.withTenant(tenant.id, (tx) =>
      tx.update(tenants).set({ securityPolicy: { mfaRequired: 'all' } }),
    );
    await tesseraUser(tenant.id, 'policy@example.com');
    const { jar } = await ssoSignIn(h, 'sso-policy', idpAccount('policy@example.com'));
    expect(await principalFromToken(db.app, sessionToken(jar) ?? '')).toMatchObject({
      tenantId: tenant.id,
      enrollmentOnly: true,
      aal: 1,
    });
  });
});
