/**
 * The OpenAPI 3.1 document of the REST face, generated at start-up from the same zod schemas
 * tRPC checks: each route's procedure input (query parameters, path parameters or JSON body) and
 * output, the Problem schema (problem.ts) and the audit export's query (`exportAuditLogInput`).
 * zod 4's own `toJSONSchema` writes JSON Schema 2020-12, the dialect OpenAPI 3.1 uses, so no
 * second schema is kept by hand. Validated by openapi-document.test.ts with @readme/openapi-parser.
 */
import type { Access, Meta } from '@tessera/api-contract';
import { exportAuditLogInput } from '@tessera/api-contract/inputs';
import type { AnyProcedure, AnyRouter } from '@trpc/server';
import { toJSONSchema, type ZodType } from 'zod';
import { PROBLEM_CONTENT_TYPE, problemDetails } from './problem.js';
import { pathParamsOf, REST_PREFIX, type RestRoute } from './rest-routes.js';

/** JSON Schema as zod writes it; the document is plain JSON (its validity is tested, not typed). */
export interface Schema {
  type?: unknown;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  [keyword: string]: unknown;
}
type Json = Record<string, unknown>;
type Io = 'input' | 'output';

/**
 * A zod schema as JSON Schema 2020-12, without the `$schema` marker OpenAPI does not want. Shared
 * definitions (recursive ones such as JSON values) move to `components` (passed as `defs`), since a
 * `#/$defs/...` pointer would resolve against the whole document once the schema is placed in it.
 */
export function jsonSchemaOf(schema: ZodType, io: Io, defs?: Definitions): Schema {
  const generated = toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    reused: 'inline',
  }) as Schema & { $schema?: string; $defs?: Record<string, Schema> };
  const { $schema: _dialect, $defs: local, ...rest } = generated;
  void _dialect;
  if (local === undefined) return rest;
  if (defs === undefined) return generated;
  const names = new Map(
    Object.keys(local).map((name) => [`#/$defs/${name}`, `#/components/schemas/${defs.name()}`]),
  );
  const rewrite = (text: string): string =>
    text.replace(/"#\/\$defs\/[^"]+"/g, (ref) =>
      JSON.stringify(names.get(JSON.parse(ref) as string) ?? ref),
    );
  for (const [name, definition] of Object.entries(local)) {
    const target = names.get(`#/$defs/${name}`)?.slice('#/components/schemas/'.length) ?? name;
    defs.schemas[target] = JSON.parse(rewrite(JSON.stringify(definition))) as Schema;
  }
  return JSON.parse(rewrite(JSON.stringify(rest))) as Schema;
}

/** Where jsonSchemaOf puts shared definitions: the document's `components.schemas`. */
export interface Definitions {
  schemas: Record<string, Schema>;
  name: () => string;
}

function definitions(): Definitions {
  let count = 0;
  return { schemas: {}, name: () => `Shared${(count += 1)}` };
}

export function procedureOf(router: AnyRouter, path: string): AnyProcedure {
  const procedure = (router._def.procedures as Record<string, AnyProcedure | undefined>)[path];
  if (procedure === undefined)
    throw new TypeError(`REST route names an unknown procedure: ${path}`);
  return procedure;
}

/** The procedure's one zod input, or null when it takes none. */
export function inputSchemaOf(procedure: AnyProcedure): ZodType | null {
  const inputs = procedure._def.inputs as unknown[];
  if (inputs.length > 1)
    throw new TypeError('REST routes support procedures with one input schema');
  return (inputs[0] as ZodType | undefined) ?? null;
}

function outputSchemaOf(procedure: AnyProcedure, path: string): ZodType {
  const output = (procedure._def as { output?: unknown }).output;
  if (output === undefined)
    throw new TypeError(`a REST route's procedure needs an output schema: ${path}`);
  return output as ZodType;
}

function accessText(access: Access | undefined): string {
  if (access === undefined || access === 'public') return 'Any caller.';
  if (access.apiKeyOnly) return 'Any valid API key; it acts on itself.';
  return `A secret API key with the \`${access.scope ?? '?'}\` scope.`;
}

const problemRef = { $ref: '#/components/responses/Problem' } as const;
const ERROR_STATUSES = ['400', '401', '403', '404', '412', '429', '500'] as const;

function operationOf(router: AnyRouter, route: RestRoute, defs: Definitions): Json {
  const procedure = procedureOf(router, route.procedure);
  const meta = procedure._def.meta as Meta | undefined;
  const input = inputSchemaOf(procedure);
  const inputJson = input === null ? null : jsonSchemaOf(input, 'input', defs);
  const properties = inputJson?.properties ?? {};
  const required = new Set(inputJson?.required ?? []);
  const pathParams = pathParamsOf(route.path);
  const parameters: Json[] = pathParams.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: properties[name] ?? { type: 'string' },
  }));
  let requestBody: (Json & { description?: string }) | undefined;
  if (route.method === 'GET') {
    for (const [name, schema] of Object.entries(properties)) {
      if (pathParams.includes(name)) continue;
      const { description, ...rest } = schema;
      parameters.push({
        name,
        in: 'query',
        required: required.has(name),
        schema: rest,
        ...(description ? { description } : {}),
      });
    }
  } else {
    const bodyProperties = Object.fromEntries(
      Object.entries(properties).filter(([name]) => !pathParams.includes(name)),
    );
    const bodyRequired = [...required].filter((name) => !pathParams.includes(name));
    const body: Schema =
      inputJson === null
        ? { type: 'object', additionalProperties: false, properties: {} }
        : { ...inputJson, properties: bodyProperties };
    delete body.required;
    if (bodyRequired.length > 0) body.required = bodyRequired;
    requestBody = {
      required: true,
      ...(inputJson === null ? { description: 'No fields: send `{}`.' } : {}),
      content: { 'application/json': { schema: body } },
    };
  }
  const responses: Record<string, Json> = {
    '200': {
      description: 'OK',
      content: {
        'application/json': {
          schema: jsonSchemaOf(outputSchemaOf(procedure, route.procedure), 'output', defs),
        },
      },
    },
  };
  for (const status of ERROR_STATUSES) responses[status] = problemRef;
  return {
    operationId: route.procedure.replace(/\.(\w)/g, (_match, letter: string) =>
      letter.toUpperCase(),
    ),
    summary: route.summary,
    description: `${accessText(meta?.access)} Runs the tRPC procedure \`${route.procedure}\`.`,
    tags: [route.tag],
    security: [{ apiKey: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

/** GET /audit/export streams the log (a tRPC answer cannot); its query comes from the contract too. */
function auditExportOperation(defs: Definitions): Json {
  const query = jsonSchemaOf(exportAuditLogInput, 'input', defs);
  const parameters = Object.entries(query.properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: false,
    schema,
  }));
  return {
    operationId: 'auditExport',
    summary: 'Stream the whole audit log (JSON lines or CSV)',
    description:
      'A secret API key with the `audit:read` scope. Streams every event in seq order; `afterSeq` continues a feed. Errors here are plain JSON (`{ error, message, statusCode }`), not problem details.',
    tags: ['Audit'],
    security: [{ apiKey: [] }],
    parameters,
    responses: {
      '200': {
        description: 'The log, streamed.',
        content: {
          'application/x-ndjson': { schema: { type: 'string' } },
          'text/csv': { schema: { type: 'string' } },
        },
      },
      '401': { description: 'No valid credential.' },
      '403': { description: 'The key lacks `audit:read`.' },
    },
  };
}

export function openApiDocumentOf(router: AnyRouter, routes: readonly RestRoute[]): Json {
  const paths: Record<string, Json> = {};
  const defs = definitions();
  for (const route of routes) {
    const url = `${REST_PREFIX}${route.path}`;
    paths[url] = { ...paths[url], [route.method.toLowerCase()]: operationOf(router, route, defs) };
  }
  paths['/audit/export'] = { get: auditExportOperation(defs) };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera REST API',
      version: '1',
      description:
        'The procedures API keys may call, as REST. Same auth, scopes, limits, audit and error reasons as the tRPC API at /trpc. Errors are RFC 9457 problem details.',
    },
    tags: [...new Set(routes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A secret API key: `Authorization: Bearer sk_live_...`. Session cookies are not accepted here.',
        },
      },
      schemas: { ...defs.schemas, Problem: jsonSchemaOf(problemDetails, 'output', defs) },
      responses: {
        Problem: {
          description:
            'A refusal or an error; `reason` is the same as `error.data.reason` over tRPC.',
          content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      },
    },
  };
}
