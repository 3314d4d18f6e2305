/**
 * Security headers on every response, and the request id.
 *
 * Documents (the console, the API reference, SSO pages, a 404) get helmet's set: helmet decides
 * it from the options once, at start-up, and every request copies that fixed set. (Registering
 * helmet per request rebuilt its middleware chain and re-parsed the CSP directives on every call,
 * a measurable share of a short request's CPU.) Nothing here varies per request: the policy has
 * no nonces.
 *
 * Answers that are data, never a document (every tRPC and REST route, and routes declaring
 * `config: { answers: 'data' }`), get the short set OWASP's REST Security Cheat Sheet lists for
 * APIs: a CSP that allows nothing (`default-src 'none'`, stricter than the document policy: a
 * JSON answer a browser is tricked into rendering can load and run nothing), no framing, no
 * sniffing, no referrer, same-origin resource policy, HSTS as configured. helmet's other headers
 * (COOP, Origin-Agent-Cluster, DNS prefetch, IE's download options, Flash's cross-domain policy,
 * the legacy XSS auditor switch) only govern documents; leaving them off an API answer saves
 * every client parsing them. The route decides, as Fastify matched it, never the raw URL.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import { routeConfigOf } from './route-config.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'data': this route answers data (JSON, a file), never a document: the API header set. */
    answers?: 'data';
  }
}

/** The headers helmet sets for `options`, lower-cased. Throws if helmet reports an error or works asynchronously. */
export function securityHeadersOf(options: Readonly<HelmetOptions>): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let finished = false;
  helmet(options)(
    {} as IncomingMessage,
    response as unknown as ServerResponse,
    (error?: unknown) => {
      if (error) throw error instanceof Error ? error : new Error('helmet reported an error');
      finished = true;
    },
  );
  if (!finished)
    throw new Error('helmet did not finish synchronously: its headers cannot be computed once');
  return headers;
}

/** The API set (see above) that goes with a document set `helmet` computed: same HSTS, same CORP. */
export function dataSecurityHeadersOf(
  documentHeaders: Readonly<Record<string, string>>,
): Record<string, string> {
  const hsts = documentHeaders['strict-transport-security'];
  return {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-resource-policy':
      documentHeaders['cross-origin-resource-policy'] ?? 'same-origin',
    'referrer-policy': 'no-referrer',
    ...(hsts ? { 'strict-transport-security': hsts } : {}),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  };
}

/** Does the matched route answer data (tRPC, REST, or `config.answers === 'data'`)? */
function answersData(request: FastifyRequest): boolean {
  const config = routeConfigOf(request);
  return config.trpc !== undefined || config.answers === 'data';
}

export const securityHeadersPlugin = fp<{ helmet: HelmetOptions }>(
  async (app: FastifyInstance, options) => {
    const documents = securityHeadersOf(options.helmet);
    const data = dataSecurityHeadersOf(documents);
    app.addHook('onRequest', (request, reply, done) => {
      reply.headers(answersData(request) ? data : documents);
      // The server's own id (genReqId), never one a client sent: every answer names it.
      reply.header('x-request-id', request.id);
      done();
    });
  },
  { name: 'tessera-security-headers', fastify: '5.x', dependencies: ['tessera-route-config'] },
);
