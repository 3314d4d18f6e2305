/**
 * SAML 2.0 routes (docs/sso.md "SAML"); the protocol is @node-saml/node-saml's, through
 * @tessera/auth/sso (saml-sp.ts). One service provider per connection:
 *
 *   GET  /auth/saml/:tenantSlug/:connectionId/metadata  SP metadata (entity id = this URL)
 *   GET  /auth/saml/:tenantSlug/:connectionId/start     302 to the IdP with an AuthnRequest
 *   POST /auth/saml/:tenantSlug/:connectionId/acs       assertion consumer service (HTTP-POST)
 *
 * The start route sets a flow cookie signed under SESSION_SECRET that binds (tenant, connection,
 * AuthnRequest id) to this browser for ten minutes; the ACS accepts a response whose
 * InResponseTo is that id, or, where the connection allows IdP-initiated sign-in, one without
 * InResponseTo. The IdP posts the response from its own site, so the flow cookie is
 * `SameSite=None` (Secure, httpOnly) and the ACS is exempt from the cross-site form refusal
 * (csrf.ts `crossSiteForm`): it uses no ambient credential, only the signed response and the
 * flow cookie. Refusals land on the console as `/sign-in?sso_error=<code>` and are audited.
 */
import type { Services } from '@tessera/api-contract';
import {
  completeSamlSignIn,
  loadSamlConnection,
  parseSessionSecretRing,
  recordSamlRefusal,
  SAML_REQUEST_TTL_MS,
  SamlRefusal,
  samlSpMetadata,
  startSamlSignIn,
  validateSamlResponse,
  type SessionSecretRing,
  type SsoSignInResult,
} from '@tessera/auth/sso';
import { lookupTenantBySlug, type Database, type SamlConnectionRow } from '@tessera/db';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { finishFlow, ipLimited, refuseFlow } from './sso-redirects.js';

export interface SamlPluginOptions {
  database: Database;
  services: Services;
  publicUrl: string;
  cookieName: string;
  /** SESSION_SECRET ring: the flow cookie's MAC key. */
  sessionSecret: string;
  /** Per-IP limit of starts and of ACS posts each (default SAML_LIMIT). */
  limit?: { max: number; windowMs: number };
  now?: () => Date;
}

export const SAML_LIMIT = { max: 30, windowMs: 60_000 } as const;
const SLUG = /^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FLOW_PREFIX = 'saml:';

type Params = { tenantSlug: string; connectionId: string };
type ErrorCode = 'sso_unavailable' | 'sso_failed' | 'sso_no_account' | 'rate_limited';

interface Rig {
  options: SamlPluginOptions;
  origin: string;
  ring: SessionSecretRing;
  flowCookie: string;
  now: () => Date;
}

const FLOW_COOKIE_OPTIONS = { path: '/', httpOnly: true, secure: true, sameSite: 'none' } as const;

function refuse(rig: Rig, reply: FastifyReply, code: ErrorCode): FastifyReply {
  return refuseFlow(rig, reply, FLOW_COOKIE_OPTIONS, code);
}

function limited(rig: Rig, request: FastifyRequest, bucket: string): Promise<boolean> {
  const limit = rig.options.limit ?? SAML_LIMIT;
  return ipLimited(rig, rig.options.services.accounts.limiter, request, bucket, limit);
}

async function connectionOf(
  rig: Rig,
  params: Params,
  enabledOnly: boolean,
): Promise<{ slug: string; row: SamlConnectionRow } | null> {
  if (!SLUG.test(params.tenantSlug) || !UUID.test(params.connectionId)) return null;
  const tenant = await lookupTenantBySlug(rig.options.database.pool, params.tenantSlug);
  if (!tenant) return null;
  const row = await loadSamlConnection(rig.options.database, tenant.id, params.connectionId, {
    enabledOnly,
  });
  return row ? { slug: tenant.slug, row } : null;
}

async function metadata(
  rig: Rig,
  request: FastifyRequest<{ Params: Params }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const found = await connectionOf(rig, request.params, false);
  if (!found) return reply.code(404).send({ error: 'not_found' });
  return reply
    .header('content-type', 'application/samlmetadata+xml; charset=utf-8')
    .send(samlSpMetadata(rig.options.publicUrl, found.slug, found.row));
}

async function start(
  rig: Rig,
  request: FastifyRequest<{ Params: Params }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  if (await limited(rig, request, 'saml_start')) return refuse(rig, reply, 'rate_limited');
  const found = await connectionOf(rig, request.params, true);
  if (!found) return refuse(rig, reply, 'sso_unavailable');
  const { url, requestId } = await startSamlSignIn(rig.options.publicUrl, found.slug, found.row);
  const flow = rig.ring.signFlow({
    tenantId: found.row.tenantId,
    provider: `${FLOW_PREFIX}${found.row.id}:${requestId}`,
    expiresAt: new Date(rig.now().getTime() + SAML_REQUEST_TTL_MS),
  });
  reply.setCookie(rig.flowCookie, flow, {
    ...FLOW_COOKIE_OPTIONS,
    maxAge: SAML_REQUEST_TTL_MS / 1000,
  });
  return reply.header('cache-control', 'no-store').redirect(url, 302);
}

/** The AuthnRequest id this browser started for this connection, or null. */
function flowRequestId(rig: Rig, request: FastifyRequest, row: SamlConnectionRow): string | null {
  const flow = rig.ring.verifyFlow(request.cookies[rig.flowCookie] ?? '', rig.now());
  const prefix = `${FLOW_PREFIX}${row.id}:`;
  if (!flow || flow.tenantId !== row.tenantId || !flow.provider.startsWith(prefix)) return null;
  return flow.provider.slice(prefix.length) || null;
}

async function acs(
  rig: Rig,
  request: FastifyRequest<{ Params: Params }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  if (await limited(rig, request, 'saml_acs')) return refuse(rig, reply, 'rate_limited');
  const found = await connectionOf(rig, request.params, true);
  if (!found) return refuse(rig, reply, 'sso_unavailable');
  const { row, slug } = found;
  const body = request.body as Record<string, unknown> | null;
  const samlResponse = typeof body?.['SAMLResponse'] === 'string' ? body['SAMLResponse'] : '';
  const context = {
    ip: request.ip,
    userAgent: request.headers['user-agent']?.slice(0, 512) ?? null,
  };
  const now = rig.now();
  let outcome: SsoSignInResult;
  try {
    const assertion = await validateSamlResponse(
      rig.options.database,
      { publicUrl: rig.options.publicUrl, slug, row },
      { samlResponse, expectedRequestId: flowRequestId(rig, request, row) },
      now,
    );
    outcome = await completeSamlSignIn(
      { db: rig.options.database, deps: rig.options.services.accounts, request: context, now },
      row,
      assertion,
    );
  } catch (error) {
    const reason = error instanceof SamlRefusal ? error.reason : 'error';
    if (error instanceof SamlRefusal)
      request.log.warn({ samlRefusal: error.message }, 'saml: response refused');
    else request.log.error({ err: error }, 'saml: sign-in failed');
    await recordSamlRefusal(rig.options.database, row, reason, context, now).catch(
      (auditError: unknown) =>
        request.log.error({ err: auditError }, 'saml: recording the refusal failed'),
    );
    return refuse(rig, reply, 'sso_failed');
  }
  return finish(rig, reply, outcome);
}

function finish(rig: Rig, reply: FastifyReply, outcome: SsoSignInResult): FastifyReply {
  return finishFlow(rig, reply, FLOW_COOKIE_OPTIONS, rig.options.cookieName, outcome);
}

/** Encapsulated (no fastify-plugin): the form-body parser stays inside these routes. */
export async function samlPlugin(app: FastifyInstance, options: SamlPluginOptions): Promise<void> {
  const origin = new URL(options.publicUrl).origin;
  const rig: Rig = {
    options,
    origin,
    ring: parseSessionSecretRing(options.sessionSecret),
    flowCookie: origin.startsWith('https:') ? '__Host-tessera_saml_flow' : 'tessera_saml_flow',
    now: options.now ?? ((): Date => new Date()),
  };
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 1024 * 1024 },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
  app.get<{ Params: Params }>('/auth/saml/:tenantSlug/:connectionId/metadata', (request, reply) =>
    metadata(rig, request, reply),
  );
  app.get<{ Params: Params }>('/auth/saml/:tenantSlug/:connectionId/start', (request, reply) =>
    start(rig, request, reply),
  );
  app.post<{ Params: Params }>(
    '/auth/saml/:tenantSlug/:connectionId/acs',
    { config: { crossSiteForm: true } },
    (request, reply) => acs(rig, request, reply),
  );
}
