// The other flows of the tenant OpenID Provider, with openid-client over real HTTP: client
// credentials for machine clients (secret checked against its stored hash only), the device
// authorization grant (RFC 8628) through the console session and consent, RP-initiated logout
// (only to a registered URI), signing-key rotation with the old key still published, and a user
// revoking an app they authorised (docs/design.md rules 4 and 6; RFC 9700 §4.14).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { callerFor, testServices } from '@tessera/api-contract/testing';
import { generateSigningKey, rotateSigningKey } from '@tessera/auth/oidc';
import { auditLogs } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  authorizationUrl,
  client,
  POST_LOGOUT_URI,
  REDIRECT_URI,
  registerClient,
  relyingParty,
  runBrowser,
  sessionToken,
  signUpTenant,
  startOidcHarness,
  type OidcHarness,
  type OidcTenant,
} from '../testing/oidc-harness.js';
import { browse, type CookieJar } from '../testing/sso-test-idp.js';

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

async function signedInTokens(t: OidcTenant, rp: client.Configuration) {
  const attempt = await authorizationUrl(rp);
  const done = await runBrowser(h, attempt.url, t.jar, null);
  return client.authorizationCodeGrant(rp, new URL(done.url), {
    pkceCodeVerifier: attempt.verifier,
    expectedState: attempt.state,
    expectedNonce: attempt.nonce,
  });
}

/** Submits the provider's form `id` (its hidden fields, e.g. the xsrf token) with `extra`. */
async function submitForm(
  html: string,
  id: string,
  pageUrl: string,
  jar: CookieJar,
  extra: Record<string, string>,
  stop: (url: string) => boolean,
) {
  const form =
    new RegExp(`<form[^>]*id="${id}"[^>]*action="([^"]+)"[^>]*>([\\s\\S]*?)</form>`).exec(html) ??
    (id === '' ? /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html) : null);
  if (!form) throw new Error(`no form ${id} in ${html.slice(0, 300)}`);
  const fields = new URLSearchParams();
  for (const input of (form[2] ?? '').matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g))
    fields.set(input[1] ?? '', input[2] ?? '');
  for (const [k, v] of Object.entries(extra)) fields.set(k, v);
  return browse(new URL(form[1] ?? '', pageUrl).href, jar, stop, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: h.origin },
    body: fields.toString(),
  });
}

describe('client credentials', () => {
  test('a machine client gets a JWT for its allowed API scopes; a scope it lacks is dropped, a wrong secret refused', async () => {
    const t = await signUpTenant(h, db);
    const { clientId, clientSecret } = await registerClient(db, t, {
      kind: 'machine',
      scopes: ['orders:read'],
    });
    const rp = await relyingParty(t.issuer, clientId, clientSecret);
    const tokens = await client.clientCredentialsGrant(rp, { scope: 'orders:read' });
    const jwks = createRemoteJWKSet(new URL(`${t.issuer}/jwks`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: t.issuer,
      audience: `urn:tessera:${t.slug}:api`,
    });
    expect(payload).toMatchObject({
      client_id: clientId,
      tenant_id: t.tenantId,
      scope: 'orders:read',
    });
    // A scope the client was not given is never in its token (RFC 6749 §3.3: narrowed).
    const narrowed = await client.clientCredentialsGrant(rp, { scope: 'orders:write orders:read' });
    const { payload: narrow } = await jwtVerify(narrowed.access_token, jwks);
    expect(narrow['scope']).toBe('orders:read');
    const wrong = await relyingParty(t.issuer, clientId, `${clientSecret ?? ''}x`);
    await expect(
      client.clientCredentialsGrant(wrong, { scope: 'orders:read' }),
    ).rejects.toMatchObject({
      status: 401,
    });
    const actions = await auditActions(t.tenantId);
    expect(actions).toContain('oidc.token.issued');
    expect(actions).toContain('oidc.token.refused');
  });
});

describe('device authorization', () => {
  test('a CLI gets tokens after the signed-in user confirms the code and consents', async () => {
    const t = await signUpTenant(h, db);
    const { clientId } = await registerClient(db, t, { kind: 'native' });
    const rp = await relyingParty(t.issuer, clientId, null);
    const device = await client.initiateDeviceAuthorization(rp, { scope: 'openid offline_access' });
    expect(device.verification_uri).toBe(`${t.issuer}/device`);
    const confirmPage = await browse(device.verification_uri_complete ?? '', t.jar);
    // The provider first posts the code to itself (an auto-submitted form), then asks to confirm.
    const posted = await submitForm(
      await confirmPage.response.text(),
      '',
      confirmPage.url,
      t.jar,
      {},
      () => false,
    );
    const html = await posted.response.text();
    expect(html).toContain(device.user_code);
    const afterConfirm = await submitForm(
      html,
      'op.deviceConfirmForm',
      posted.url,
      t.jar,
      {},
      () => false,
    );
    // Sign-in is the console session; consent is Tessera's page.
    expect(afterConfirm.url).toContain('/interaction/');
    const done = await browse(`${afterConfirm.url}/confirm`, t.jar, () => false, {
      method: 'POST',
      headers: { origin: h.origin },
    });
    expect(await done.response.text()).toContain('Device connected');
    const tokens = await client.pollDeviceAuthorizationGrant(rp, device);
    expect(tokens.claims()?.sub).toBe(t.userId);
    expect(tokens.refresh_token).toBeTruthy();
  });
});

describe('logout', () => {
  test('RP-initiated logout ends the provider session and returns to the registered URI; prompt=none then needs a login', async () => {
    const t = await signUpTenant(h, db);
    const { clientId, clientSecret } = await registerClient(db, t, { kind: 'web' });
    const rp = await relyingParty(t.issuer, clientId, clientSecret);
    const tokens = await signedInTokens(t, rp);
    const url = client.buildEndSessionUrl(rp, {
      id_token_hint: tokens.id_token ?? '',
      post_logout_redirect_uri: POST_LOGOUT_URI,
      state: 'bye',
    });
    const confirm = await browse(url.href, t.jar);
    const html = await confirm.response.text();
    const out = await submitForm(
      html,
      'op.logoutForm',
      confirm.url,
      t.jar,
      { logout: 'yes' },
      (u) => u.startsWith(POST_LOGOUT_URI),
    );
    expect(out.url).toBe(`${POST_LOGOUT_URI}?state=bye`);
    const silent = await authorizationUrl(rp, { prompt: 'none' });
    const again = await browse(silent.url, t.jar, (u) => u.startsWith(REDIRECT_URI));
    expect(new URL(again.url).searchParams.get('error')).toBe('login_required');
    expect(await auditActions(t.tenantId)).toContain('oidc.logout');
  });
});

describe('back-channel logout', () => {
  test("logging out sends the app a signed logout token for the user's session", async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const t = await signUpTenant(h, db);
      const { clientId, clientSecret } = await registerClient(db, t, {
        kind: 'web',
        backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel`,
      });
      const rp = await relyingParty(t.issuer, clientId, clientSecret);
      const tokens = await signedInTokens(t, rp);
      const url = client.buildEndSessionUrl(rp, {
        id_token_hint: tokens.id_token ?? '',
        post_logout_redirect_uri: POST_LOGOUT_URI,
      });
      const confirm = await browse(url.href, t.jar);
      await submitForm(
        await confirm.response.text(),
        'op.logoutForm',
        confirm.url,
        t.jar,
        {
          logout: 'yes',
        },
        (u) => u.startsWith(POST_LOGOUT_URI),
      );
      for (let i = 0; i < 40 && received.length === 0; i += 1)
        await new Promise((resolve) => setTimeout(resolve, 50));
      const rows = await db.withTenant(t.tenantId, (tx) =>
        tx.select({ action: auditLogs.action, metadata: auditLogs.metadata }).from(auditLogs),
      );
      expect(
        rows.filter((r) => r.action.startsWith('oidc.backchannel')),
        JSON.stringify(rows.slice(-4)),
      ).toEqual([expect.objectContaining({ action: 'oidc.backchannel_logout.sent' })]);
      expect(received).toHaveLength(1);
      const { payload } = await jwtVerify(
        received[0] ?? '',
        createRemoteJWKSet(new URL(`${t.issuer}/jwks`)),
        { issuer: t.issuer, audience: clientId },
      );
      expect(payload['sub']).toBe(t.userId);
      expect(payload['sid']).toBe(tokens.claims()?.['sid']);
      expect(payload['events']).toHaveProperty([
        'http://schemas.openid.net/event/backchannel-logout',
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('signing keys', () => {
  test('after a rotation the new key signs and the old one stays published for its tokens', async () => {
    const t = await signUpTenant(h, db);
    const { clientId, clientSecret } = await registerClient(db, t, { kind: 'web' });
    const rp = await relyingParty(t.issuer, clientId, clientSecret);
    const before = await signedInTokens(t, rp);
    const oldKid = decodeProtectedHeader(before.access_token).kid;
    const key = await generateSigningKey();
    const actor = { userId: t.userId, origin: { ip: null, userAgent: null } };
    await db.withTenant(t.tenantId, (tx) =>
      rotateSigningKey(tx, actor, {
        key,
        keyring: services.accounts.keyring,
        now: new Date(),
        activateAfterSeconds: 0,
      }),
    );
    // Another node (a fresh server) reads the key set from the database.
    const other = await startOidcHarness(db, services);
    try {
      const issuer = `${other.origin}/oidc/${t.slug}`;
      const jwks = (await (await fetch(`${issuer}/jwks`)).json()) as { keys: { kid: string }[] };
      expect(jwks.keys.map((k) => k.kid).sort()).toEqual([key.kid, oldKid].sort());
      const otherRp = await relyingParty(issuer, clientId, clientSecret);
      const jar = t.jar;
      jar.set('127.0.0.1', 'tessera_session', sessionToken(t.jar, t.issuer));
      const attempt = await authorizationUrl(otherRp);
      const done = await runBrowser(other, attempt.url, jar, null);
      const after = await client.authorizationCodeGrant(otherRp, new URL(done.url), {
        pkceCodeVerifier: attempt.verifier,
        expectedState: attempt.state,
        expectedNonce: attempt.nonce,
      });
      expect(decodeProtectedHeader(after.access_token).kid).toBe(key.kid);
      await jwtVerify(before.access_token, createRemoteJWKSet(new URL(`${issuer}/jwks`)));
    } finally {
      await other.close();
    }
    expect(await auditActions(t.tenantId)).toContain('oidc.signing_key.rotated');
  });
});

describe('apps a user authorised', () => {
  test('the user lists the app and revokes it; its refresh token dies', async () => {
    const t = await signUpTenant(h, db);
    const { clientId, clientSecret } = await registerClient(db, t, { kind: 'web' });
    const rp = await relyingParty(t.issuer, clientId, clientSecret);
    const tokens = await signedInTokens(t, rp);
    const caller = await callerFor(db.app, sessionToken(t.jar, t.issuer), { services });
    const apps = await caller.oidc.myApps();
    expect(apps).toEqual([
      expect.objectContaining({ clientId, scopes: ['email', 'offline_access', 'openid'] }),
    ]);
    await caller.oidc.revokeMyApp({ clientId });
    expect(await caller.oidc.myApps()).toEqual([]);
    await expect(client.refreshTokenGrant(rp, tokens.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await auditActions(t.tenantId)).toContain('oidc.grant.revoked');
  });
});
