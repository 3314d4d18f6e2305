/**
 * Test support for the OpenID Provider suites: Tessera over real HTTP on 127.0.0.1 (the whole
 * server, as build-server.ts makes it), users signed up and signed in through the console's own
 * tRPC calls with a browser-like cookie jar, and relying parties made with `openid-client`.
 */
import { randomBytes } from 'node:crypto';
import { createOidcClient, type CreateOidcClientParams } from '@tessera/auth/oidc';
import { beginEnrollment, confirmEnrollment, totpCodeAt } from '@tessera/auth/mfa';
import {
  principalFromToken,
  signUpOwner,
  STRONG_PASSWORD,
  type testServices,
} from '@tessera/api-contract/testing';
import { freePort, type TestDatabase } from '@tessera/db/testing';
import * as client from 'openid-client';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';
import { browse, CookieJar } from './sso-test-idp.js';

export interface OidcHarness {
  origin: string;
  close(): Promise<void>;
}

export async function startOidcHarness(
  db: TestDatabase,
  services: ReturnType<typeof testServices>,
): Promise<OidcHarness> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const app = await buildServer(
    {
      ...defaultApiConfig,
      publicUrl: origin,
      logLevel: 'silent',
      rateLimit: { max: 100_000, windowMs: 60_000 },
    },
    { database: db.app, services },
  );
  await app.listen({ port, host: '127.0.0.1' });
  return { origin, close: () => app.close() };
}

/** A tRPC mutation over HTTP as the console makes it; stores the cookies it sets. */
export async function trpc<T = unknown>(
  h: OidcHarness,
  jar: CookieJar,
  path: string,
  input: unknown,
): Promise<T> {
  const url = `${h.origin}/trpc/${path}`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: h.origin, cookie: jar.header(url) },
    body: JSON.stringify(input),
  });
  jar.store(url, res);
  const body = (await res.json()) as { result?: { data: T }; error?: unknown };
  if (!body.result) throw new Error(`${path} failed: ${JSON.stringify(body.error)}`);
  return body.result.data;
}

export interface OidcTenant {
  slug: string;
  tenantId: string;
  userId: string;
  email: string;
  /** Console session of the owner (signed up over HTTP). */
  jar: CookieJar;
  issuer: string;
}

/**
 * A new tenant and its owner with a console session in `jar` (signed up in-process: sign-up over
 * HTTP is rate limited per address, and every test here comes from 127.0.0.1).
 */
export async function signUpTenant(
  h: OidcHarness,
  db: TestDatabase,
  prefix = 'rp',
): Promise<OidcTenant> {
  const owner = await signUpOwner(db.app, {
    email: `owner-${randomBytes(4).toString('hex')}@${prefix}.test`,
  });
  const jar = new CookieJar();
  jar.set(new URL(h.origin).hostname, 'tessera_session', owner.token);
  return {
    slug: owner.tenant.slug,
    tenantId: owner.tenant.id,
    userId: owner.user.id,
    email: owner.user.email,
    jar,
    issuer: `${h.origin}/oidc/${owner.tenant.slug}`,
  };
}

/** Enrols TOTP for the tenant's owner (one step back, so a current code is still unused). */
export async function enrolTotp(
  db: TestDatabase,
  services: ReturnType<typeof testServices>,
  t: OidcTenant,
): Promise<string> {
  const token = sessionToken(t.jar, t.issuer);
  const principal = await principalFromToken(db.app, token);
  const who = {
    tenantId: t.tenantId,
    userId: t.userId,
    sessionId: principal?.kind === 'session' ? principal.sessionId : '',
  };
  const now = new Date(Date.now() - 30_000);
  const request = { ip: '203.0.113.9', userAgent: 'vitest' };
  const { secret } = await db.withTenant(t.tenantId, (tx) =>
    beginEnrollment(tx, { actor: who, deps: services.accounts, now }),
  );
  await db.withTenant(t.tenantId, (tx) =>
    confirmEnrollment(
      tx,
      { deps: services.accounts, actor: who, request, now },
      totpCodeAt(secret, now),
    ),
  );
  return secret;
}

export function sessionToken(jar: CookieJar, url: string): string {
  return jar.get(new URL(url).hostname, 'tessera_session') ?? '';
}

/** Console sign-in over HTTP (and the TOTP step when the user has a factor). */
export async function consoleSignIn(
  h: OidcHarness,
  t: OidcTenant,
  jar: CookieJar,
  totpSecret?: string,
): Promise<void> {
  const first = await trpc<{ status: string; challengeToken?: string }>(h, jar, 'auth.signIn', {
    tenantSlug: t.slug,
    email: t.email,
    password: STRONG_PASSWORD,
  });
  if (first.status === 'mfa_required') {
    if (!totpSecret) throw new Error('mfa required');
    await trpc(h, jar, 'auth.verifyMfa', {
      challengeToken: first.challengeToken,
      code: totpCodeAt(totpSecret, new Date()),
    });
  }
}

export async function registerClient(
  db: TestDatabase,
  t: OidcTenant,
  params: Partial<CreateOidcClientParams> & Pick<CreateOidcClientParams, 'kind'>,
): Promise<{ clientId: string; clientSecret: string | null }> {
  const actor = { userId: t.userId, origin: { ip: null, userAgent: null } };
  const { client: view, clientSecret } = await db.withTenant(t.tenantId, (tx) =>
    createOidcClient(
      tx,
      actor,
      {
        name: `App ${params.kind}`,
        redirectUris: params.kind === 'machine' ? [] : [REDIRECT_URI],
        postLogoutRedirectUris: params.kind === 'machine' ? [] : [POST_LOGOUT_URI],
        scopes: ['openid', 'email', 'profile', 'offline_access'],
        ...params,
      },
      new Date(),
    ),
  );
  return { clientId: view.clientId, clientSecret };
}

export const REDIRECT_URI = 'http://localhost:8123/callback';
export const POST_LOGOUT_URI = 'http://localhost:8123/signed-out';

/** An openid-client configuration by discovery over HTTP (loopback: insecure requests allowed). */
export async function relyingParty(
  issuer: string,
  clientId: string,
  clientSecret: string | null,
): Promise<client.Configuration> {
  return client.discovery(
    new URL(issuer),
    clientId,
    undefined,
    clientSecret ? client.ClientSecretBasic(clientSecret) : client.None(),
    { execute: [client.allowInsecureRequests] },
  );
}

export interface AuthorizationAttempt {
  url: string;
  verifier: string;
  state: string;
  nonce: string;
}

export async function authorizationUrl(
  rp: client.Configuration,
  extra: Record<string, string> = {},
): Promise<AuthorizationAttempt> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    // OpenID Connect Core §11: offline_access is granted only with prompt=consent.
    prompt: 'consent',
    state,
    nonce,
    ...extra,
  });
  return { url: url.href, verifier, state, nonce };
}

/**
 * Drives the browser part: authorize, the console sign-in when asked (`signIn`), consent (Allow),
 * until the redirect to the app. Returns every URL visited and where it ended.
 */
export async function runBrowser(
  h: OidcHarness,
  start: string,
  jar: CookieJar,
  signIn: (() => Promise<void>) | null,
  options: { consent?: 'confirm' | 'deny' } = {},
): Promise<{ url: string; visited: string[] }> {
  const visited: string[] = [];
  const atApp = (u: string): boolean => !u.startsWith(`${h.origin}/`);
  const atSignIn = (u: string): boolean => u.startsWith(`${h.origin}/sign-in`);
  let result = await browse(start, jar, (u) => atApp(u) || atSignIn(u));
  visited.push(...result.hops.map((x) => x.url), result.url);
  for (let round = 0; round < 4 && !atApp(result.url); round += 1) {
    if (atSignIn(result.url)) {
      if (!signIn) return { url: result.url, visited };
      await signIn();
      const next = new URL(result.url).searchParams.get('next') ?? '/';
      result = await browse(`${h.origin}${next}`, jar, (u) => atApp(u) || atSignIn(u));
    } else if (result.response.status === 200 && result.url.includes('/interaction/')) {
      result = await browse(`${result.url}/${options.consent ?? 'confirm'}`, jar, atApp, {
        method: 'POST',
        headers: { origin: h.origin },
      });
    } else break;
    visited.push(...result.hops.map((x) => x.url), result.url);
  }
  return { url: result.url, visited };
}

export { client, CookieJar };
