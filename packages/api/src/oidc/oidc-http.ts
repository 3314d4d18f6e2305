/**
 * Mounts each tenant's oidc-provider under `/oidc/<slug>` (discovery, JWKS, authorize, token,
 * revocation, introspection, device and logout endpoints), following oidc-provider's recipe for
 * frameworks it does not know: the Koa callback gets the raw request with the mount prefix moved
 * to `originalUrl`, and Fastify hands the response over (`reply.hijack()`). Fastify parses no
 * body here: the provider reads its own form posts. Cross-site checks of csrf.ts do not apply
 * (the token endpoint is called by other origins by design; the provider's own forms carry their
 * own tokens), and the pages get a strict policy of their own (no form-action: a consent form
 * ends in a redirect to the app).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TenantProvider, TenantProviders } from './provider-registry.js';

declare module 'node:http' {
  interface IncomingMessage {
    originalUrl?: string;
  }
}

export const OIDC_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

/**
 * The global security headers with the provider's own CSP and referrer policy instead of helmet's, whose
 * `form-action 'self'` would stop the browser from following a consent or logout form's
 * redirect back to the app. Set on the reply (pages Fastify sends) and on the raw response
 * (responses the provider writes after `reply.hijack()`).
 */
export function copySecurityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', OIDC_CSP);
  // With `no-referrer` a browser sends `Origin: null` on the page's own form posts, and the
  // consent check (same origin only) could not tell them from a cross-site post.
  reply.header('referrer-policy', 'same-origin');
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value === undefined || name === 'content-security-policy') continue;
    reply.raw.setHeader(name, value);
  }
  reply.raw.setHeader('content-security-policy', OIDC_CSP);
}

export async function runProvider(
  entry: TenantProvider,
  slug: string,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const req = request.raw;
  const prefix = `/oidc/${slug}`;
  const url = req.url ?? '';
  copySecurityHeaders(reply);
  reply.hijack();
  req.originalUrl = url;
  req.url = url.slice(prefix.length) || '/';
  try {
    await new Promise<void>((resolve) => {
      reply.raw.once('finish', resolve);
      reply.raw.once('close', resolve);
      void entry.callback(req, reply.raw);
    });
  } finally {
    req.url = url;
  }
}

export function registerProviderMount(app: FastifyInstance, providers: TenantProviders): void {
  app.route({
    method: ['GET', 'POST', 'OPTIONS', 'HEAD'],
    url: '/oidc/:slug/*',
    config: { csrf: false },
    handler: async (request, reply) => {
      const { slug } = request.params as { slug: string };
      const entry = /^[a-z0-9-]{1,64}$/.test(slug) ? await providers.forSlug(slug) : null;
      if (!entry || !(request.raw.url ?? '').startsWith(`/oidc/${slug}/`))
        return reply.code(404).send({ error: 'Not Found', statusCode: 404 });
      await runProvider(entry, slug, request, reply);
      return reply;
    },
  });
}
