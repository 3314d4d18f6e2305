// Attacks on the tenant OpenID Provider, each refused over real HTTP with a real relying party
// (openid-client): redirect URI mismatch and open redirect (RFC 9700 §4.1; exact matching), an
// authorization code replayed (RFC 6749 §4.1.2: refused, and the tokens it gave are revoked), PKCE
// downgrade (none, `plain`, or a missing verifier; OAuth 2.1 §4.1.1), a token of tenant A presented
// at tenant B's issuer (docs/design.md rule 1), and a disabled user's refresh token.
import { disableUserRow } from '@tessera/auth/accounts';
import { testServices } from '@tessera/api-contract/testing';
import { useTestDatabase } from '@tessera/db/testing';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  authorizationUrl,
  client,
  registerClient,
  relyingParty,
  REDIRECT_URI,
  runBrowser,
  signUpTenant,
  startOidcHarness,
  type OidcHarness,
  type OidcTenant,
} from '../testing/oidc-harness.js';
import { browse } from '../testing/sso-test-idp.js';

const db = useTestDatabase();
const services = testServices();
let h: OidcHarness;

beforeAll(async () => {
  h = await startOidcHarness(db, services);
});
afterAll(async () => h?.close());

async function signedInApp(t: OidcTenant) {
  const { clientId, clientSecret } = await registerClient(db, t, { kind: 'web' });
  const rp = await relyingParty(t.issuer, clientId, clientSecret);
  return { rp, clientId, clientSecret };
}

async function codeFor(t: OidcTenant, rp: client.Configuration) {
  const attempt = await authorizationUrl(rp);
  const done = await runBrowser(h, attempt.url, t.jar, null);
  return { attempt, callback: new URL(done.url) };
}

function withParam(url: string, name: string, value: string | null): string {
  const u = new URL(url);
  if (value === null) u.searchParams.delete(name);
  else u.searchParams.set(name, value);
  return u.href;
}

describe('redirects', () => {
  test.each([
    ['another path on the registered host', 'http://localhost:8123/other'],
    ['a registered URI with extra query', `${REDIRECT_URI}?next=https://evil.example`],
    ['an attacker host (open redirect)', 'https://evil.example/callback'],
    ['a prefix trick', 'http://localhost:8123/callback.evil.example'],
  ])(
    'an unregistered redirect_uri (%s) is refused on the page, never redirected to',
    async (_n, bad) => {
      const t = await signUpTenant(h, db);
      const { rp } = await signedInApp(t);
      const attempt = await authorizationUrl(rp);
      const res = await fetch(withParam(attempt.url, 'redirect_uri', bad), {
        redirect: 'manual',
        headers: { cookie: t.jar.header(t.issuer) },
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('redirect_uri');
    },
  );

  test('a post_logout_redirect_uri that is not registered is not followed', async () => {
    const t = await signUpTenant(h, db);
    const { rp } = await signedInApp(t);
    const { attempt, callback } = await codeFor(t, rp);
    const tokens = await client.authorizationCodeGrant(rp, callback, {
      pkceCodeVerifier: attempt.verifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
    });
    const url = client.buildEndSessionUrl(rp, {
      id_token_hint: tokens.id_token ?? '',
      post_logout_redirect_uri: 'https://evil.example/out',
    });
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: t.jar.header(t.issuer) },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });
});

describe('codes and PKCE', () => {
  test('a code works once; replaying it is refused and revokes what it gave', async () => {
    const t = await signUpTenant(h, db);
    const { rp } = await signedInApp(t);
    const { attempt, callback } = await codeFor(t, rp);
    const checks = {
      pkceCodeVerifier: attempt.verifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
    };
    const tokens = await client.authorizationCodeGrant(rp, callback, checks);
    await expect(client.authorizationCodeGrant(rp, callback, checks)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    await expect(client.refreshTokenGrant(rp, tokens.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  test.each([
    ['without code_challenge', { code_challenge: null, code_challenge_method: null }],
    ['with code_challenge_method=plain', { code_challenge_method: 'plain' }],
  ])('an authorization request %s is refused', async (_n, change) => {
    const t = await signUpTenant(h, db);
    const { rp } = await signedInApp(t);
    let { url } = await authorizationUrl(rp);
    for (const [name, value] of Object.entries(change)) url = withParam(url, name, value);
    const done = await browse(url, t.jar, (u) => u.startsWith(REDIRECT_URI));
    expect(new URL(done.url).searchParams.get('error')).toBe('invalid_request');
    expect(new URL(done.url).searchParams.get('code')).toBeNull();
  });

  test('a code exchanged without its verifier, or with another one, is refused', async () => {
    const t = await signUpTenant(h, db);
    const { rp, clientId, clientSecret } = await signedInApp(t);
    const { callback } = await codeFor(t, rp);
    const code = callback.searchParams.get('code') ?? '';
    const exchange = (extra: Record<string, string>) =>
      fetch(`${t.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
          ...extra,
        }),
      });
    const missing = await exchange({});
    expect(missing.status).toBe(400);
    const wrong = await exchange({ code_verifier: client.randomPKCECodeVerifier() });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_grant');
  });
});

describe('tenants and users', () => {
  test("tenant A's tokens mean nothing at tenant B's issuer", async () => {
    const a = await signUpTenant(h, db);
    const b = await signUpTenant(h, db);
    const appA = await signedInApp(a);
    const { attempt, callback } = await codeFor(a, appA.rp);
    const tokens = await client.authorizationCodeGrant(appA.rp, callback, {
      pkceCodeVerifier: attempt.verifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
    });
    // A's client does not exist at B: client authentication fails (401, invalid_client).
    const aAtB = await relyingParty(b.issuer, appA.clientId, appA.clientSecret);
    await expect(client.refreshTokenGrant(aAtB, tokens.refresh_token ?? '')).rejects.toMatchObject({
      status: 401,
    });
    // B's own client cannot use or introspect A's tokens.
    const appB = await signedInApp(b);
    await expect(
      client.refreshTokenGrant(appB.rp, tokens.refresh_token ?? ''),
    ).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    const introspected = await client.tokenIntrospection(appB.rp, tokens.refresh_token ?? '');
    expect(introspected.active).toBe(false);
    // A's signed access token does not verify against B's keys or issuer.
    const jwksB = createRemoteJWKSet(new URL(`${b.issuer}/jwks`));
    await expect(jwtVerify(tokens.access_token, jwksB, { issuer: b.issuer })).rejects.toThrow();
  });

  test("a disabled user's refresh token stops working", async () => {
    const owner = await signUpTenant(h, db);
    const { rp } = await signedInApp(owner);
    const { attempt, callback } = await codeFor(owner, rp);
    const tokens = await client.authorizationCodeGrant(rp, callback, {
      pkceCodeVerifier: attempt.verifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
    });
    await db.withTenant(owner.tenantId, (tx) => disableUserRow(tx, owner.userId, new Date()));
    await expect(client.refreshTokenGrant(rp, tokens.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });
});
