/**
 * Bearer API keys on every request: `Authorization: Bearer sk_live_...` becomes an
 * ApiKeyPrincipal through the verifier (checksum, one SECURITY DEFINER lookup or the
 * LISTEN/NOTIFY-invalidated cache, revoked/expired, IP allowlist on request.ip, per-key rate
 * limit, quota). Scopes are enforced later, per procedure, by authorize.
 *
 * Guarantees: unknown, malformed, revoked and expired keys get one identical 401; an IP refusal
 * 403; a limit or quota 429 with Retry-After when a retry can help; a request that carries both
 * the session cookie and a Bearer key is refused (401), never resolved as either. Refusals of
 * existing keys are audited (committed) before the answer leaves. The key is never logged.
 *
 * Callers must not: register this before `tessera-principal` (the dependency is declared), add
 * `apiKeyResolver` to the principal plugin's resolvers as well, or share one verifier between
 * two apps (the plugin starts and closes it).
 * Pinned by api-key.security.test.ts.
 */
import { AuthError, publishApiKeyRefusal } from '@tessera/auth';
import { toWireError, type ApiKeyPrincipal } from '@tessera/api-contract';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiKeyVerifier } from '@tessera/auth/api-keys';
import { problemOf, sendProblem, type WireError } from '../rest/problem.js';
import { isRestRoute, trpcCallOf } from './trpc-route.js';
import { routeConfigOf } from './route-config.js';

export interface ApiKeyPluginOptions {
  verifier: ApiKeyVerifier;
  /** The session cookie's name (sessionCookieName(publicUrl)): never accepted together with a key. */
  cookieName: string;
  now?: () => Date;
}

/** A refused key, ready to send: status, headers and a tRPC-shaped error body. */
export class ApiKeyRefusedError extends Error {
  override readonly name = 'ApiKeyRefusedError';
  constructor(
    readonly reason: AuthError['code'],
    readonly statusCode: number,
    readonly headers: Record<string, string>,
    readonly body: unknown,
  ) {
    super(reason);
  }
}

const BEARER = /^Bearer +([^\s]{1,200})\s*$/i;
const MAX_CALLS = 11; // tRPC refuses batches over 10; one more keeps the count honest and bounded

/** The resolver: a principal, null when no Bearer key is presented, or throws ApiKeyRefusedError. */
export function apiKeyResolver(
  options: ApiKeyPluginOptions,
): (request: FastifyRequest) => Promise<ApiKeyPrincipal | null> {
  const now = options.now ?? ((): Date => new Date());
  return async (request) => {
    const header = request.headers.authorization;
    if (header === undefined || !/^bearer\b/i.test(header)) return null; // another scheme: not ours
    // Each call tRPC will run counts (docs/design.md "Requests"), read from the matched route as tRPC reads it.
    const trpc = trpcCallOf(request);
    const calls = Math.min(trpc?.procedures.length ?? 1, MAX_CALLS);
    const batched = trpc?.batch ?? false;
    const raw = BEARER.exec(header)?.[1];
    // Never both: a browser's ambient session must not mix with a key (docs/design.md "Public contract").
    if (raw === undefined || hasCookie(request.headers.cookie, options.cookieName))
      throw refusal(new AuthError('api_key_invalid'), batched ? calls : 0);
    try {
      const key = await options.verifier.verify(raw, { ip: request.ip, now: now(), calls });
      if (key === null) throw new AuthError('api_key_invalid');
      return {
        kind: 'api_key',
        tenantId: key.tenantId,
        keyId: key.id,
        keyType: key.type,
        scopes: key.scopes,
      };
    } catch (error) {
      if (error instanceof AuthError) throw refusal(error, batched ? calls : 0);
      throw error;
    }
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: the API-key resolver leaves this route's Authorization header alone. */
    apiKey?: boolean;
  }
}

export const apiKeyPlugin = fp<ApiKeyPluginOptions>(
  async (app: FastifyInstance, options) => {
    const resolve = apiKeyResolver(options);
    app.addHook('onRequest', async (request, reply) => {
      // A route may carry its own bearer scheme (GET /metrics and METRICS_TOKEN): `config: { apiKey: false }`.
      if (request.headers.authorization === undefined || routeConfigOf(request).apiKey === false)
        return;
      try {
        const principal = await resolve(request);
        if (principal) request.principal = principal;
      } catch (error) {
        if (!(error instanceof ApiKeyRefusedError)) throw error;
        request.log.info({ reason: error.reason, statusCode: error.statusCode }, 'api key refused');
        // The REST face answers the same refusal as an RFC 9457 problem (same status and reason).
        if (isRestRoute(request))
          return sendProblem(
            reply.headers(error.headers),
            problemOf(error.statusCode, (error.body as { error: WireError }).error, request.id),
          );
        return reply.code(error.statusCode).headers(error.headers).send(error.body);
      }
    });
    app.addHook('onReady', async () => options.verifier.start());
    app.addHook('onClose', async () => options.verifier.close());
  },
  { name: 'tessera-api-key', fastify: '5.x', dependencies: ['tessera-principal'] },
);

/** `batchSize` > 0: a batch answer, one error per call, as the tRPC batch link expects. */
function refusal(error: AuthError, batchSize: number): ApiKeyRefusedError {
  publishApiKeyRefusal(error); // every key the resolver refuses passes here once
  // The one domain-to-wire mapping (api-contract errors.ts) decides code and message.
  const wire = toWireError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: error }));
  const httpStatus = getHTTPStatusCodeFromError(wire);
  const data = {
    code: wire.code,
    httpStatus,
    reason: error.code,
    ...(error.retryAfterSeconds === undefined
      ? {}
      : { retryAfterSeconds: error.retryAfterSeconds }),
  };
  const envelope = {
    error: { message: wire.message, code: TRPC_ERROR_CODES_BY_KEY[wire.code], data },
  };
  const headers: Record<string, string> =
    error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) };
  return new ApiKeyRefusedError(
    error.code,
    httpStatus,
    headers,
    batchSize > 0 ? Array.from({ length: batchSize }, () => envelope) : envelope,
  );
}

function hasCookie(header: string | undefined, name: string): boolean {
  if (header === undefined) return false;
  return header.split(';').some((part) => part.trimStart().startsWith(`${name}=`));
}
