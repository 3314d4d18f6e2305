// The REST face's OpenAPI document is a valid OpenAPI 3.1 document, generated from the contract:
// every procedure an API key may call has a REST route, and every route runs such a procedure.
import { validate } from '@readme/openapi-parser';
import { appRouter, type Meta } from '@tessera/api-contract';
import { expect, test } from 'vitest';
import { openApiDocumentOf } from './openapi-document.js';
import { REST_PREFIX, restRoutes } from './rest-routes.js';

const procedures = Object.entries(
  appRouter._def.procedures as unknown as Record<string, { _def: { meta?: Meta } }>,
);
const keyCallable = procedures
  .filter(([, procedure]) => {
    const access = procedure._def.meta?.access;
    return (
      access !== undefined &&
      access !== 'public' &&
      (access.scope !== undefined || access.apiKeyOnly === true)
    );
  })
  .map(([path]) => path);

test('the document validates as OpenAPI 3.1', async () => {
  const document = openApiDocumentOf(appRouter, restRoutes);
  const result = await validate(structuredClone(document) as never);
  expect(result.valid ? [] : result.errors).toEqual([]);
  expect(result.valid).toBe(true);
  expect(document.openapi).toBe('3.1.0');
});

test('every procedure an API key may call has exactly one REST route, and no route runs another', () => {
  const routed = restRoutes.map((route) => route.procedure);
  expect([...routed].sort()).toEqual([...keyCallable].sort());
  expect(new Set(routed).size).toBe(routed.length);
});

test("each operation's schemas come from the procedure's zod input and output", () => {
  const document = openApiDocumentOf(appRouter, restRoutes) as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
  };
  const list = document.paths[`${REST_PREFIX}/users`]?.get as {
    parameters: { name: string; schema: unknown }[];
    responses: Record<string, unknown>;
  };
  // users.list: limit is an integer 1..100 in the zod input.
  expect(list.parameters.find((parameter) => parameter.name === 'limit')?.schema).toEqual({
    type: 'integer',
    minimum: 1,
    maximum: 100,
  });
  expect(JSON.stringify(list.responses['200'])).toContain('"mfaEnabled"');
  const create = document.paths[`${REST_PREFIX}/privacy/requests`]?.post as {
    requestBody: { content: Record<string, { schema: { required: string[] } }> };
  };
  expect(create.requestBody.content['application/json']?.schema.required).toEqual([
    'userId',
    'type',
  ]);
  const rotate = document.paths[`${REST_PREFIX}/api-keys/{id}/rotate`]?.post as {
    parameters: { name: string; in: string }[];
    requestBody: { content: Record<string, { schema: { properties: object } }> };
  };
  expect(rotate.parameters).toMatchObject([{ name: 'id', in: 'path' }]);
  expect(
    Object.keys(rotate.requestBody.content['application/json']?.schema.properties ?? {}),
  ).toEqual(['graceSeconds']);
});
