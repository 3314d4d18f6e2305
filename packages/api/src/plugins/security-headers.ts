/**
 * Security headers on every response, as helmet writes them: helmet decides the header set from
 * the options once, at start-up, and every request copies that fixed set. (Registering helmet
 * per request rebuilt its middleware chain and re-parsed the CSP directives on every call, a
 * measurable share of a short request's CPU.) Nothing here varies per request: the policy has
 * no nonces.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';

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

export const securityHeadersPlugin = fp<{ helmet: HelmetOptions }>(
  async (app: FastifyInstance, options) => {
    const headers = securityHeadersOf(options.helmet);
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });
  },
  { name: 'tessera-security-headers', fastify: '5.x' },
);
