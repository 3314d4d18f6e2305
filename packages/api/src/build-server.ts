import { randomUUID, type KeyObject } from 'node:crypto';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { Services } from '@tessera/api-contract';
import type { AnyRouter } from '@trpc/server';
import { poolWaitEstimator, type Database } from '@tessera/db';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ApiConfig } from './config.js';
import { loggerOptions } from './logger.js';
import { healthPlugin } from './plugins/health.js';
import { securityHeadersPlugin } from './plugins/security-headers.js';
import { routeConfigPlugin } from './plugins/route-config.js';
import { principalPlugin, type PrincipalResolver } from './plugins/principal.js';
import { createApiKeyVerifier } from '@tessera/auth/api-keys';
import { apiKeyPlugin } from './plugins/api-key.js';
import type { PlatformProvider } from '@tessera/auth/sso';
import { consolePlugin } from './plugins/console.js';
import { privacyDownloadPlugin } from './plugins/privacy-download.js';
import {
  loadSheddingOptionsOf,
  loadSheddingPlugin,
  type ShedReason,
} from './plugins/load-shedding.js';
import { metricsPlugin } from './plugins/metrics.js';
import { auditUnanchoredAgeSeconds } from '@tessera/auth/audit';
import type { Redis } from 'ioredis';
import type { RateLimitStore } from '@tessera/auth/rate-limit';
import { appRouter } from '@tessera/api-contract';
import { ssoPlugin } from './plugins/sso.js';
import { samlPlugin } from './plugins/saml.js';
import { auditExportPlugin } from './routes/audit-export.js';
import { csrfPlugin } from './plugins/csrf.js';
import { noStorePlugin } from './plugins/no-store.js';
import { sessionCacheOf, sessionCookieName, sessionResolver } from './plugins/session-cookie.js';
import { trpcPlugin } from './plugins/trpc.js';
import { restPlugin } from './plugins/rest.js';
import { apiReferencePlugin } from './plugins/api-reference.js';
import { isTrpcRoute } from './plugins/trpc-route.js';
import { scimPlugin } from './scim/scim-plugin.js';
import { oidcProviderOptionsOf, oidcProviderPlugin } from './oidc/oidc-provider-plugin.js';

export interface ServerDeps {
  database: Database;
  services: Services;
  /** Public half of AUDIT_SIGNING_KEY, so audit.verify checks checkpoint signatures. */
  auditPublicKey?: KeyObject;
  /** OIDC sign-in: the Auth.js secret ring and platform-wide providers. */
  sso?: { sessionSecret: string; platformProviders: readonly PlatformProvider[] };
  /** Prometheus /metrics: bearer token, or a separate port. */
  metrics?: { token?: string | undefined; port?: number | undefined };
  /** Shared counters for several API processes (REDIS_URL). */
  redis?: Redis;
  rateLimitStore?: RateLimitStore;
  /** Built console (apps/web/dist) served at `/`; omitted: the API only. */
  consoleRoot?: string;
  /** Bench only: a router with the same context and procedures as the contract. */
  router?: AnyRouter;
  /**
   * Single tRPC calls skip the stock adapter's Fetch API round trip (plugins/trpc-lean.ts).
   * Default true; false serves everything through the adapter (the conformance test's reference).
   */
  leanTrpc?: boolean;
  now?: () => Date;
  /** Extra log destination (tests). */
  logStream?: NodeJS.WritableStream;
  resolvers?: readonly PrincipalResolver[];
}

/** Builds the API without listening (docs/contributing.md convention 9); only apps/server/src/main.ts listens. */
export async function buildServer(config: ApiConfig, deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions({
      level: config.logLevel,
      ...(config.logFormat ? { format: config.logFormat } : {}),
      ...(deps.logStream ? { stream: deps.logStream } : {}),
    }),
    ...trustProxyOption(config.trustProxy),
    genReqId: () => randomUUID(),
    requestIdHeader: false, // never trust a client-chosen id
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: 2048 }, // tRPC batch paths join procedure names with commas
  });
  // Every hook below reads the matched route's config through one per-request cache.
  await app.register(routeConfigPlugin);

  // One error handler hides every 5xx message (docs/design.md rule 5); 4xx keep Fastify's safe text. Set
  // before any plugin: an encapsulated scope (the tRPC adapter's) copies the handler it is born with.
  app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(status).send({
        error: 'Internal Server Error',
        message: 'Something went wrong.',
        requestId: request.id,
      });
    }
    return reply
      .code(status)
      .send({ error: error.message, statusCode: status, requestId: request.id });
  });

  // Plugins in a fixed order: metrics, headers, CORS, load shedding, cookies, rate limit, CSRF,
  // principal, no-store, API key, routes (tRPC, REST, API reference).
  if (deps.metrics) {
    await app.register(metricsPlugin, {
      token: deps.metrics.token,
      listen: deps.metrics.port ? { port: deps.metrics.port } : undefined,
      procedures: Object.keys(appRouter._def.procedures),
      pools: { app: deps.database.pool },
      auditCheckpointAgeSeconds: () => auditUnanchoredAgeSeconds(deps.database),
    });
  }
  const https = new URL(config.publicUrl).protocol === 'https:';
  await app.register(securityHeadersPlugin, {
    helmet: {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          styleSrc: ["'self'"],
          scriptSrc: ["'self'"],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: https ? [] : null,
        },
      },
      hsts: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      crossOriginEmbedderPolicy: false,
    },
  });
  const trusted = new Set([
    new URL(config.publicUrl).origin,
    ...config.corsOrigins.map((o) => new URL(o).origin),
  ]);
  await app.register(cors, {
    origin: (origin, callback) => callback(null, origin !== undefined && trusted.has(origin)),
    credentials: true,
    methods: ['GET', 'POST'],
  });
  const metrics = deps.metrics ? app.tesseraMetrics : null;
  await app.register(loadSheddingPlugin, {
    ...loadSheddingOptionsOf(config.loadShedding, [poolWaitEstimator(deps.database.pool)]),
    ...(metrics ? { onShed: (reason: ShedReason) => metrics.shed(reason) } : {}),
  });
  await app.register(cookie);
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowMs,
    keyGenerator: (request) => request.ip,
    // tRPC calls are counted one by one inside the router (a batch of 10 counts 10); only a
    // request the router will run as tRPC calls skips this count (trpc-route.ts).
    allowList: (request) => isTrpcRoute(request),
    ...(deps.redis ? { redis: deps.redis, nameSpace: 'tessera:http-rl:', skipOnError: true } : {}),
  });
  await app.register(csrfPlugin, { trustedOrigins: trusted });
  const now = deps.now ?? ((): Date => new Date());
  const cookieName = sessionCookieName(config.publicUrl);
  const sessionCache = sessionCacheOf(deps.database, config.sessionCache, (error) =>
    app.log.warn({ err: error }, 'session cache background task failed'),
  );
  await app.register(principalPlugin, {
    resolvers: [
      sessionResolver(deps.database, cookieName, sessionCache),
      ...(deps.resolvers ?? []),
    ],
    caches: sessionCache ? [sessionCache] : [],
  });
  await app.register(noStorePlugin);
  const verifier = createApiKeyVerifier({
    pool: deps.database.pool,
    peppers: deps.services.apiKeys.peppers,
    ...(deps.rateLimitStore ? { rateLimitStore: deps.rateLimitStore } : {}),
    onBackgroundError: (error) => app.log.warn({ err: error }, 'api key background task failed'),
  });
  await app.register(apiKeyPlugin, { verifier, cookieName, now });
  await app.register(auditExportPlugin, { database: deps.database, now });
  await app.register(healthPlugin, { database: deps.database });
  await app.register(privacyDownloadPlugin, {
    database: deps.database,
    keyring: deps.services.accounts.keyring,
    now,
  });
  const trpcOptions = {
    database: deps.database,
    services: deps.services,
    cookieName,
    now,
    auditPublicKey: deps.auditPublicKey,
    ...(deps.router ? { router: deps.router } : {}),
  };
  await app.register(trpcPlugin, { ...trpcOptions, lean: deps.leanTrpc ?? true });
  // The REST face for API keys (/api/v1, /api/openapi.json) runs the same procedures, and its reference page.
  await app.register(restPlugin, trpcOptions);
  await app.register(apiReferencePlugin, { https });
  // SCIM 2.0 provisioning for identity providers (/scim/v2): its own bearer tokens, nothing else.
  await app.register(scimPlugin, {
    database: deps.database,
    peppers: deps.services.apiKeys.peppers,
    keyring: deps.services.accounts.keyring,
    publicUrl: config.publicUrl,
    now,
  });
  // Each tenant's OpenID Provider for its own apps (/oidc/<slug>; docs/oidc-provider.md).
  await app.register(oidcProviderPlugin, oidcProviderOptionsOf(config, deps, now));

  if (deps.sso) {
    await app.register(ssoPlugin, {
      database: deps.database,
      services: deps.services,
      publicUrl: config.publicUrl,
      cookieName,
      now,
      sessionSecret: deps.sso.sessionSecret,
      platformProviders: deps.sso.platformProviders,
      // The services' rule (the one procedures check URLs with), else one from NODE_ENV.
      outbound: deps.services.sso?.outbound ?? {
        mode: config.nodeEnv === 'production' ? 'production' : 'development',
        onLoopback: (host) =>
          app.log.warn({ host }, 'sso: loopback identity provider allowed outside production'),
      },
    });
    // SAML connections: SP metadata, start, assertion consumer service (plugins/saml.ts).
    await app.register(samlPlugin, {
      database: deps.database,
      services: deps.services,
      publicUrl: config.publicUrl,
      cookieName,
      now,
      sessionSecret: deps.sso.sessionSecret,
    });
  }

  // The console owns the root not-found handler: register it after every API route.
  if (deps.consoleRoot) await app.register(consolePlugin, { root: deps.consoleRoot });

  return app;
}

/**
 * docs/design.md "Requests": `TRUST_PROXY` as a hop count trusts that many proxies in front of us. Fastify
 * cannot be given the count itself: it reads a string as a list of addresses ("1" trusts nobody)
 * and, since 5.x, a number as "trust nobody" too. So the count becomes proxy-addr's trust function:
 * hop 0 is the socket peer, hop 1 the address that peer forwarded, and so on towards the client.
 * Pinned over real HTTP by trust-proxy.security.test.ts.
 */
function trustProxyOption(
  value: ApiConfig['trustProxy'],
): Pick<FastifyServerOptions, 'trustProxy'> {
  if (value === false) return {};
  if (typeof value === 'number') {
    const hops = value;
    return { trustProxy: (_address: string, hop: number) => hop < hops };
  }
  return { trustProxy: value };
}
