/**
 * Which tRPC calls an HTTP request makes, decided the way the router decides it. A route is a tRPC
 * route because it was registered inside a scope marked by `markTrpcRoutes`, never because the raw
 * URL starts with some prefix; the procedure list comes from the route's path parameter, which
 * Fastify has percent-decoded and tRPC's adapter decodes once more before it runs it (so
 * `a%252Cb` is two calls to tRPC, and here), and the batch flag from the query string as tRPC
 * parses it. So `/%74rpc/auth.signOut`, `/trpc/a%2Cb?batch=%31` and a plain
 * `/trpc/a,b?batch=1` look the same to every guard as to the router, and `//trpc/...`,
 * `/TRPC/...` or `/trpc/a/b` match no tRPC route (Fastify answers 404; they are no tRPC call).
 *
 * CSRF (csrf.ts) and the HTTP rate limit's allow list (build-server.ts) ask `isTrpcRoute`; API-key
 * call counting (api-key.ts) and the lean route ask `trpcCallOf`, parsed once per request. A second route that serves tRPC calls must be
 * registered inside a scope marked with `markTrpcRoutes`, naming its procedure-path parameter.
 * The REST face (rest.ts) serves one fixed procedure per route: its routes carry
 * `config.trpc.procedure`, so every guard counts and treats a REST call as the one tRPC call it
 * makes (`isRestRoute` tells them apart where the answer's shape differs).
 * Pinned by trpc-route.security.test.ts and rest.security.test.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { routeConfigOf } from './route-config.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Set by `markTrpcRoutes`: this route runs tRPC calls named by the parameter `pathParam`; or, on
     * a REST route (rest.ts), the one procedure it runs.
     */
    trpc?: { pathParam: string } | { procedure: string };
  }
}

export interface TrpcCall {
  /** Procedure paths in the order tRPC runs them (one for a non-batch call, even with commas). */
  procedures: readonly string[];
  batch: boolean;
}

/** Marks every route registered in `scope` (and its children) from now on as a tRPC route. */
export function markTrpcRoutes(scope: FastifyInstance, pathParam = 'path'): void {
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, trpc: { pathParam } };
  });
}

/** Is the matched route a tRPC route? (CSRF and the rate-limit allow list need no more.) */
export function isTrpcRoute(request: FastifyRequest): boolean {
  return routeConfigOf(request).trpc !== undefined;
}

/** Is the matched route a REST route (one fixed procedure, answers in JSON and RFC 9457 problems)? */
export function isRestRoute(request: FastifyRequest): boolean {
  const marker = routeConfigOf(request).trpc;
  return marker !== undefined && 'procedure' in marker;
}

/** Parsed once per request: the API-key resolver and the lean route both ask. */
const calls = new WeakMap<FastifyRequest, TrpcCall | null>();

/** The tRPC calls of a request, or null when the matched route is no tRPC route (or none matched). */
export function trpcCallOf(request: FastifyRequest): TrpcCall | null {
  let call = calls.get(request);
  if (call === undefined) {
    call = parseTrpcCall(request);
    calls.set(request, call);
  }
  return call;
}

function parseTrpcCall(request: FastifyRequest): TrpcCall | null {
  const marker = routeConfigOf(request).trpc;
  if (marker === undefined) return null;
  if ('procedure' in marker) return { procedures: [marker.procedure], batch: false };
  const path = decodedAsTrpcDoes(
    (request.params as Record<string, string | undefined> | undefined)?.[marker.pathParam] ?? '',
  );
  // tRPC reads `batch` with URLSearchParams (percent-decoded, first value wins); so do we.
  const batch = searchParamsOf(request.url).get('batch') === '1';
  return { procedures: batch ? path.split(',') : [path], batch };
}

/**
 * tRPC's `resolveResponse` runs `decodeURIComponent` over the (already decoded) parameter. When that
 * throws, tRPC answers 400 and runs nothing; the parameter then stands as one call.
 */
function decodedAsTrpcDoes(parameter: string): string {
  if (!parameter.includes('%')) return parameter;
  try {
    return decodeURIComponent(parameter);
  } catch {
    return parameter;
  }
}

function searchParamsOf(url: string): URLSearchParams {
  const query = url.indexOf('?');
  if (query === -1) return new URLSearchParams();
  const hash = url.indexOf('#', query);
  return new URLSearchParams(url.slice(query, hash === -1 ? undefined : hash)); // URLSearchParams drops the one leading '?', as URL does
}
