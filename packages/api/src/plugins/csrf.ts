/**
 * Cross-site request refusal (docs/design.md "Requests"). Every request with an unsafe method (anything
 * but GET, HEAD, OPTIONS), on any route, is refused when `Sec-Fetch-Site: cross-site`, or an
 * `Origin` header is present and not trusted (including `Origin: null`), and it must be
 * `application/json`, which a cross-site HTML form cannot send without a CORS preflight. Sign-in
 * and sign-up are covered too (login CSRF). On a tRPC route (trpc-route.ts, decided on the route
 * Fastify matched, so no spelling of the URL slips past) any body other than JSON is refused for
 * every method: tRPC would otherwise run `multipart/form-data` and `application/octet-stream`
 * bodies as mutations. A request that authenticates with a Bearer key and carries no cookie is
 * exempt from the origin checks (no ambient credential rides on it), never from the content type.
 * Pinned by http-auth.security.test.ts and trpc-route.security.test.ts.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { problemOf, sendProblem } from '../rest/problem.js';
import { isRestRoute, isTrpcRoute } from './trpc-route.js';
import { routeConfigOf } from './route-config.js';

export interface CsrfOptions {
  trustedOrigins: ReadonlySet<string>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A route that receives cross-site form posts by protocol (the SAML assertion consumer
     * service, plugins/saml.ts) and authenticates them itself; no ambient credential is used.
     */
    crossSiteForm?: boolean;
  }
}

export const csrfPlugin = fp<CsrfOptions>(
  async (app: FastifyInstance, options) => {
    app.addHook('onRequest', async (request, reply) => {
      // A route that reads no cookie (`config: { csrf: false }`, /scim/v2) has nothing to protect;
      // a SAML assertion consumer (`crossSiteForm`) is posted cross-site by the IdP by design.
      const config = routeConfigOf(request);
      if (config.csrf === false || config.crossSiteForm === true) return;
      const unsafe = !SAFE_METHODS.has(request.method);
      const trpc = isTrpcRoute(request);
      if (!unsafe && !trpc) return;
      const refuse = (why: string) =>
        isRestRoute(request)
          ? sendProblem(reply, {
              ...problemOf(
                403,
                {
                  message: 'Cross-site request refused.',
                  data: { code: 'FORBIDDEN', reason: 'csrf_rejected' },
                },
                request.id,
              ),
              why,
            })
          : reply.code(403).send({
              error: {
                message: 'Cross-site request refused.',
                data: { code: 'FORBIDDEN', httpStatus: 403, reason: 'csrf_rejected', why },
              },
            });
      const contentType =
        (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (contentType !== 'application/json' && (unsafe || contentType !== ''))
        return refuse('content_type');
      if (!unsafe) return;
      const bearerOnly =
        request.headers.authorization?.startsWith('Bearer ') && !request.headers.cookie;
      if (bearerOnly) return;
      if (request.headers['sec-fetch-site'] === 'cross-site') return refuse('sec_fetch_site');
      const origin = request.headers.origin;
      if (origin !== undefined && !options.trustedOrigins.has(origin)) return refuse('origin');
    });
  },
  { name: 'tessera-csrf', fastify: '5.x' },
);
