/**
 * The API reference page for the REST face: Scalar (`@scalar/fastify-api-reference`) at
 * `/api/reference/`, reading the document at `/api/openapi.json`. Everything it loads comes from
 * this server: the plugin serves Scalar's bundled script itself (`/api/reference/js/scalar.js`),
 * its default web fonts (fonts.scalar.com), telemetry, AI agent and developer toolbar are switched
 * off, and no proxy is configured.
 *
 * CSP: the page needs two relaxations of the server-wide policy (build-server.ts), on these
 * routes only. Scalar's page starts itself with an inline script: `script-src` allows it by a
 * nonce, fresh per response (the plugin writes a fixed placeholder that is replaced here), never
 * by 'unsafe-inline'. Scalar's components also set inline styles and add <style> elements without
 * the nonce (seen as CSP violations in Chromium), so `style-src` takes 'unsafe-inline' here:
 * styles run no code, and the page shows only this server's own document. Connections, images
 * and fonts stay on 'self'. Pinned by api-reference.test.ts.
 */
import { randomBytes } from 'node:crypto';
import scalar from '@scalar/fastify-api-reference';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { OPENAPI_DOCUMENT_PATH } from './rest.js';

export const API_REFERENCE_PATH = '/api/reference';
const NONCE_PLACEHOLDER = 'tessera-csp-nonce-placeholder';

export function referencePagePolicy(nonce: string, https: boolean): string {
  return [
    "default-src 'self'",
    "base-uri 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    ...(https ? ['upgrade-insecure-requests'] : []),
  ].join('; ');
}

export const apiReferencePlugin = fp<{ https: boolean }>(
  async (app: FastifyInstance, options) => {
    await app.register(async (scope) => {
      scope.addHook('onRoute', (route) => {
        // Public static files: no caller to resolve, the same for everyone.
        route.config = { ...route.config, principal: false, apiKey: false, sharedCache: true };
      });
      scope.addHook('onSend', async (_request, reply, payload) => {
        if (typeof payload !== 'string' || !payload.includes(NONCE_PLACEHOLDER)) return payload;
        const nonce = randomBytes(18).toString('base64');
        void reply
          .header('content-security-policy', referencePagePolicy(nonce, options.https))
          .header('cache-control', 'no-store');
        return payload.replaceAll(NONCE_PLACEHOLDER, nonce);
      });
      await scope.register(scalar, {
        routePrefix: API_REFERENCE_PATH,
        logLevel: 'warn',
        configuration: {
          url: OPENAPI_DOCUMENT_PATH,
          pageTitle: 'Tessera REST API',
          withDefaultFonts: false,
          // Nothing that calls out: Scalar's telemetry, its "Ask AI" agent and its developer toolbar (links to scalar.com).
          telemetry: false,
          agent: { disabled: true },
          showDeveloperTools: 'never',
          nonce: NONCE_PLACEHOLDER,
        },
      });
    });
  },
  { name: 'tessera-api-reference', fastify: '5.x' },
);
