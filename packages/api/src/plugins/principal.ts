/**
 * Resolves who is calling (session cookie or Bearer key, never both) before any handler runs.
 *
 * Only routes that may need a principal pay for it: a route declaring `config: { principal: false }`
 * (the console's static files, health probes) and requests that match no route skip every
 * resolver and keep `request.principal` null. Routes are resolved by default, so a route added
 * later without the flag still sees its caller (/trpc, /auth/*, /privacy/downloads/*, /audit/export).
 *
 * With a session cache (`caches`), this plugin starts and closes it with the server, and after
 * every POST (the requests that change sessions: sign-out, revocations, role and policy changes)
 * waits, before answering, until this process has applied every notification committed so far:
 * the caller's next request never meets its own sign-out still cached here.
 */
import type { Principal } from '@tessera/api-contract';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { routeConfigOf } from './route-config.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** false: this route never reads `request.principal`, so no resolver runs for it. */
    principal?: boolean;
  }
}

export type PrincipalResolver = (request: FastifyRequest) => Promise<Principal | null>;

/** What the principal plugin needs of a cache in front of a resolver (SessionCache). */
export interface ResolverCache {
  start(): Promise<void>;
  close(): Promise<void>;
  /** Resolves once every change committed before the call has reached the cache. */
  sync(): Promise<void>;
}

export interface PrincipalOptions {
  resolvers: readonly PrincipalResolver[];
  caches?: readonly ResolverCache[];
}

export const principalPlugin = fp<PrincipalOptions>(
  async (app: FastifyInstance, options) => {
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request) => {
      if (routeConfigOf(request).principal === false || request.is404) return;
      for (const resolve of options.resolvers) {
        const principal = await resolve(request);
        if (principal) {
          request.principal = principal;
          return;
        }
      }
    });
    const caches = options.caches ?? [];
    if (caches.length === 0) return;
    // Callback style: a GET (most requests) passes straight through, with no promise to settle.
    app.addHook('onSend', (request, _reply, payload, done) => {
      if (request.method !== 'POST') return done(null, payload);
      Promise.all(caches.map((cache) => cache.sync())).then(
        () => done(null, payload),
        (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
      );
    });
    app.addHook('onReady', async () => {
      await Promise.all(caches.map((cache) => cache.start()));
    });
    app.addHook('onClose', async () => {
      await Promise.all(caches.map((cache) => cache.close()));
    });
  },
  { name: 'tessera-principal', fastify: '5.x' },
);
