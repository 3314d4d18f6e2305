/**
 * Serves the web console (apps/web/dist) at `/`: hashed assets with a one-year immutable cache,
 * index.html never cached, and index.html for any other browser navigation (GET/HEAD asking for
 * HTML, no file extension, outside the API prefixes) so client-side routes survive a reload.
 * Anything else that matches no route keeps a JSON 404. Helmet's CSP (script-src 'self',
 * style-src 'self') applies to these responses as to every other: the build has no inline code.
 *
 * When the folder holds no index.html (console not built), the plugin logs it and adds nothing.
 * Register it after the API routes; it owns the root not-found handler.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

export interface ConsoleOptions {
  /** Absolute path of the built console (apps/web/dist). */
  root: string;
  /** Paths that never fall back to index.html (their unknown sub-paths answer JSON 404). */
  apiPrefixes?: readonly string[];
}

export const DEFAULT_API_PREFIXES = ['/trpc', '/healthz', '/readyz', '/metrics', '/api'] as const;

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

function underPrefix(pathname: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => pathname === prefix || pathname.startsWith(`${prefix}/`));
}

function wantsHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/html');
}

export const consolePlugin = fp<ConsoleOptions>(
  async (app: FastifyInstance, options) => {
    const root = path.resolve(options.root);
    const indexFile = path.join(root, 'index.html');
    if (!existsSync(indexFile)) {
      app.log.warn(
        { root },
        'web console not built: serving the API only (run the build to get the console at /)',
      );
      return;
    }
    const indexHtml = readFileSync(indexFile);
    const prefixes = options.apiPrefixes ?? DEFAULT_API_PREFIXES;

    // The built files are the same for every caller: their own Cache-Control stands (no-store.ts),
    // and no session or key is resolved for them (principal.ts). Unknown paths and the index.html
    // fallback reach the not-found handler, which the principal plugin skips as well.
    await app.register(async (files) => {
      files.addHook('onRoute', (route) => {
        route.config = { ...route.config, sharedCache: true, principal: false };
      });
      await files.register(fastifyStatic, {
        root,
        prefix: '/',
        wildcard: false, // one route per built file; unknown paths reach the not-found handler below
        index: ['index.html'],
        decorateReply: false,
        dotfiles: 'deny',
        cacheControl: false,
        setHeaders: (reply, filePath) => {
          const asset = filePath.includes(`${path.sep}assets${path.sep}`);
          reply.header('cache-control', asset ? IMMUTABLE : REVALIDATE);
        },
      });
    });

    app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
      const pathname = request.url.split('?')[0] ?? '/';
      const navigation =
        (request.method === 'GET' || request.method === 'HEAD') && wantsHtml(request);
      if (navigation && !path.posix.extname(pathname) && !underPrefix(pathname, prefixes)) {
        return reply
          .code(200)
          .header('cache-control', REVALIDATE)
          .type('text/html; charset=utf-8')
          .send(indexHtml);
      }
      return reply.code(404).send({
        message: `Route ${request.method}:${pathname} not found`,
        error: 'Not Found',
        statusCode: 404,
      });
    });
    app.log.info({ root }, 'web console served at /');
  },
  { name: 'tessera-console', fastify: '5.x' },
);
