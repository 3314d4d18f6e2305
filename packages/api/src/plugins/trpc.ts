import { appRouter, type Context } from '@tessera/api-contract';
import type { Database } from '@tessera/db';
import { fastifyTRPCPlugin, type CreateFastifyContextOptions, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import type { AppRouter } from '@tessera/api-contract';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface TrpcOptions {
  database: Database;
  now?: () => Date;
}

/** Batches are capped (DESIGN "Requests"): a batch of 20 sign-ins must not slip past per-call limits. */
export const MAX_BATCH_SIZE = 10;

export const trpcPlugin = fp<TrpcOptions>(
  async (app: FastifyInstance, options) => {
    const now = options.now ?? ((): Date => new Date());
    const createContext = ({ req }: CreateFastifyContextOptions): Context => ({
      db: options.database,
      meta: { ip: req.ip, userAgent: req.headers['user-agent']?.slice(0, 512) ?? null, requestId: req.id },
      principal: req.principal,
      now,
    });
    const pluginOptions: FastifyTRPCPluginOptions<AppRouter> = {
      prefix: '/trpc',
      trpcOptions: {
        router: appRouter,
        createContext,
        maxBatchSize: MAX_BATCH_SIZE,
        onError({ error, path, req }) {
          if (error.code === 'INTERNAL_SERVER_ERROR') req.log.error({ err: error.cause ?? error, path }, 'procedure failed');
        },
      },
    };
    await app.register(fastifyTRPCPlugin, pluginOptions);
  },
  { name: 'tessera-trpc', fastify: '5.x', dependencies: ['tessera-principal'] },
);
