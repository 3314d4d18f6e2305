/**
 * The provider's interactions (docs/oidc-provider.md "Sign-in and consent"): the sign-in is the
 * console's own (password, MFA, passkeys, SSO), so a user without a session of this tenant goes
 * to `/sign-in` and comes back here; `prompt=login` and `max_age` send them there again unless
 * their session was created after the request, or within max_age. Consent is a page of its own,
 * posted same-origin only; granting and denying are audited.
 */
import { recordAuditEvent } from '@tessera/auth/audit';
import { findOidcAccount, findOidcClientName, sessionSignedInAt } from '@tessera/auth/oidc';
import type { SessionPrincipal } from '@tessera/api-contract';
import { withTenant, type Database } from '@tessera/db';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionResults } from 'oidc-provider';
import { consentPage, page } from './pages.js';
import { copySecurityHeaders } from './oidc-http.js';
import type { TenantProvider, TenantProviders } from './provider-registry.js';

interface Params {
  slug: string;
  uid: string;
}

type Details = Awaited<ReturnType<TenantProvider['provider']['interactionDetails']>>;

function sessionOf(request: FastifyRequest, tenantId: string): SessionPrincipal | null {
  const p = request.principal;
  return p?.kind === 'session' && p.tenantId === tenantId && !p.enrollmentOnly ? p : null;
}

function signInUrl(slug: string, uid: string, reauth: boolean): string {
  const next = encodeURIComponent(`/oidc/${slug}/interaction/${uid}`);
  return `/sign-in?tenant=${encodeURIComponent(slug)}&next=${next}${reauth ? '&reauth=1' : ''}`;
}

async function sessionCreatedAt(database: Database, principal: SessionPrincipal): Promise<Date> {
  const at = await withTenant(
    database,
    principal.tenantId,
    (tx) => sessionSignedInAt(tx, principal.sessionId),
    { readOnly: true },
  );
  return at ?? new Date(0);
}

/** OpenID Connect Core §3.1.2.1: prompt=login and max_age demand an authentication this recent. */
function needsFreshSignIn(details: Details, createdAt: Date, now: Date): boolean {
  // `iat` has whole seconds: a sign-in in the request's own second does not count as after it.
  const signedInAfter = Math.floor(createdAt.getTime() / 1000) > details.iat;
  if (details.prompt.reasons.includes('login_prompt') && !signedInAfter) return true;
  const maxAge = Number(details.params['max_age']);
  return Number.isFinite(maxAge) && now.getTime() - createdAt.getTime() > maxAge * 1000;
}

async function finish(
  entry: TenantProvider,
  request: FastifyRequest,
  reply: FastifyReply,
  result: InteractionResults,
  merge: boolean,
): Promise<FastifyReply> {
  copySecurityHeaders(reply);
  reply.hijack();
  await entry.provider.interactionFinished(request.raw, reply.raw, result, {
    mergeWithLastSubmission: merge,
  });
  return reply;
}

function scopeOf(details: Details): string {
  const scope = details.params['scope'];
  return typeof scope === 'string' ? scope : '';
}

function sameOrigin(request: FastifyRequest, publicUrl: string): boolean {
  if (request.headers['sec-fetch-site'] === 'cross-site') return false;
  const origin = request.headers.origin;
  return origin === undefined || origin === new URL(publicUrl).origin;
}

export interface InteractionRouteOptions {
  providers: TenantProviders;
  database: Database;
  publicUrl: string;
  now: () => Date;
}

export function registerInteractions(app: FastifyInstance, options: InteractionRouteOptions): void {
  const { providers, database } = options;

  /** Resolves tenant, provider and interaction; answers the request itself when it cannot. */
  const load = async (request: FastifyRequest, reply: FastifyReply) => {
    const { slug } = request.params as Params;
    const entry = /^[a-z0-9-]{1,64}$/.test(slug) ? await providers.forSlug(slug) : null;
    if (!entry) {
      await reply.code(404).send({ error: 'Not Found', statusCode: 404 });
      return null;
    }
    try {
      const details = await entry.provider.interactionDetails(request.raw, reply.raw);
      return { entry, details };
    } catch {
      await reply
        .code(400)
        .type('text/html')
        .send(page('Sign-in expired', '<p>Go back to the app and start again.</p>'));
      return null;
    }
  };

  app.get('/oidc/:slug/interaction/:uid', { config: { csrf: false } }, async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    const { entry, details } = loaded;
    const { slug, uid } = request.params as Params;
    const principal = sessionOf(request, entry.tenant.id);
    if (!principal) return reply.redirect(signInUrl(slug, uid, false), 303);
    if (details.prompt.name === 'login') {
      const createdAt = await sessionCreatedAt(database, principal);
      if (needsFreshSignIn(details, createdAt, options.now()))
        return reply.redirect(signInUrl(slug, uid, true), 303);
      // RFC 8176 values: aal2 sessions passed a second factor.
      const aal2 = principal.aal === 2;
      return finish(
        entry,
        request,
        reply,
        {
          login: {
            accountId: principal.userId,
            ts: Math.floor(createdAt.getTime() / 1000),
            acr: aal2 ? 'aal2' : 'aal1',
            amr: aal2 ? ['pwd', 'mfa'] : ['pwd'],
            remember: false,
          },
        },
        false,
      );
    }
    if (details.session?.accountId !== principal.userId)
      return reply.redirect(signInUrl(slug, uid, true), 303);
    const clientId = String(details.params['client_id']);
    const [name, email] = await withTenant(
      database,
      entry.tenant.id,
      async (tx) => {
        const user = await findOidcAccount(tx, principal.userId);
        return [await findOidcClientName(tx, clientId), user?.email ?? ''] as const;
      },
      { readOnly: true },
    );
    copySecurityHeaders(reply);
    return reply
      .header('cache-control', 'no-store')
      .type('text/html')
      .send(
        consentPage({
          clientName: name ?? clientId,
          scopes: scopeOf(details).split(' ').filter(Boolean),
          action: `/oidc/${slug}/interaction/${uid}`,
          userEmail: email,
        }),
      );
  });

  const decide = (allow: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
    if (!sameOrigin(request, options.publicUrl))
      return reply.code(403).send({ error: 'Cross-site request refused.', statusCode: 403 });
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    const { entry, details } = loaded;
    const principal = sessionOf(request, entry.tenant.id);
    if (
      details.prompt.name !== 'consent' ||
      !principal ||
      details.session?.accountId !== principal.userId
    )
      return reply.code(403).send({ error: 'Forbidden', statusCode: 403 });
    const clientId = String(details.params['client_id']);
    const audit = { type: 'user' as const, id: principal.userId };
    const grantId = allow
      ? await saveConsent(entry, details, principal.userId, clientId)
      : undefined;
    await withTenant(database, entry.tenant.id, (tx) =>
      recordAuditEvent(tx, {
        actor: audit,
        action: allow ? 'oidc.consent.granted' : 'oidc.consent.denied',
        target: { type: 'oidc_client', id: null },
        ip: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
        metadata: { clientId, scope: scopeOf(details) },
      }),
    );
    return grantId
      ? finish(entry, request, reply, { consent: { grantId } }, true)
      : finish(
          entry,
          request,
          reply,
          { error: 'access_denied', error_description: 'The user denied the request.' },
          false,
        );
  };

  const post = { config: { csrf: false } };
  app.post('/oidc/:slug/interaction/:uid/confirm', post, decide(true));
  app.post('/oidc/:slug/interaction/:uid/deny', post, decide(false));
}

/** Adds what the request asks and the grant lacks (oidc-provider's consent prompt details). */
async function saveConsent(
  entry: TenantProvider,
  details: Details,
  accountId: string,
  clientId: string,
): Promise<string> {
  const { Grant } = entry.provider;
  const grant =
    (details.grantId ? await Grant.find(details.grantId) : undefined) ??
    new Grant({ accountId, clientId });
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
    grant.addResourceScope(indicator, scopes.join(' '));
  return grant.save();
}
