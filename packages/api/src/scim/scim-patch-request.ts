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
  const expanded = normalised.flatMap(removalsByValue);
  let document = structuredClone(resource) as unknown as ScimResource;
  try {
    for (const operation of expanded) {
      if (removesNothing(document as unknown as Record<string, unknown>, operation)) continue;
      document = scimPatch(document, [operation], {
        mutateDocument: true,
        treatMissingAsAdd: true,
      });
    }
    return document as unknown as Record<string, unknown>;
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

/**
 * Entra ID removes members as `{ op: "Remove", path: "members", value: [{ value: id }] }`. scim-patch
 * removes a listed value only when the whole object is equal, and a stored member also carries
 * `display`, `type` and `$ref`; RFC 7644 §3.5.2.2 identifies it by `value`. Such a removal becomes
 * one `members[value eq "id"]` removal per listed value.
 */
function removalsByValue(operation: ScimPatchOperation): ScimPatchOperation[] {
  if (operation.op !== 'remove' || typeof operation.path !== 'string') return [operation];
  if (!/^[A-Za-z][\w.]*$/.test(operation.path) || !Array.isArray(operation.value))
    return [operation];
  const values: unknown[] = operation.value;
  if (!values.every((item) => isObject(item) && typeof item['value'] === 'string'))
    return [operation];
  return values.map((item) => ({
    op: 'remove',
    path: `${operation.path}[value eq ${JSON.stringify((item as { value: string }).value)}]`,
  }));
}

/**
 * A filtered removal from a multi-valued attribute that holds nothing (`members[value eq "x"]` of
 * an empty group) removes nothing: identity providers repeat removals, and the answer stays 204.
 */
function removesNothing(document: Record<string, unknown>, operation: ScimPatchOperation): boolean {
  if (operation.op !== 'remove' || typeof operation.path !== 'string') return false;
  const bracket = operation.path.indexOf('[');
  if (bracket <= 0) return false;
  const target = document[operation.path.slice(0, bracket)];
  return target === undefined || (Array.isArray(target) && target.length === 0);
}
