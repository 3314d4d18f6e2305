// Attacks on SSO that must be refused: a tampered `state` (login CSRF, RFC 6749 §10.12), a
// replayed authorization code (RFC 6749 §4.1.2, §10.5), claiming an account through an
// unverified e-mail (docs/design.md "Identity"), SSO at a tenant that has none, and a sign-in started at
// tenant A's provider delivered to tenant B (cross-tenant confusion, docs/design.md rule 1). Each refusal
// lands on the console with a bare error code and leaves no Tessera session. A real OpenID
// Provider (oidc-provider) runs on 127.0.0.1; the flow goes over HTTP. ASVS V3.x.
import { randomBytes } from 'node:crypto';
import { generateKeyringSpec } from '@tessera/auth';
import { type SsoSettingsPatch } from '@tessera/auth/sso';
import { principalFromToken, testServices } from '@tessera/api-contract/testing';
import { users } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';
import { saveSsoSettings } from '../testing/sso-setup.js';
import { sessionCookieName } from './session-cookie.js';
import { ssoPlugin } from './sso.js';
import {
  CookieJar,
  deliverCallback,
  ssoSignIn,
  startSsoHarness,
  type SsoHarness,
} from '../testing/sso-test-idp.js';

const db = useTestDatabase();
const services = testServices();
let h: SsoHarness;

beforeAll(async () => {
  h = await startSsoHarness(
    {
      'tessera-a': ['rf-state', 'rf-replay', 'rf-unverified', 'rf-cross-a'],
      'tessera-b': ['rf-cross-b'],
    },
    async (origin) => {
      const app = await buildServer(
        { ...defaultApiConfig, publicUrl: origin, logLevel: 'silent' },
        { database: db.app, services },
      );
      await app.register(ssoPlugin, {
        database: db.app,
        services,
        publicUrl: origin,
        cookieName: sessionCookieName(origin),
        sessionSecret: generateKeyringSpec(),
        platformProviders: [],
        outbound: { mode: 'development' },
      });
      return app;
    },
  );
});
afterAll(async () => h?.close());

const request = { ip: '203.0.113.9', userAgent: 'vitest' };
const failed = (code: string): string => `${h.origin}/sign-in?sso_error=${code}`;

async function ssoTenant(
  slug: string,
  clientId = 'tessera-a',
  patch: SsoSettingsPatch = {},
): Promise<{ id: string }> {
  const tenant = await db.seedTenant({ slug });
  const ownerId = await tesseraUser(tenant.id, `owner@${slug}.test`, true, 'owner');
  const deps = {
    keyring: services.accounts.keyring,
    outbound: { mode: 'development' as const },
    platformProviders: [],
    publicUrl: h.origin,
  };
  await saveSsoSettings(
    {
      db: db.app,
      deps,
      actor: { tenantId: tenant.id, userId: ownerId, role: 'owner', sessionId: null },
      request,
      now: new Date(),
    },
    {
      enabled: true,
      issuer: h.idp.issuer,
      clientId,
      clientSecret: h.secrets[clientId] ?? '',
      ...patch,
    },
  );
  return tenant;
}

async function tesseraUser(
  tenantId: string,
  email: string,
  verified: boolean,
  role: 'owner' | 'member' = 'member',
): Promise<string> {
  const [row] = await db.withTenant(tenantId, (tx) =>
    tx
      .insert(users)
      .values({ tenantId, email, role, emailVerifiedAt: verified ? new Date() : null })
      .returning({ id: users.id }),
  );
  return row?.id ?? '';
}

function idpAccount(email: string, emailVerified = true): string {
  const login = `idp-${randomBytes(4).toString('hex')}`;
  h.idp.accounts.set(login, { email, emailVerified });
  return login;
}

const sessionOf = (jar: CookieJar): string | undefined => jar.get('127.0.0.1', 'tessera_session');
const count = async (sql: string, values: unknown[]): Promise<number> =>
  Number((await db.owner.pool.query<{ n: string }>(sql, values)).rows[0]?.n);

describe('protocol tampering', () => {
  test('a callback whose state was altered is refused and signs nobody in', async () => {
    const tenant = await ssoTenant('rf-state');
    await tesseraUser(tenant.id, 'state@example.com', true);
    const { jar, url } = await ssoSignIn(h, 'rf-state', idpAccount('state@example.com'), {
      stopAtCallback: true,
    });
    const callback = new URL(url);
    const state = callback.searchParams.get('state') ?? '';
    callback.searchParams.set(
      'state',
      `${state.slice(0, -4)}${state.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`,
    );
    expect(await deliverCallback(h, callback.href, jar)).toBe(failed('sso_failed'));
    expect(sessionOf(jar)).toBeUndefined();
    expect(
      await count('SELECT count(*) AS n FROM sessions WHERE tenant_id = $1', [tenant.id]),
    ).toBe(0);
  });

  test('a replayed authorization code is refused, even with the cookies of the original browser', async () => {
    const tenant = await ssoTenant('rf-replay');
    const userId = await tesseraUser(tenant.id, 'replay@example.com', true);
    const { jar, url } = await ssoSignIn(h, 'rf-replay', idpAccount('replay@example.com'), {
      stopAtCallback: true,
    });
    const captured = jar.clone(); // an attacker who saw the callback and the victim's cookies
    expect(await deliverCallback(h, url, jar)).toBe(`${h.origin}/`);
    expect(await principalFromToken(db.app, sessionOf(jar) ?? '')).toMatchObject({
      tenantId: tenant.id,
      userId,
    });
    expect(await deliverCallback(h, url, captured)).toBe(failed('sso_failed'));
    expect(sessionOf(captured)).toBeUndefined();
    expect(await count('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [userId])).toBe(1);
  });

  test('a callback without the flow cookie set at the start, or with a forged one, is refused before any token exchange', async () => {
    const { jar, url } = await ssoSignIn(h, 'rf-replay', idpAccount('replay@example.com'), {
      stopAtCallback: true,
    });
    const stripped = new CookieJar();
    expect(await deliverCallback(h, url, stripped)).toBe(failed('sso_failed'));
    const forged = jar.clone();
    const flow = jar.get('127.0.0.1', 'tessera_sso_flow') ?? '';
    const [version, body] = flow.split('.');
    forged.set('127.0.0.1', 'tessera_sso_flow', `${version}.${body}.${'A'.repeat(43)}`);
    expect(await deliverCallback(h, url, forged)).toBe(failed('sso_failed'));
    expect(await deliverCallback(h, url, jar)).toBe(`${h.origin}/`); // the untouched flow still works: the code was not spent
  });
});

describe('linking by e-mail', () => {
  test('an e-mail the provider does not assert as verified never links to an existing account', async () => {
    const tenant = await ssoTenant('rf-unverified', 'tessera-a', { jitProvisioning: true });
    const victim = await tesseraUser(tenant.id, 'victim@example.com', true);
    const { jar, url } = await ssoSignIn(
      h,
      'rf-unverified',
      idpAccount('victim@example.com', false),
    );
    expect(url).toBe(failed('sso_no_account'));
    expect(sessionOf(jar)).toBeUndefined();
    expect(
      await count('SELECT count(*) AS n FROM user_identities WHERE user_id = $1', [victim]),
    ).toBe(0);
    const { rows } = await db.owner.pool.query(
      "SELECT metadata FROM audit_logs WHERE tenant_id = $1 AND action = 'auth.sso.refused'",
      [tenant.id],
    );
    expect(rows).toMatchObject([{ metadata: { reason: 'email_unverified' } }]); // committed before the redirect
  });

  test('an account whose Tessera address is unverified is not linked either, even when the provider says verified', async () => {
    const [tenant] = (
      await db.owner.pool.query<{ id: string }>(
        "SELECT id FROM tenants WHERE slug = 'rf-unverified'",
      )
    ).rows;
    const pending = await tesseraUser(tenant?.id ?? '', 'pending@example.com', false);
    const { url } = await ssoSignIn(h, 'rf-unverified', idpAccount('pending@example.com', true));
    expect(url).toBe(failed('sso_no_account'));
    expect(
      await count('SELECT count(*) AS n FROM user_identities WHERE user_id = $1', [pending]),
    ).toBe(0);
  });

  test('a disabled user is refused even through an identity linked before, with the same answer as no account', async () => {
    const [tenant] = (
      await db.owner.pool.query<{ id: string }>(
        "SELECT id FROM tenants WHERE slug = 'rf-unverified'",
      )
    ).rows;
    const userId = await tesseraUser(tenant?.id ?? '', 'leaver@example.com', true);
    const login = idpAccount('leaver@example.com');
    expect((await ssoSignIn(h, 'rf-unverified', login)).url).toBe(`${h.origin}/`);
    await db.withTenant(tenant?.id ?? '', (tx) =>
      tx.client.query('UPDATE users SET disabled_at = now() WHERE id = $1', [userId]),
    );
    const { url, jar } = await ssoSignIn(h, 'rf-unverified', login);
    expect(url).toBe(failed('sso_no_account'));
    expect(sessionOf(jar)).toBeUndefined();
  });
});

describe('tenants without SSO and cross-tenant use', () => {
  test('a tenant without SSO, one with SSO disabled, and an unknown slug all answer sso_unavailable', async () => {
    const none = await db.seedTenant({ slug: 'rf-none' });
    await ssoTenant('rf-off', 'tessera-a', { enabled: false });
    for (const slug of ['rf-none', 'rf-off', 'rf-missing']) {
      const { url, jar } = await ssoSignIn(h, slug, 'nobody');
      expect(url, slug).toBe(failed('sso_unavailable'));
      expect(sessionOf(jar)).toBeUndefined();
    }
    expect(
      await deliverCallback(
        h,
        `${h.origin}/auth/callback/tenant-rf-none?code=x&state=y`,
        new CookieJar(),
      ),
    ).toBe(failed('sso_failed'));
    expect(await count('SELECT count(*) AS n FROM sessions WHERE tenant_id = $1', [none.id])).toBe(
      0,
    );
  });

  test("a sign-in started at tenant A's provider cannot be completed at tenant B", async () => {
    const a = await ssoTenant('rf-cross-a');
    const b = await ssoTenant('rf-cross-b', 'tessera-b');
    await tesseraUser(a.id, 'cross@example.com', true);
    await tesseraUser(b.id, 'cross@example.com', true);
    const login = idpAccount('cross@example.com');
    const { jar, url } = await ssoSignIn(h, 'rf-cross-a', login, { stopAtCallback: true });
    const atB = url.replace('/auth/callback/tenant-rf-cross-a', '/auth/callback/tenant-rf-cross-b');
    expect(await deliverCallback(h, atB, jar)).toBe(failed('sso_failed'));
    expect(sessionOf(jar)).toBeUndefined();
    expect(await count('SELECT count(*) AS n FROM sessions WHERE tenant_id = $1', [b.id])).toBe(0);
    expect(
      await count('SELECT count(*) AS n FROM user_identities WHERE tenant_id = $1', [b.id]),
    ).toBe(0);
  });

  test('an identity linked in tenant A is nothing in tenant B: B decides by its own links and rules', async () => {
    const [a] = (
      await db.owner.pool.query<{ id: string }>("SELECT id FROM tenants WHERE slug = 'rf-cross-a'")
    ).rows;
    const [b] = (
      await db.owner.pool.query<{ id: string }>("SELECT id FROM tenants WHERE slug = 'rf-cross-b'")
    ).rows;
    const login = idpAccount('only-in-a@example.com');
    await tesseraUser(a?.id ?? '', 'only-in-a@example.com', true);
    expect((await ssoSignIn(h, 'rf-cross-a', login)).url).toBe(`${h.origin}/`);
    const { url, jar } = await ssoSignIn(h, 'rf-cross-b', login);
    expect(url).toBe(failed('sso_no_account'));
    expect(sessionOf(jar)).toBeUndefined();
    expect(
      await count('SELECT count(*) AS n FROM user_identities WHERE tenant_id = $1', [b?.id]),
    ).toBe(0);
  });
});
