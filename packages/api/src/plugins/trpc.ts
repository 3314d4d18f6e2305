import { appRouter, type Context, type Services } from '@tessera/api-contract';
import type { AnyRouter } from '@trpc/server';
import type { Database } from '@tessera/db';
import {
  fastifyTRPCPlugin,
  type CreateFastifyContextOptions,
  type FastifyTRPCPluginOptions,
} from '@trpc/server/adapters/fastify';
import type { HTTPErrorHandler, ResponseMetaFn } from '@trpc/server/http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { KeyObject } from 'node:crypto';
import {
  clearSessionCookie,
  deviceCookieJar,
  mfaChallengeCookieName,
  setSessionCookie,
} from './session-cookie.js';
import { serveSingleCallsLean } from './trpc-lean.js';
import { markTrpcRoutes } from './trpc-route.js';

export interface TrpcOptions {
  database: Database;
  /** Defaults to the public contract; the bench mounts a variant router built from the same procedures. */
  router?: AnyRouter;
  services: Services;
  cookieName: string;
  /** Ed25519 public key of AUDIT_SIGNING_KEY: audit.verify then checks checkpoint signatures. */
  auditPublicKey?: KeyObject | undefined;
  now?: () => Date;
  /** false: every call goes through the stock adapter (the conformance test's reference). Default true. */
  lean?: boolean;
}

/** Batches are capped (docs/design.md "Requests"): a batch of 20 sign-ins must not slip past per-call limits. */
export const MAX_BATCH_SIZE = 10;

function retryAfterOf(errors: readonly { cause?: unknown }[]): number | undefined {
  let max: number | undefined;
  for (const error of errors) {
    const seconds = (error.cause as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (typeof seconds === 'number') max = Math.max(max ?? 0, seconds);
  }
  return max;
}

/** What both tRPC paths (the stock adapter and trpc-lean.ts) run around a call: one copy each. */
export interface TrpcHandlers {
  router: AnyRouter;
  createContext: (options: CreateFastifyContextOptions) => Context;
  responseMeta: ResponseMetaFn<AnyRouter>;
  onError: HTTPErrorHandler<AnyRouter, FastifyRequest>;
}

export function trpcHandlersOf(app: FastifyInstance, options: TrpcOptions): TrpcHandlers {
  const now = options.now ?? ((): Date => new Date());
  const challengeCookie = mfaChallengeCookieName(options.cookieName);
  return {
    router: options.router ?? appRouter,
    createContext: ({ req, res }) => ({
      db: options.database,
      meta: {
        ip: req.ip,
        userAgent: req.headers['user-agent']?.slice(0, 512) ?? null,
        requestId: req.id,
      },
      principal: req.principal,
      services: options.services,
      mfaChallengeCookie: req.cookies[challengeCookie],
      auditPublicKey: options.auditPublicKey,
      cookies: {
        set: (token, expiresAt) => setSessionCookie(res, options.cookieName, token, expiresAt),
        clear: () => clearSessionCookie(res, options.cookieName),
        device: deviceCookieJar(req, res, options.cookieName),
      },
      now,
    }),
    responseMeta({ errors }) {
      const retryAfter = retryAfterOf(errors);
      return retryAfter === undefined ? {} : { headers: { 'retry-after': String(retryAfter) } };
    },
    onError({ error, path, req }) {
      if (error.code === 'INTERNAL_SERVER_ERROR')
        req.log.error({ err: error.cause ?? error, path }, 'procedure failed');
    },
  };
}

export const trpcPlugin = fp<TrpcOptions>(
  async (app: FastifyInstance, options) => {
    const handlers = trpcHandlersOf(app, options);
    const pluginOptions: FastifyTRPCPluginOptions<AnyRouter> = {
      prefix: '/trpc',
      trpcOptions: { ...handlers, maxBatchSize: MAX_BATCH_SIZE },
    };
    // Every route of the adapter is a tRPC route for the guards (trpc-route.ts), whatever the URL's
    // spelling. The lean path (trpc-lean.ts) answers single calls in front of the adapter's handler,
    // on the adapter's one route, so every hook has already decided the same way for both.
    await app.register(async (scope) => {
      markTrpcRoutes(scope);
      if (options.lean !== false) serveSingleCallsLean(scope, handlers);
      await scope.register(fastifyTRPCPlugin, pluginOptions);
    });
  },
  { name: 'tessera-trpc', fastify: '5.x', dependencies: ['tessera-principal'] },
);
