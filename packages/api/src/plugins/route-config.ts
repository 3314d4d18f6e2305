/**
 * The matched route's `config`, read once per request. Fastify's `request.routeOptions` builds a
 * new object of a dozen fields on every read, and half a dozen hooks ask for the route's config on
 * every request (CSRF, principal, API key, security headers, no-store, the tRPC route marker).
 * Decided on the route Fastify matched, never on the raw URL.
 */
import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** Cache of `routeOptions.config` (route-config.ts); read it through `routeConfigOf`. */
    tesseraRouteConfig: FastifyContextConfig | null;
  }
}

const NO_CONFIG: FastifyContextConfig = Object.freeze({});

export function routeConfigOf(request: FastifyRequest): FastifyContextConfig {
  return (request.tesseraRouteConfig ??= request.routeOptions.config ?? NO_CONFIG);
}

/** Declares the cache slot on every request object, so requests keep one shape. */
export const routeConfigPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('tesseraRouteConfig', null);
  },
  { name: 'tessera-route-config', fastify: '5.x' },
);
