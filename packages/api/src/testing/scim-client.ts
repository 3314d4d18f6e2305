/**
 * Test kit for /scim/v2: a fetch client for a listening server, and the RFC 7643/7644 shapes every
 * answer is checked against (ListResponse, User, Group, Error), so a test that replays an identity
 * provider's requests also proves each answer is one that provider can read.
 */
import { z } from 'zod';

export const SCIM_JSON = 'application/scim+json';
export const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const LIST_URN = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error';

const instant = z.iso.datetime({ offset: true });
const meta = (resourceType: string) =>
  z.object({
    resourceType: z.literal(resourceType),
    created: instant,
    lastModified: instant,
    location: z.url(),
  });

/** RFC 7643 §4.1 (the attributes this service returns) with §3.1 common attributes. */
export const userShape = z.object({
  schemas: z.array(z.string()).refine((s) => s.includes(USER_URN)),
  id: z.uuid(),
  externalId: z.string().optional(),
  userName: z.string().min(1),
  name: z
    .object({
      formatted: z.string().optional(),
      givenName: z.string().optional(),
      familyName: z.string().optional(),
    })
    .optional(),
  displayName: z.string().optional(),
  emails: z
    .array(
      z.object({ value: z.string(), type: z.string().optional(), primary: z.boolean().optional() }),
    )
    .optional(),
  active: z.boolean(),
  groups: z
    .array(z.object({ value: z.uuid(), display: z.string().optional(), $ref: z.url().optional() }))
    .optional(),
  meta: meta('User'),
});

/** RFC 7643 §4.2. */
export const groupShape = z.object({
  schemas: z.array(z.string()).refine((s) => s.includes(GROUP_URN)),
  id: z.uuid(),
  externalId: z.string().optional(),
  displayName: z.string().min(1),
  members: z
    .array(
      z.object({
        value: z.uuid(),
        display: z.string().optional(),
        type: z.enum(['User', 'Group']).optional(),
        $ref: z.url().optional(),
      }),
    )
    .optional(),
  meta: meta('Group'),
});

/** RFC 7644 §3.4.2. */
export const listShape = z.object({
  schemas: z.tuple([z.literal(LIST_URN)]),
  totalResults: z.number().int().min(0),
  startIndex: z.number().int().min(1),
  itemsPerPage: z.number().int().min(0),
  Resources: z.array(z.unknown()),
});

/** RFC 7644 §3.12: `status` is a string; `scimType` one of the RFC's table. */
export const errorShape = z.object({
  schemas: z.tuple([z.literal(ERROR_URN)]),
  status: z.string().regex(/^[45]\d\d$/),
  scimType: z
    .enum([
      'invalidFilter',
      'tooMany',
      'uniqueness',
      'mutability',
      'invalidSyntax',
      'invalidPath',
      'noTarget',
      'invalidValue',
      'invalidVers',
      'sensitive',
    ])
    .optional(),
  detail: z.string().optional(),
});

/** The media type of an answer, without parameters (`; charset=utf-8`). */
export function mediaTypeOf(answer: ScimAnswer): string | undefined {
  return answer.contentType?.split(';')[0]?.trim();
}

export interface ScimAnswer {
  status: number;
  contentType: string | null;
  headers: Headers;
  body: unknown;
}

/** One request to `${origin}/scim/v2${path}` with the token, as an identity provider sends it. */
export async function scimRequest(
  origin: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<ScimAnswer> {
  const response = await fetch(`${origin}/scim/v2${path}`, {
    method,
    headers: {
      accept: SCIM_JSON,
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': SCIM_JSON }),
      ...extraHeaders,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    headers: response.headers,
    body: text === '' ? null : (JSON.parse(text) as unknown),
  };
}

/** Asserts an RFC 7644 error answer and returns it. */
export function scimErrorOf(answer: ScimAnswer, status: number): z.infer<typeof errorShape> {
  if (answer.status !== status || mediaTypeOf(answer) !== SCIM_JSON)
    throw new Error(
      `expected a ${status} SCIM error, got ${answer.status} ${answer.contentType}: ${JSON.stringify(answer.body)}`,
    );
  const error = errorShape.parse(answer.body);
  if (error.status !== String(status))
    throw new Error(`status member ${error.status} != ${status}`);
  return error;
}

/** Asserts a successful SCIM answer of `status` with `shape` and returns the parsed body. */
export function scimOk<T>(answer: ScimAnswer, status: number, shape: z.ZodType<T>): T {
  if (answer.status !== status || mediaTypeOf(answer) !== SCIM_JSON)
    throw new Error(
      `expected ${status}, got ${answer.status} ${answer.contentType}: ${JSON.stringify(answer.body)}`,
    );
  return shape.parse(answer.body);
}

/** A ListResponse whose Resources all have `shape`. */
export function scimList<T>(
  answer: ScimAnswer,
  shape: z.ZodType<T>,
): z.infer<typeof listShape> & { items: T[] } {
  const list = scimOk(answer, 200, listShape);
  if (list.itemsPerPage !== list.Resources.length)
    throw new Error('itemsPerPage != Resources.length');
  return { ...list, items: list.Resources.map((r) => shape.parse(r)) };
}
