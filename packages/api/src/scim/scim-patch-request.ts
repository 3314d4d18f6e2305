/**
 * PATCH (RFC 7644 §3.5.2): the operations are applied by scim-patch to the resource as GET shows
 * it, and the result is then read as a full resource and stored like a PUT, so PATCH and PUT share
 * one validation. Accepted as Okta and Entra ID send them: operation names in any case ("Replace"),
 * `add`/`replace` without a path and an object value, value filters in paths
 * (`members[value eq "..."]`, `emails[type eq "work"].value`), and a `remove` of `members` with a
 * value list (Entra ID). Entra's string booleans ("False") are read by the resource readers.
 */
import { scimPatch, type ScimPatchOperation, type ScimResource } from 'scim-patch';
import { ScimError, type ScimType } from './scim-errors.js';
import { PATCH_SCHEMA } from './scim-schemas.js';
import { assertSchema } from './scim-users.js';
import { isObject } from './scim-text.js';

export const MAX_PATCH_OPERATIONS = 100;
const OPS = new Set(['add', 'replace', 'remove']);

export function applyPatch(
  resource: Record<string, unknown>,
  body: unknown,
): Record<string, unknown> {
  if (!isObject(body)) throw new ScimError(400, 'The body must be a JSON object.', 'invalidSyntax');
  assertSchema(body, PATCH_SCHEMA);
  const operations = body['Operations'] ?? body['operations'];
  if (!Array.isArray(operations) || operations.length === 0)
    throw new ScimError(400, '"Operations" must be a non-empty list.', 'invalidSyntax');
  if (operations.length > MAX_PATCH_OPERATIONS)
    throw new ScimError(400, `At most ${MAX_PATCH_OPERATIONS} operations.`, 'tooMany');
  const normalised = operations.map((operation): ScimPatchOperation => {
    if (!isObject(operation) || typeof operation['op'] !== 'string')
      throw new ScimError(400, 'Each operation needs an "op".', 'invalidSyntax');
    const op = operation['op'].toLowerCase();
    if (!OPS.has(op))
      throw new ScimError(400, `Unknown operation "${operation['op']}".`, 'invalidSyntax');
    const path = operation['path'];
    if (path !== undefined && (typeof path !== 'string' || path.length > 500))
      throw new ScimError(400, '"path" must be a string.', 'invalidPath');
    return { ...operation, op, ...(path === undefined ? {} : { path }) } as ScimPatchOperation;
  });
  try {
    return scimPatch(structuredClone(resource) as unknown as ScimResource, normalised, {
      mutateDocument: true,
      treatMissingAsAdd: true,
    }) as unknown as Record<string, unknown>;
  } catch (error) {
    if (error instanceof Error && 'scimCode' in error) {
      const code = (error as { scimCode?: unknown }).scimCode;
      throw new ScimError(
        400,
        error.message === '' ? 'The operations cannot be applied.' : error.message.slice(0, 300),
        typeof code === 'string' ? (code as ScimType) : 'invalidPath',
      );
    }
    throw error;
  }
}
