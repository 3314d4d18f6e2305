/**
 * The REST face for API-key callers (docs/rest-api.md): `/api/v1/...` routes, each running one
 * tRPC procedure (rest/rest-routes.ts), and the OpenAPI 3.1 document at `/api/openapi.json`.
 *
 * Guarantees: a REST call is the tRPC call. It runs the procedure with the same createContext,
 * onError and responseMeta as /trpc (trpc.ts `trpcHandlersOf`) through the same middleware chain
 * (scope and role checks, per-call limit, input and output schemas, error mapping, audit in the
 * services); every guard hook sees it as that one call (trpc-route.ts: API-key call counting and
 * quotas, the HTTP rate limit's allow list, CSRF's JSON rule). Answers are the procedure's data
 * as JSON, or an RFC 9457 problem with the status and `reason` the tRPC path answers.
 *
 * Only API keys authenticate here: the routes declare `principal: false`, so the session
 * resolver never runs and a cookie alone leaves the caller anonymous (401); a cookie next to a
 * Bearer key is refused by the API-key plugin (401). Pinned by rest.security.test.ts.
 */
import {
  getErrorShape,
  type AnyProcedure,
  type TRPCDefaultErrorShape,
  type TRPCRootConfig,
} from '@trpc/server';
import type { TRPCRequestInfo } from '@trpc/server/http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  inputSchemaOf,
  jsonSchemaOf,
  openApiDocumentOf,
  procedureOf,
} from '../rest/openapi-document.js';
import { problemOf, sendProblem } from '../rest/problem.js';
import {
  fastifyPathOf,
  pathParamsOf,
  REST_PREFIX,
  restRoutes,
  type RestRoute,
} from '../rest/rest-routes.js';
import { trpcHandlersOf, type TrpcHandlers, type TrpcOptions } from './trpc.js';
import { metaHeaders } from './trpc-lean.js';
import { disconnectSignal, runSingleCall } from './trpc-lean-call.js';

export const OPENAPI_DOCUMENT_PATH = '/api/openapi.json';

interface RootTypes {
  ctx: object;
  meta: object;
  errorShape: TRPCDefaultErrorShape;
  transformer: boolean;
}

interface PreparedRoute {
  route: RestRoute;
  procedure: AnyProcedure;
  type: 'query' | 'mutation';
  pathParams: readonly string[];
  /** JSON Schema types of the input's top-level fields: how query-string values are read. */
  fieldTypes: ReadonlyMap<string, string>;
}

export const restPlugin = fp<TrpcOptions>(
  async (app: FastifyInstance, options) => {
    const handlers = trpcHandlersOf(app, options);
    // The contract's routes whose procedure the served router has: all of them for the app's
    // router; a router mounted for a test or the bench serves the ones it carries.
    const procedures = handlers.router._def.procedures as Record<string, unknown>;
    const routes = restRoutes.filter((route) => Object.hasOwn(procedures, route.procedure));
    const document = JSON.stringify(openApiDocumentOf(handlers.router, routes));
    app.get(
      OPENAPI_DOCUMENT_PATH,
      { config: { principal: false, apiKey: false, answers: 'data' } },
      async (_request, reply) =>
        reply.header('content-type', 'application/json; charset=utf-8').send(document),
    );
    await app.register(
      async (scope) => {
        scope.setErrorHandler((error: FastifyError, request, reply) => {
          const status =
            error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500
              ? error.statusCode
              : 500;
          if (status === 500) request.log.error({ err: error }, 'request failed');
          const detail = status === 500 ? 'Something went wrong. Try again later.' : error.message;
          return sendProblem(
            reply,
            problemOf(
              status,
              {
                message: detail,
                data: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' },
              },
              request.id,
            ),
          );
        });
        scope.setNotFoundHandler((request, reply) =>
          sendProblem(
            reply,
            problemOf(404, { message: 'No such route.', data: { code: 'NOT_FOUND' } }, request.id),
          ),
        );
        for (const route of routes) {
          const prepared = prepare(handlers, route);
          scope.route({
            method: route.method,
            url: fastifyPathOf(route.path),
            // `trpc.procedure`: every guard counts this route as the one tRPC call it makes.
            config: { principal: false, trpc: { procedure: route.procedure } },
            handler: (request, reply) => answer(request, reply, prepared, handlers),
          });
        }
      },
      { prefix: REST_PREFIX },
    );
  },
  { name: 'tessera-rest', fastify: '5.x', dependencies: ['tessera-principal'] },
);

function prepare(handlers: TrpcHandlers, route: RestRoute): PreparedRoute {
  const procedure = procedureOf(handlers.router, route.procedure);
  const type = procedure._def.type;
  if (type !== 'query' && type !== 'mutation')
    throw new TypeError(`REST routes serve queries and mutations: ${route.procedure}`);
  const input = inputSchemaOf(procedure);
  const properties = input === null ? {} : (jsonSchemaOf(input, 'input').properties ?? {});
  const fieldTypes = new Map(
    Object.entries(properties).map(([name, schema]) => [
      name,
      typeof schema.type === 'string' ? schema.type : 'string',
    ]),
  );
  return { route, procedure, type, pathParams: pathParamsOf(route.path), fieldTypes };
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** A query-string value as the input field's type reads it; anything else stays a string for zod to refuse. */
function fromQuery(value: unknown, type: string | undefined): unknown {
  if (typeof value !== 'string') return value; // repeated parameters arrive as arrays: zod refuses them
  if ((type === 'integer' || type === 'number') && NUMBER.test(value)) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

/** The procedure's input: path parameters, plus the query string (GET) or the JSON body (POST). */
function inputOf(request: FastifyRequest, prepared: PreparedRoute): unknown {
  const params = request.params as Record<string, string>;
  const fromPath = Object.fromEntries(prepared.pathParams.map((name) => [name, params[name]]));
  if (prepared.route.method === 'GET') {
    const query = Object.entries(request.query as Record<string, unknown>).map(
      ([name, value]) => [name, fromQuery(value, prepared.fieldTypes.get(name))] as const,
    );
    if (query.length === 0 && prepared.pathParams.length === 0) return undefined;
    return { ...Object.fromEntries(query), ...fromPath };
  }
  const body: unknown = request.body;
  if (prepared.pathParams.length === 0) return body;
  // A path parameter names the resource; the body cannot point the call elsewhere.
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? { ...body, ...fromPath }
    : body;
}

async function answer(
  request: FastifyRequest,
  reply: FastifyReply,
  prepared: PreparedRoute,
  handlers: TrpcHandlers,
): Promise<FastifyReply> {
  const { procedure, type } = prepared;
  const path = prepared.route.procedure;
  const config = handlers.router._def._config as TRPCRootConfig<RootTypes>;
  const input = inputOf(request, prepared);
  const signal = disconnectSignal(reply);
  const info: TRPCRequestInfo = {
    accept: null,
    type,
    isBatchCall: false,
    connectionParams: null,
    get signal() {
      return signal();
    },
    url: null,
    calls: [],
  };
  const { ctx, data, error } = await runSingleCall(request, reply, handlers, {
    path,
    procedure,
    type,
    info,
    getRawInput: async () => input,
    inputForError: () => input,
    signal,
  });
  const shape =
    error === undefined ? undefined : getErrorShape({ config, ctx, error, input, path, type });
  // responseMeta counts the call for metrics and sets Retry-After, as on /trpc.
  const body = shape === undefined ? { result: { data } } : { error: shape };
  const meta = handlers.responseMeta({
    ctx,
    info,
    paths: [path],
    data: [body],
    errors: error === undefined ? [] : [error],
    eagerGeneration: false,
    type,
  });
  for (const [name, value] of metaHeaders(meta)) void reply.header(name, value);
  if (shape !== undefined)
    return sendProblem(reply, problemOf(shape.data.httpStatus, shape, request.id));
  return reply
    .code(200)
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify(data));
}
