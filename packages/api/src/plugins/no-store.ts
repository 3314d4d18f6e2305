/**
 * Private answers are never cached (ASVS V8.2.1): every answer to a request that carries a
 * credential (a resolved principal, an Authorization header, any cookie) or that sets a cookie
 * gets `Cache-Control: no-store`, overriding whatever a route chose, refusals and errors included.
 * Only a route that declares `config: { sharedCache: true }` keeps its own header: the console's
 * built files (console.ts), which are the same for everyone although browsers send the session
 * cookie with them. Pinned by http-auth.security.test.ts.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { routeConfigOf } from './route-config.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** true: the answer is identical for every caller, so its own Cache-Control stands. */
    sharedCache?: boolean;
  }
}

export const noStorePlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onSend', (request, reply, payload, done) => {
      if (routeConfigOf(request).sharedCache !== true) {
        const credentialed =
          request.principal !== null ||
          request.headers.authorization !== undefined ||
          request.headers.cookie !== undefined;
        if (credentialed || reply.hasHeader('set-cookie'))
          reply.header('cache-control', 'no-store');
      }
      done(null, payload);
    });
  },
  {
    name: 'tessera-no-store',
    fastify: '5.x',
    dependencies: ['@fastify/cookie', 'tessera-principal'],
  },
);
