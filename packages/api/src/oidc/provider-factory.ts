/**
 * One oidc-provider instance per tenant (docs/oidc-provider.md): issuer `<PUBLIC_URL>/oidc/<slug>`,
 * its keys from `oidc_signing_keys`, its storage through tenantAdapter (RLS-scoped).
 *
 * Choices that are security decisions: authorization code with PKCE S256 for every client (no
 * implicit or hybrid response types, no password grant: oidc-provider has none); redirect URIs
 * matched exactly and never omitted; refresh tokens rotated on every use, a reused one revoking
 * its whole grant (oidc-provider's refresh_token grant); access tokens are RS256 JWTs (RFC 9068)
 * for the tenant's API audience carrying the tenant, scopes and the sign-in's `acr`/`amr`;
 * client secrets compared through their SHA-256 only. Pinned by oidc-*.security.test.ts.
 */
import { timingSafeEqual } from 'node:crypto';
import type { PepperRing } from '@tessera/auth/api-keys';
import type { Keyring } from '@tessera/auth/crypto';
import { sha256 } from '@tessera/auth/crypto';
import { findOidcAccount, OIDC_TTL_SECONDS, type ProviderJwk } from '@tessera/auth/oidc';
import { withTenant, type Database, type TenantRef } from '@tessera/db';
import type Provider from 'oidc-provider';
import type * as OidcLibrary from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { tenantAdapter } from './adapter.js';
import { escapeHtml, page } from './pages.js';
import { installProviderAudit } from './provider-audit.js';

export interface TenantProviderOptions {
  tenant: TenantRef;
  database: Database;
  keyring: Keyring;
  peppers: PepperRing;
  publicUrl: string;
  keys: ProviderJwk[];
  /** Trust X-Forwarded-Proto/-For as the Fastify server does (TRUST_PROXY). */
  proxy: boolean;
  /** Let back-channel logout reach loopback addresses (never in production). */
  loopbackOutbound: boolean;
}

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

export function issuerOf(publicUrl: string, slug: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/oidc/${slug}`;
}

/** `aud` of the tenant's access tokens: an identifier of its API, not a location. */
export function apiAudienceOf(slug: string): string {
  return `urn:tessera:${slug}:api`;
}

type TokenSource = { acr?: string; amr?: string[] } | undefined;

let library: Promise<typeof OidcLibrary> | undefined;

/**
 * oidc-provider, loaded when the first tenant issuer is built rather than when this module is
 * imported: loading it on Node 20 prints a runtime warning to stderr, which would otherwise land
 * in the output of every process that imports @tessera/api (the CLIs' `--json` lines included).
 */
function oidcLibrary(): Promise<typeof OidcLibrary> {
  return (library ??= import('oidc-provider'));
}

export async function createTenantProvider(options: TenantProviderOptions): Promise<Provider> {
  const { default: Provider, errors } = await oidcLibrary();
  const { tenant, database } = options;
  const issuer = issuerOf(options.publicUrl, tenant.slug);
  const mountPath = new URL(issuer).pathname;
  const audience = apiAudienceOf(tenant.slug);
  const cookieKeys = options.peppers
    .hashAll(`tessera.oidc.cookies:${tenant.id}`)
    .map((h) => h.hash.toString('base64url'));
  const secure = new URL(issuer).protocol === 'https:';
  const cookie = { httpOnly: true, sameSite: 'lax' as const, secure, signed: true };

  const configuration: Configuration = {
    adapter: tenantAdapter(database, tenant.id, options.keyring),
    jwks: { keys: options.keys },
    cookies: {
      keys: cookieKeys,
      long: cookie,
      short: cookie,
      // Per tenant: the provider session of one tenant never overwrites another's.
      names: {
        session: `tessera_op_${tenant.id.slice(0, 8)}`,
        interaction: `tessera_op_i_${tenant.id.slice(0, 8)}`,
        resume: `tessera_op_r_${tenant.id.slice(0, 8)}`,
      },
    },
    findAccount: async (_ctx, sub) => {
      // A disabled user is unknown: their refresh tokens stop working at once.
      const user = await withTenant(database, tenant.id, (tx) => findOidcAccount(tx, sub), {
        readOnly: true,
      });
      if (!user) return undefined;
      return {
        accountId: user.id,
        claims: () => ({
          sub: user.id,
          tenant_id: tenant.id,
          email: user.email,
          email_verified: user.emailVerified,
          ...(user.name ? { name: user.name } : {}),
        }),
      };
    },
    claims: {
      openid: ['sub', 'tenant_id'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      acr: null,
      amr: null,
      auth_time: null,
      sid: null,
    },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    acrValues: ['aal1', 'aal2'],
    responseTypes: ['code'],
    extraClientMetadata: {
      properties: ['api_scopes'],
      validator: (_ctx, key, value) => {
        if (key === 'api_scopes' && !Array.isArray(value)) throw new Error('api_scopes: an array');
      },
    },
    pkce: { required: () => true },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    allowOmittingSingleRegisteredRedirectUri: false,
    conformIdTokenClaims: false,
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    ttl: {
      AccessToken: OIDC_TTL_SECONDS.accessToken,
      AuthorizationCode: OIDC_TTL_SECONDS.authorizationCode,
      ClientCredentials: OIDC_TTL_SECONDS.clientCredentials,
      DeviceCode: OIDC_TTL_SECONDS.deviceCode,
      Grant: OIDC_TTL_SECONDS.grant,
      IdToken: OIDC_TTL_SECONDS.idToken,
      Interaction: OIDC_TTL_SECONDS.interaction,
      RefreshToken: OIDC_TTL_SECONDS.refreshToken,
      Session: OIDC_TTL_SECONDS.session,
    },
    interactions: { url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
    extraTokenClaims: (ctx, token) => {
      const { AuthorizationCode, RefreshToken, DeviceCode } = ctx.oidc.entities;
      const source = (RefreshToken ?? AuthorizationCode ?? DeviceCode) as TokenSource;
      const user = token.kind === 'AccessToken' && source;
      return {
        tenant_id: tenant.id,
        ...(user && source.acr ? { acr: source.acr } : {}),
        ...(user && source.amr ? { amr: source.amr } : {}),
      };
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: false },
      // Claims reach apps in the ID token; access tokens are for the tenant's API (audience).
      userinfo: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: KoaContextWithOIDC, form: string) => {
          ctx.body = page(
            'Sign out',
            `${form}<p>Sign out of the apps of ${escapeHtml(tenant.name)}?</p>
<button type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button>
<button type="submit" form="op.logoutForm">Stay signed in</button>`,
          );
        },
        postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => {
          ctx.body = page('Signed out', '<p>You have been signed out.</p>');
        },
      },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: (ctx, form, out) => {
          const error = out
            ? `<p role="alert">${escapeHtml(out.error_description ?? out.error)}</p>`
            : '';
          ctx.body = page(
            'Connect a device',
            `${error}${form}<label for="user_code">Code shown on your device</label>
<input id="user_code" name="user_code" form="op.deviceInputForm" autocomplete="off" required>
<button type="submit" form="op.deviceInputForm">Continue</button>`,
          );
        },
        userCodeConfirmSource: (ctx, form, client, _info, userCode) => {
          ctx.body = page(
            'Confirm the device',
            `${form}<p>Is <strong>${escapeHtml(client.clientName ?? client.clientId)}</strong>
showing the code <strong>${escapeHtml(userCode)}</strong>?</p>
<button type="submit" form="op.deviceConfirmForm">Yes, continue</button>
<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">No, cancel</button>`,
          );
        },
        successSource: (ctx) => {
          ctx.body = page('Device connected', '<p>You can return to your device.</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource, client) => {
          if (resource !== audience) throw new errors.InvalidTarget();
          const api = (client as unknown as { api_scopes?: string[] }).api_scopes ?? [];
          return {
            scope: [client.scope ?? '', ...api].join(' ').trim(),
            audience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: OIDC_TTL_SECONDS.accessToken,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    // oidc-provider's own fetch refuses special-use addresses (its SSRF protection); outside
    // production a loopback target goes without that dispatcher, as for SSO issuers (docs/sso.md).
    ...(options.loopbackOutbound
      ? {
          fetch: (input: string | URL | Request, init?: RequestInit) => {
            const url = input instanceof Request ? input.url : String(input);
            return LOOPBACK_HOSTS.test(new URL(url).hostname)
              ? globalThis.fetch(input, { ...init, dispatcher: undefined } as RequestInit)
              : globalThis.fetch(input, init);
          },
        }
      : {}),
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page(
        'Sign-in could not continue',
        `<p>${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`,
      );
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = options.proxy;
  // Secrets are stored as SHA-256 (clients.ts puts the hex digest in `client_secret`).
  (
    provider.Client.prototype as { compareClientSecret(actual: string): boolean }
  ).compareClientSecret = function compareClientSecret(
    this: { clientSecret?: string },
    actual: string,
  ): boolean {
    const stored = Buffer.from(this.clientSecret ?? '', 'hex');
    return stored.length === 32 && timingSafeEqual(stored, sha256(actual));
  };
  installProviderAudit(provider, database, tenant.id);
  return provider;
}
