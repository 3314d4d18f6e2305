/**
 * Single sign-on routes (docs/sso.md). @auth/core's `Auth()` runs the protocol
 * (authorization code + PKCE, state, nonce, token exchange, ID-token and userinfo validation);
 * this plugin only converts between Fastify and Web Request/Response, builds the Auth.js config
 * per request from the tenant's row, and turns the validated assertion into a Tessera session.
 *
 *   GET /auth/sso/:tenantSlug/start[?provider=<platform id>]  -> 302 to the identity provider
 *   GET /auth/callback/tenant-<slug> | /auth/callback/<platform id>  -> 302 to the console
 *
 * Decisions: the Web Request is built on PUBLIC_URL, never on the Host header, so `trustHost:
 * true` trusts only configuration. `skipCSRFCheck`: Auth.js's CSRF token guards its POST actions;
 * the only one reached is sign-in start, which this plugin synthesises itself behind a GET, and a
 * forced start can only sign a browser in as whoever authenticates at the provider in that same
 * browser (state, PKCE and nonce cookies bind the callback to it). Auth.js never issues its own
 * session: `signIn` always answers with a redirect, and only its state/PKCE/nonce cookies are
 * forwarded. Every outbound call goes through the guarded fetch (docs/design.md "Outbound URLs").
 * Refusals land on the console as `/sign-in?sso_error=<code>`, never with details.
 */
import { Auth, customFetch, skipCSRFCheck, type AuthConfig } from '@auth/core';
import type { Account, Profile } from '@auth/core/types';
import type { Services } from '@tessera/api-contract';
import {
  completeSsoSignIn,
  loadSsoConnection,
  parseSessionSecretRing,
  PROVIDER_ID,
  TENANT_PROVIDER,
  tenantProviderId,
  type PlatformProvider,
  type SessionSecretRing,
  type SsoAssertion,
  type SsoConnection,
  type SsoSignInResult,
} from '@tessera/auth/sso';
import { createGuardedFetch, type FetchLike, type OutboundPolicy } from '@tessera/auth/outbound';
import { lookupTenantBySlug, type Database } from '@tessera/db';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { finishFlow, ipLimited, refuseFlow } from './sso-redirects.js';

export interface SsoPluginOptions {
  database: Database;
  services: Services;
  /** PUBLIC_URL: the origin of the console and of these routes. */
  publicUrl: string;
  /** The session cookie's name (sessionCookieName(publicUrl)). */
  cookieName: string;
  /** SESSION_SECRET ring `v2:base64,v1:base64`. */
  sessionSecret: string;
  platformProviders: readonly PlatformProvider[];
  /** `production` unless NODE_ENV is development or test. */
  outbound: OutboundPolicy;
  now?: () => Date;
}

export const SSO_LIMIT = { max: 30, windowMs: 60_000 } as const;
const AMR_CLAIMS_REQUEST = { id_token: { amr: null } }; // Auth.js JSON-encodes `claims`
const FLOW_TTL_MS = 15 * 60_000; // as long as Auth.js's own state/PKCE/nonce cookies
const SLUG = /^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$/;
const AUTHJS_CHECK_COOKIE =
  /^(?:__Secure-|__Host-)?authjs\.(?:state|pkce\.code_verifier|nonce|callback-url|csrf-token)=/;

type ErrorCode = 'sso_unavailable' | 'sso_failed' | 'sso_no_account' | 'rate_limited';

/** Claims of an ID token that oauth4webapi has already validated (signature via TLS, iss, aud, exp, nonce). */
function idTokenClaims(idToken: unknown): Record<string, unknown> {
  if (typeof idToken !== 'string') return {};
  try {
    return JSON.parse(
      Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export function assertionOf(
  account: Account | null | undefined,
  profile: Profile | undefined,
): SsoAssertion | null {
  const claims = { ...idTokenClaims(account?.id_token), ...(profile ?? {}) };
  const subject = account?.providerAccountId;
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 255) return null;
  const verified: unknown = claims['email_verified'];
  const amr = idTokenClaims(account?.id_token)['amr'];
  return {
    subject,
    email: typeof claims['email'] === 'string' ? claims['email'] : null,
    emailVerified: verified === true || verified === 'true', // some IdPs send the string
    name: typeof claims['name'] === 'string' ? claims['name'] : null,
    amr: Array.isArray(amr) ? amr.filter((v): v is string => typeof v === 'string') : [],
  };
}

/** Per-instance state shared by the two routes. */
interface Rig {
  options: SsoPluginOptions;
  origin: string;
  secure: boolean;
  ring: SessionSecretRing;
  guardedFetch: FetchLike;
  flowCookie: string;
  now: () => Date;
}

const FLOW_COOKIE_OPTIONS = { path: '/', httpOnly: true, secure: true, sameSite: 'lax' } as const;

function refuse(rig: Rig, reply: FastifyReply, code: ErrorCode): FastifyReply {
  return refuseFlow(rig, reply, FLOW_COOKIE_OPTIONS, code);
}

function limited(rig: Rig, request: FastifyRequest, bucket: string): Promise<boolean> {
  return ipLimited(rig, rig.options.services.accounts.limiter, request, bucket, SSO_LIMIT);
}

function connectionFor(
  rig: Rig,
  request: FastifyRequest,
  tenantId: string,
  provider: string,
): Promise<SsoConnection | null> {
  const { database, services, platformProviders } = rig.options;
  return loadSsoConnection(
    database,
    services.accounts.keyring,
    platformProviders,
    tenantId,
    provider,
  ).catch((error: unknown) => {
    request.log.error({ err: error }, 'sso: loading the connection failed'); // e.g. a secret that no longer decrypts
    return null;
  });
}

function authConfig(
  rig: Rig,
  request: FastifyRequest,
  connection: SsoConnection,
  providerId: string,
  onAssertion: (a: SsoAssertion | null) => Promise<void>,
): AuthConfig {
  return {
    basePath: '/auth',
    secret: [...rig.ring.authSecrets],
    trustHost: true, // the Request is built on PUBLIC_URL, never on Host (header comment)
    skipCSRFCheck,
    useSecureCookies: rig.secure,
    pages: { error: '/auth/sso/error', signIn: '/auth/sso/error' },
    logger: {
      error: (error) =>
        request.log.warn(
          { ssoError: error.name, type: (error as { type?: string }).type },
          'sso: auth.js refused the flow',
        ),
      warn: (code) => request.log.warn({ code }, 'sso: auth.js warning'),
      debug: () => undefined, // debug output holds cookies and tokens
    },
    providers: [
      {
        id: providerId,
        name: connection.name,
        type: 'oidc',
        issuer: connection.issuer,
        clientId: connection.clientId,
        clientSecret: connection.clientSecret,
        checks: ['pkce', 'state', 'nonce'],
        idToken: false, // profile from userinfo (subject checked against the ID token); amr from the ID token
        // OIDC Core §5.5: ask for amr explicitly, and only when the tenant will read it (docs/sso.md).
        authorization: {
          params: {
            scope: 'openid email profile',
            ...(connection.trustProviderMfa ? { claims: AMR_CLAIMS_REQUEST } : {}),
          },
        },
        profile: (p: Profile) => ({
          id: String(p.sub ?? ''),
          email: p.email ?? null,
          name: p.name ?? null,
        }),
        [customFetch]: rig.guardedFetch as typeof fetch,
      },
    ],
    callbacks: {
      signIn: async ({ account, profile }) => {
        await onAssertion(assertionOf(account, profile));
        return `${rig.origin}/`; // always a redirect: Auth.js never creates a session of its own
      },
      redirect: ({ url }) => (url.startsWith(`${rig.origin}/`) ? url : `${rig.origin}/`),
    },
  };
}

/** Web Request in, Web Response out; only Auth.js's check cookies reach the browser. */
async function runAuth(
  reply: FastifyReply,
  webRequest: Request,
  config: AuthConfig,
): Promise<string | null> {
  const response = await Auth(webRequest, config);
  const forwarded = response.headers.getSetCookie().filter((c) => AUTHJS_CHECK_COOKIE.test(c));
  if (forwarded.length) reply.header('set-cookie', forwarded);
  return response.status === 302 ? response.headers.get('location') : null;
}

type StartRequest = FastifyRequest<{
  Params: { tenantSlug: string };
  Querystring: { provider?: string };
}>;

async function start(rig: Rig, request: StartRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (await limited(rig, request, 'sso_start')) return refuse(rig, reply, 'rate_limited');
  const provider = request.query.provider ?? TENANT_PROVIDER;
  const slug = request.params.tenantSlug;
  if (!SLUG.test(slug) || !PROVIDER_ID.test(provider)) return refuse(rig, reply, 'sso_unavailable');
  const tenant = await lookupTenantBySlug(rig.options.database.pool, slug);
  const connection = tenant ? await connectionFor(rig, request, tenant.id, provider) : null;
  if (!tenant || !connection) return refuse(rig, reply, 'sso_unavailable');
  const providerId = provider === TENANT_PROVIDER ? tenantProviderId(slug) : provider;
  const webRequest = new Request(`${rig.origin}/auth/signin/${providerId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: request.headers.cookie ?? '',
    },
    body: new URLSearchParams({ callbackUrl: `${rig.origin}/` }),
  });
  const location = await runAuth(
    reply,
    webRequest,
    authConfig(rig, request, connection, providerId, async () => undefined),
  ).catch((error: unknown) => {
    request.log.error({ err: error }, 'sso: start failed');
    return null;
  });
  // Success is a redirect off our origin (the provider's authorization endpoint).
  if (!location || location.startsWith(`${rig.origin}/`)) return refuse(rig, reply, 'sso_failed');
  const flow = rig.ring.signFlow({
    tenantId: tenant.id,
    provider,
    expiresAt: new Date(rig.now().getTime() + FLOW_TTL_MS),
  });
  reply.setCookie(rig.flowCookie, flow, { ...FLOW_COOKIE_OPTIONS, maxAge: FLOW_TTL_MS / 1000 });
  return reply.header('cache-control', 'no-store').redirect(location, 302);
}

/**
 * The flow started at one tenant and one provider; a callback for anything else is refused before
 * any token exchange (a provider configured for tenant A used to enter tenant B).
 */
async function flowTenant(
  rig: Rig,
  request: FastifyRequest,
  providerId: string,
): Promise<{ tenantId: string; provider: string } | null> {
  const tenantSlug = providerId.startsWith('tenant-') ? providerId.slice('tenant-'.length) : null;
  const provider = tenantSlug === null ? providerId : TENANT_PROVIDER;
  const flow = rig.ring.verifyFlow(request.cookies[rig.flowCookie] ?? '', rig.now());
  if (!flow || flow.provider !== provider || !PROVIDER_ID.test(providerId)) return null;
  if (tenantSlug === null) return { tenantId: flow.tenantId, provider };
  const tenant = SLUG.test(tenantSlug)
    ? await lookupTenantBySlug(rig.options.database.pool, tenantSlug)
    : null;
  return tenant && tenant.id === flow.tenantId ? { tenantId: tenant.id, provider } : null;
}

async function callback(
  rig: Rig,
  request: FastifyRequest<{ Params: { providerId: string } }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  if (await limited(rig, request, 'sso_callback')) return refuse(rig, reply, 'rate_limited');
  const bound = await flowTenant(rig, request, request.params.providerId);
  if (!bound) return refuse(rig, reply, 'sso_failed');
  const connection = await connectionFor(rig, request, bound.tenantId, bound.provider);
  if (!connection) return refuse(rig, reply, 'sso_unavailable');
  let outcome: SsoSignInResult | null = null;
  const onAssertion = async (assertion: SsoAssertion | null): Promise<void> => {
    if (!assertion) return;
    const context = {
      ip: request.ip,
      userAgent: request.headers['user-agent']?.slice(0, 512) ?? null,
    };
    const input = { tenantId: bound.tenantId, connection, assertion };
    outcome = await completeSsoSignIn(
      rig.options.database,
      rig.options.services.accounts,
      input,
      context,
      rig.now(),
    ).catch((error: unknown) => {
      request.log.error({ err: error }, 'sso: completing the sign-in failed');
      throw error; // Auth.js turns it into AccessDenied; no outcome means sso_failed
    });
  };
  const webRequest = new Request(`${rig.origin}${request.url}`, {
    method: 'GET',
    headers: { cookie: request.headers.cookie ?? '' },
  });
  try {
    await runAuth(
      reply,
      webRequest,
      authConfig(rig, request, connection, request.params.providerId, onAssertion),
    );
  } catch (error) {
    request.log.error({ err: error }, 'sso: callback failed');
    return refuse(rig, reply, 'sso_failed');
  }
  return finish(rig, reply, outcome);
}

function finish(rig: Rig, reply: FastifyReply, outcome: SsoSignInResult | null): FastifyReply {
  return finishFlow(rig, reply, FLOW_COOKIE_OPTIONS, rig.options.cookieName, outcome);
}

export const ssoPlugin = fp<SsoPluginOptions>(
  async (app: FastifyInstance, options) => {
    const origin = new URL(options.publicUrl).origin;
    const secure = origin.startsWith('https:');
    const rig: Rig = {
      options,
      origin,
      secure,
      ring: parseSessionSecretRing(options.sessionSecret),
      guardedFetch: createGuardedFetch(options.outbound),
      flowCookie: secure ? '__Host-tessera_sso_flow' : 'tessera_sso_flow',
      now: options.now ?? ((): Date => new Date()),
    };
    app.get<{ Params: { tenantSlug: string }; Querystring: { provider?: string } }>(
      '/auth/sso/:tenantSlug/start',
      (request, reply) => start(rig, request, reply),
    );
    app.get<{ Params: { providerId: string } }>('/auth/callback/:providerId', (request, reply) =>
      callback(rig, request, reply),
    );
  },
  { name: 'tessera-sso', fastify: '5.x', dependencies: ['@fastify/cookie'] },
);
