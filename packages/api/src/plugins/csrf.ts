/**
 * Cross-site request refusal for tRPC mutations (DESIGN "Requests"): a POST is refused when
 * `Sec-Fetch-Site: cross-site`, or an `Origin` header is present and not trusted (including
 * `Origin: null`); every POST must be `application/json`, which a cross-site HTML form cannot
 * send without a CORS preflight. Sign-in and sign-up are covered too (login CSRF). A request that
 * authenticates with a Bearer key and carries no cookie is exempt: no ambient credential rides on it.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface CsrfOptions {
  trustedOrigins: ReadonlySet<string>;
  prefix: string;
}

export const csrfPlugin = fp<CsrfOptions>(
  async (app: FastifyInstance, options) => {
    app.addHook('onRequest', async (request, reply) => {
      if (request.method !== 'POST' || !request.url.startsWith(options.prefix)) return;
      const bearerOnly = request.headers.authorization?.startsWith('Bearer ') && !request.headers.cookie;
      const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      const refuse = (why: string) => reply.code(403).send({ error: { message: 'Cross-site request refused.', data: { code: 'FORBIDDEN', httpStatus: 403, reason: 'csrf_rejected', why } } });
      if (contentType !== 'application/json') return refuse('content_type');
      if (bearerOnly) return;
      if (request.headers['sec-fetch-site'] === 'cross-site') return refuse('sec_fetch_site');
      const origin = request.headers.origin;
      if (origin !== undefined && !options.trustedOrigins.has(origin)) return refuse('origin');
    });
  },
  { name: 'tessera-csrf', fastify: '5.x' },
);
