/** The Group resource (RFC 7643 §4.2), to and from the service's ScimGroupAttributes. */
import type { ScimGroupAttributes, ScimGroupRecord } from '@tessera/auth/scim';
import { ScimError } from './scim-errors.js';
import { GROUP_SCHEMA } from './scim-schemas.js';
import { assertSchema } from './scim-users.js';
import { attributeOf, isObject, optionalTextOf, textOf } from './scim-text.js';

export function groupResourceOf(
  record: ScimGroupRecord,
  base: string,
  withMembers = true,
): Record<string, unknown> {
  return {
    schemas: [GROUP_SCHEMA],
    id: record.id,
    ...(record.externalId !== null ? { externalId: record.externalId } : {}),
    displayName: record.displayName,
    ...(withMembers
      ? {
          members: record.members.map((m) => ({
            value: m.id,
            display: m.userName,
            type: 'User',
            $ref: `${base}/Users/${m.id}`,
          })),
        }
      : {}),
    meta: {
      resourceType: 'Group',
      created: record.createdAt.toISOString(),
      lastModified: record.updatedAt.toISOString(),
      location: `${base}/Groups/${record.id}`,
    },
  };
}

export function groupAttributesOf(body: unknown): ScimGroupAttributes {
  if (!isObject(body)) throw new ScimError(400, 'The body must be a JSON object.', 'invalidSyntax');
  assertSchema(body, GROUP_SCHEMA);
  const members = attributeOf(body, 'members') ?? [];
  if (!Array.isArray(members))
    throw new ScimError(400, '"members" must be a list.', 'invalidValue');
  const memberIds = members.map((member) => {
    if (!isObject(member)) throw new ScimError(400, 'A member must be an object.', 'invalidValue');
    const type = attributeOf(member, 'type');
    if (
      type !== undefined &&
      type !== null &&
      (typeof type !== 'string' || type.toLowerCase() !== 'user')
    )
      throw new ScimError(400, 'Only users can be members: groups do not nest.', 'invalidValue');
    return textOf(attributeOf(member, 'value'), 'members.value', 64);
  });
  return {
    displayName: textOf(attributeOf(body, 'displayName'), 'displayName', 256),
    externalId: optionalTextOf(attributeOf(body, 'externalId'), 'externalId', 256),
    memberIds,
  };
}
