// Tessera as an OpenID Provider, driven by a real relying party (openid-client) over HTTP against
// the whole server and PostgreSQL: discovery and JWKS per tenant, authorization code with PKCE
// through the console's own sign-in (MFA included) and a consent page, JWT access tokens with the
// tenant, scopes and acr/amr, and refresh tokens rotated on every use, a reused one revoking the
// whole grant (RFC 9700 §4.14.2; OAuth 2.1 §4.3.1; docs/design.md rules 4 and 6).
import { testServices } from '@tessera/api-contract/testing';
import { auditLogs } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  authorizationUrl,
  client,
  consoleSignIn,
  CookieJar,
  enrolTotp,
  registerClient,
  relyingParty,
  runBrowser,
  signUpTenant,
  startOidcHarness,
  type OidcHarness,
} from '../testing/oidc-harness.js';

const db = useTestDatabase();
const services = testServices();
let h: OidcHarness;

beforeAll(async () => {
  h = await startOidcHarness(db, services);
});
afterAll(async () => h?.close());

async function auditActions(tenantId: string): Promise<string[]> {
  const rows = await db.withTenant(tenantId, (tx) =>
    tx.select({ action: auditLogs.action }).from(auditLogs),
  );
  return rows.map((r) => r.action);
}

describe('discovery and keys', () => {
  test('each tenant has its own issuer, discovery document and JWKS, advertising code + PKCE S256 only', async () => {
    const a = await signUpTenant(h, db);
    const b = await signUpTenant(h, db);
    const docA = (await (
      await fetch(`${a.issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    const docB = (await (
      await fetch(`${b.issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(docA['issuer']).toBe(a.issuer);
    expect(docB['issuer']).toBe(b.issuer);
    expect(docA['response_types_supported']).toEqual(['code']);
    expect(docA['code_challenge_methods_supported']).toEqual(['S256']);
    expect(docA['grant_types_supported']).not.toContain('password');
    expect(docA['grant_types_supported']).not.toContain('implicit');
    const jwksA = (await (await fetch(String(docA['jwks_uri']))).json()) as {
      keys: { kid: string; d?: string }[];
    };
    const jwksB = (await (await fetch(String(docB['jwks_uri']))).json()) as {
      keys: { kid: string }[];
    };
    expect(jwksA.keys.length).toBe(1);
    expect(jwksA.keys[0]).not.toHaveProperty('d'); // public half only
    expect(jwksA.keys[0]?.kid).not.toBe(jwksB.keys[0]?.kid);
  });

  test('an unknown tenant has no issuer', async () => {
    const res = await fetch(`${h.origin}/oidc/no-such-tenant/.well-known/openid-configuration`);
    expect(res.status).toBe(404);
  });
});

describe('authorization code with PKCE', () => {
  test('a signed-in user authorises an app: consent, code, ID token and a JWT access token with tenant, scopes and acr/amr', async () => {
    const t = await signUpTenant(h, db);
    const { clientId, clientSecret } = await registerClient(db, t, { kind: 'web' });
    const rp = await relyingParty(t.issuer, clientId, clientSecret);
    const attempt = await authorizationUrl(rp);
    const done = await runBrowser(h, attempt.url, t.jar, null);
    expect(done.visited.some((u) => u.includes('/interaction/'))).toBe(true);
    const tokens = await client.authorizationCodeGrant(rp, new URL(done.url), {
      pkceCodeVerifier: attempt.verifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
    });
    const claims = tokens.claims();
    expect(claims).toMatchObject({ iss: t.issuer, sub: t.userId, aud: clientId, email: t.email });
    expect(claims?.['tenant_id']).toBe(t.tenantId);
    const jwks = createRemoteJWKSet(new URL(`${t.issuer}/jwks`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: t.issuer,
      audience: `urn:tessera:${t.slug}:api`,
    });
    expect(payload).toMatchObject({
      sub: t.userId,
      client_id: clientId,
      tenant_id: t.tenantId,
      acr: 'aal1',
      amr: ['pwd'],
    });
    expect(String(payload['scope']).split(' ').sort()).toEqual([
      'email',
      'offline_access',
      'openid',
    ]);
    expect(tokens.refresh_token).toBeTruthy();
    const actions = await auditActions(t.tenantId);
    expect(actions).toContain('oidc.consent.granted');
    expect(actions).toContain('oidc.token.issued');
  });

  test('a user who is not signed in goes through the console sign-in with MFA and comes back at aal2', async () => {
    const t = await signUpTenant(h, db);
    const secret = await enrolTotp(db, services, t);
    const { clientId } = await registerClient(db, t, { kind: 'spa' });
    const rp = await relyingParty(t.issuer, clientId, null);
    const attempt = await authorizationUrl(rp);
    const jar = new CookieJar();
    const done = await runBrowser(h, attempt.url, jar, () => consoleSignIn(h, t, jar, secret));
    expect(done.visited.some((u) => u.startsWith(`${h.origin}/sign-in?`))).toBe(true);
    const tokens = await client.authorizationCodeGrant(rp, new URL(done.url), {
      pkceCodeVerifier: attempt.verifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
    });
    const jwks = createRemoteJWKSet(new URL(`${t.issuer}/jwks`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: t.issuer });
    expect(payload).toMatchObject({ acr: 'aal2', amr: ['pwd', 'mfa'], sub: t.userId });
  });

  test('prompt=login sends a signed-in user to sign in again; max_age does when the session is older', async () => {
    const t = await signUpTenant(h, db);
    const { clientId, clientSecret } = await registerClient(db, t, { kind: 'web' });
    const rp = await relyingParty(t.issuer, clientId, clientSecret);
    const forced = await runBrowser(
      h,
      (await authorizationUrl(rp, { prompt: 'login' })).url,
      t.jar,
      null,
    );
    expect(forced.url).toMatch(/\/sign-in\?.*reauth=1/);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const aged = await runBrowser(
      h,
      (await authorizationUrl(rp, { max_age: '0' })).url,
      t.jar,
      null,
    );
    expect(aged.url).toMatch(/\/sign-in\?.*reauth=1/);
    // A fresh sign-in satisfies both.
    const attempt = await authorizationUrl(rp, { prompt: 'login' });
    const done = await runBrowser(h, attempt.url, t.jar, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1100)); // a person takes a while
      await consoleSignIn(h, t, t.jar);
    });
    expect(done.url.startsWith('http://localhost:8123/callback?code=')).toBe(true);
  });

  test('denying consent returns access_denied to the app and is audited', async () => {
    const t = await signUpTenant(h, db);
    const { clientId, clientSecret } = await registerClient(db, t, { kind: 'web' });
    const rp = await relyingParty(t.issuer, clientId, clientSecret);
    const attempt = await authorizationUrl(rp);
    const done = await runBrowser(h, attempt.url, t.jar, null, { consent: 'deny' });
    expect(new URL(done.url).searchParams.get('error')).toBe('access_denied');
    expect(await auditActions(t.tenantId)).toContain('oidc.consent.denied');
  });
});

describe('refresh tokens', () => {
  test('each refresh rotates the token; presenting a used one revokes the whole grant', async () => {
    const t = await signUpTenant(h, db);
    const { clientId, clientSecret } = await registerClient(db, t, { kind: 'web' });
    const rp = await relyingParty(t.issuer, clientId, clientSecret);
    const attempt = await authorizationUrl(rp);
    const done = await runBrowser(h, attempt.url, t.jar, null);
    const first = await client.authorizationCodeGrant(rp, new URL(done.url), {
      pkceCodeVerifier: attempt.verifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
    });
    const r1 = first.refresh_token ?? '';
    const second = await client.refreshTokenGrant(rp, r1);
    const r2 = second.refresh_token ?? '';
    expect(r2).toBeTruthy();
    expect(r2).not.toBe(r1);
    // The attacker replays the first token: refused, and the legitimate successor dies with it.
    await expect(client.refreshTokenGrant(rp, r1)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    await expect(client.refreshTokenGrant(rp, r2)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    const actions = await auditActions(t.tenantId);
    expect(actions).toContain('oidc.grant.revoked');
    expect(actions).toContain('oidc.token.refused');
  });
});
