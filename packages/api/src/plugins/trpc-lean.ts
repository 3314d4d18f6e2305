/**
 * The lean path for single tRPC calls (docs/decisions/0008-lean-trpc-route.md). tRPC's Fastify
 * adapter turns every request into a Fetch API `Request` and its answer into a `Response`; that
 * round trip costs most of the throughput of a cheap procedure. Here a single (non-batched) query
 * over GET or mutation over POST with a JSON body calls the procedure directly, with tRPC's own
 * exported helpers (`getErrorShape`, `getHTTPStatusCode`), the router's output transformer and the same
 * createContext, onError and responseMeta as the adapter (trpc.ts `trpcHandlersOf`), and answers
 * the bytes the adapter would: body, status, content-type, vary and the responseMeta headers.
 *
 * Guarantees: it runs as the handler of the adapter's one route, so every hook (load shedding,
 * CSRF, rate limit allow list, principal, API key, no-store) has decided on the same matched route
 * and the same `trpcCallOf` procedure list; it never reads the raw URL's path. Anything it does
 * not recognise goes to the adapter's handler unchanged: batches, subscriptions, streaming
 * (`trpc-accept`, `accept: application/jsonl`), unknown procedures, a query over POST or a
 * mutation over GET, other methods, other content types, query parameters other than `input`,
 * and a URL tRPC cannot parse. Pinned by trpc-lean.conformance.db.test.ts, which runs one matrix
 * through `@trpc/client` against the server with and without this path.
 */
import {
  getErrorShape,
  TRPCError,
  type AnyProcedure,
  type TRPCDefaultErrorShape,
  type TRPCRootConfig,
} from '@trpc/server';
import { getHTTPStatusCode, type ResponseMeta, type TRPCRequestInfo } from '@trpc/server/http';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { TrpcHandlers } from './trpc.js';
import { disconnectSignal, runSingleCall } from './trpc-lean-call.js';
import { trpcCallOf } from './trpc-route.js';

interface RootTypes {
  ctx: object;
  meta: object;
  errorShape: TRPCDefaultErrorShape;
  transformer: boolean;
}

interface LeanCall {
  path: string;
  procedure: AnyProcedure;
  type: 'query' | 'mutation';
  /** The query string's parameters, decoded as `URL.searchParams` decodes them. */
  query: URLSearchParams;
  /** The URL as the adapter builds it, built on first use (a request whose URL would not parse never gets here). */
  url: () => URL;
}

/** Puts the lean path in front of the handler of every route registered in `scope` from now on. */
export function serveSingleCallsLean(scope: FastifyInstance, handlers: TrpcHandlers): void {
  scope.addHook('onRoute', (route) => {
    const stock = route.handler;
    const lean: RouteHandlerMethod = async function (this: FastifyInstance, request, reply) {
      const call = leanCallOf(request, handlers.router);
      if (call === null) return stock.call(this, request, reply);
      return answer(request, reply, call, handlers);
    };
    route.handler = lean;
  });
}

/** The one call this request makes, when the lean path serves it exactly as the adapter would; else null. */
function leanCallOf(request: FastifyRequest, router: TrpcHandlers['router']): LeanCall | null {
  const method = request.method;
  if (method !== 'GET' && method !== 'POST') return null;
  const trpc = trpcCallOf(request);
  if (trpc === null || trpc.batch || trpc.procedures.length !== 1) return null;
  const path = trpc.procedures[0] ?? '';
  const procedure = (router._def.procedures as Record<string, AnyProcedure | undefined>)[path];
  const type =
    procedure?._def.type === 'query' && method === 'GET'
      ? 'query'
      : procedure?._def.type === 'mutation' && method === 'POST'
        ? 'mutation'
        : null;
  if (procedure === undefined || type === null) return null;
  if (!acceptsPlainJson(request)) return null;
  const target = request.raw.url ?? '';
  let query: URLSearchParams;
  let url: () => URL;
  if (target.startsWith('/') && hostParses(request)) {
    // The path needs no URL object: Fastify routed it, trpcCallOf decoded the procedure.
    const from = target.indexOf('?');
    const to = target.indexOf('#');
    // The slice keeps its leading '?', which URLSearchParams removes, exactly one, as URL does:
    // `??input=` names the parameter `?input`, never `input`.
    query = new URLSearchParams(
      from === -1 || (to !== -1 && to < from) ? '' : target.slice(from, to === -1 ? undefined : to),
    );
    let built: URL | undefined;
    url = () => (built ??= urlOf(request) as URL);
  } else {
    const parsed = urlOf(request);
    if (parsed === null) return null;
    query = parsed.searchParams;
    url = () => parsed;
  }
  for (const key of query.keys()) if (key !== 'input') return null;
  return { path, procedure, type, query, url };
}

/**
 * tRPC streams when `trpc-accept` says so or `accept` lists application/jsonl, and picks its input
 * reader by content type; the lean path takes the plain JSON ones only (csrf.ts has refused the
 * rest on tRPC routes already). POST bodies arrive as the adapter's JSON parser leaves them: a string.
 */
function acceptsPlainJson(request: FastifyRequest): boolean {
  const headers = request.headers;
  if (headers['trpc-accept'] !== undefined || headers.accept?.includes('application/jsonl'))
    return false;
  const contentType = headers['content-type']?.toLowerCase().split(';', 1)[0]?.trim();
  if (request.method === 'GET')
    return contentType === undefined || contentType === '' || contentType === 'application/json';
  return contentType === 'application/json' && typeof request.body === 'string';
}

/** The origin the adapter builds its URL on (node-http createURL). */
function baseOf(request: FastifyRequest): string {
  const raw = request.raw;
  const encrypted = 'encrypted' in raw.socket && raw.socket.encrypted === true;
  const host = raw.headers.host ?? (raw.headers[':authority'] as string | undefined) ?? 'localhost';
  return `${encrypted ? 'https:' : 'http:'}//${host}`;
}

/** The URL as the adapter builds it; null where it would fail. */
function urlOf(request: FastifyRequest): URL | null {
  try {
    return new URL(request.raw.url ?? '', baseOf(request));
  } catch {
    return null;
  }
}

/**
 * Whether the adapter's URL would parse for a path-only target: that depends only on the origin
 * built from the Host header, so the answer is remembered per origin (a handful in practice;
 * the memory is bounded and starts over when full).
 */
const ORIGINS_REMEMBERED = 256;
const originParses = new Map<string, boolean>();

function hostParses(request: FastifyRequest): boolean {
  const base = baseOf(request);
  let parses = originParses.get(base);
  if (parses === undefined) {
    parses = URL.canParse('/', base);
    if (originParses.size >= ORIGINS_REMEMBERED) originParses.clear();
    originParses.set(base, parses);
  }
  return parses;
}

async function answer(
  request: FastifyRequest,
  reply: FastifyReply,
  call: LeanCall,
  handlers: TrpcHandlers,
): Promise<FastifyReply> {
  const { path, procedure, type } = call;
  // The router is typed AnyRouter (the bench mounts a variant); its config is the contract's shape.
  const config = handlers.router._def._config as TRPCRootConfig<RootTypes>;
  const input = rawInputOf(request, call, (value) => config.transformer.input.deserialize(value));
  const signal = disconnectSignal(reply);
  const info: TRPCRequestInfo = {
    accept: null,
    type,
    isBatchCall: false,
    connectionParams: null,
    // Built on first read: nothing on the request path reads them, and both cost.
    get signal() {
      return signal();
    },
    get url() {
      return call.url();
    },
    calls: [{ path, procedure, batchIndex: 0, getRawInput: input.read, result: input.result }],
  };
  const outcome = await runSingleCall(request, reply, handlers, {
    path,
    procedure,
    type,
    info,
    getRawInput: input.read,
    inputForError: input.result,
    signal,
  });
  const { ctx, data } = outcome;
  let error = outcome.error;
  // The adapter refuses a stream-like result outside a streaming request, from its outer catch
  // (no path or input in the error, as there).
  let errorPath: string | undefined = path;
  if (error === undefined && isDataStream(data)) {
    error = new TRPCError({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'Cannot use stream-like response in non-streaming request - use httpBatchStreamLink',
    });
    errorPath = undefined;
    handlers.onError({ error, path: undefined, input: undefined, ctx, type, req: request });
  }
  const body =
    error === undefined
      ? { result: { data } }
      : {
          error: getErrorShape({
            config,
            ctx,
            error,
            input: errorPath === undefined ? undefined : input.result(),
            path: errorPath,
            type,
          }),
        };
  const errors = error === undefined ? [] : [error];
  const meta = handlers.responseMeta({
    ctx,
    info,
    paths: [path],
    data: [body],
    errors,
    eagerGeneration: false,
    type,
  });
  void reply.code(meta.status ?? getHTTPStatusCode(body, errors));
  // Headers in the adapter's order: its own first, then responseMeta's (which may replace them).
  void reply.header('content-type', 'application/json').header('vary', 'trpc-accept, accept');
  for (const [name, value] of metaHeaders(meta)) void reply.header(name, value);
  // A Buffer, because Fastify would append `; charset=utf-8` to a JSON string's content type.
  // The router's output transformer, applied as tRPC's transformTRPCResponse applies it.
  const output = config.transformer.output;
  const wire: unknown =
    'error' in body
      ? { error: output.serialize(body.error) as unknown }
      : { result: { data: output.serialize(data) as unknown } };
  return reply.send(Buffer.from(JSON.stringify(wire)));
}

/** The call's input read once and lazily, as tRPC's JSON reader does (a procedure without input never parses it). */
function rawInputOf(
  request: FastifyRequest,
  call: LeanCall,
  deserialize: (value: unknown) => unknown,
): { read: () => Promise<unknown>; result: () => unknown } {
  let state: { value: unknown } | { error: TRPCError } | null = null;
  const read = async (): Promise<unknown> => {
    if (state === null) {
      const text = request.method === 'GET' ? call.query.get('input') : (request.body as string);
      try {
        state = { value: text ? deserialize(JSON.parse(text)) : undefined };
      } catch (cause) {
        // tRPC's `memo`: whatever the reader throws reaches the procedure as BAD_REQUEST with its message.
        state = {
          error:
            cause instanceof TRPCError
              ? cause
              : new TRPCError({
                  code: 'BAD_REQUEST',
                  message: cause instanceof Error ? cause.message : 'Invalid input',
                  cause,
                }),
        };
      }
    }
    if ('error' in state) throw state.error;
    return state.value;
  };
  const result = (): unknown => (state !== null && 'value' in state ? state.value : undefined);
  return { read, result };
}

/** responseMeta's headers as the adapter applies them: arrays append, strings replace. */
export function metaHeaders(meta: ResponseMeta): Map<string, string> {
  const out = new Map<string, string>();
  const headers = meta.headers;
  if (headers === undefined) return out;
  const append = (name: string, value: string): void => {
    const key = name.toLowerCase();
    const existing = out.get(key);
    out.set(key, existing === undefined ? value : `${existing}, ${value}`);
  };
  if (headers instanceof Headers) {
    headers.forEach((value, name) => append(name, value));
    return out;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const item of value) append(name, item);
    else if (typeof value === 'string') out.set(name.toLowerCase(), value);
  }
  return out;
}

/** tRPC's isDataStream: an async iterable, or an object holding a promise or an async iterable. */
function isDataStream(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  if (Symbol.asyncIterator in value) return true;
  return Object.values(value).some(
    (item: unknown) =>
      isPromiseLike(item) ||
      (typeof item === 'object' &&
        item !== null &&
        !Array.isArray(item) &&
        Symbol.asyncIterator in item),
  );
}

function isPromiseLike(value: unknown): boolean {
  if (
    (typeof value !== 'object' || value === null || Array.isArray(value)) &&
    typeof value !== 'function'
  )
    return false;
  const candidate = value as { then?: unknown; catch?: unknown };
  return typeof candidate.then === 'function' && typeof candidate.catch === 'function';
}
