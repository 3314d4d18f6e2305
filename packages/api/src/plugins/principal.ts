import type { Principal } from '@tessera/api-contract';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export type PrincipalResolver = (request: FastifyRequest) => Promise<Principal | null>;

export interface PrincipalOptions {
  resolvers: readonly PrincipalResolver[];
}

/** Resolves who is calling (session cookie or Bearer key, never both) before any handler runs. */
export const principalPlugin = fp<PrincipalOptions>(
  async (app: FastifyInstance, options) => {
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request) => {
      for (const resolve of options.resolvers) {
        const principal = await resolve(request);
        if (principal) {
          request.principal = principal;
          return;
        }
      }
    });
  },
  { name: 'tessera-principal', fastify: '5.x' },
);
