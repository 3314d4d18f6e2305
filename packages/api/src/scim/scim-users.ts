/**
 * The User resource (RFC 7643 §4.1) as Okta and Entra ID send and read it, to and from the
 * service's ScimUserAttributes. Only the attributes Tessera keeps are read; others (the enterprise
 * extension, phone numbers, addresses) are accepted and not stored.
 */
import type { ScimUserAttributes, ScimUserRecord } from '@tessera/auth/scim';
import { ScimError } from './scim-errors.js';
import { USER_SCHEMA } from './scim-schemas.js';
import { attributeOf, booleanOf, isObject, optionalTextOf, textOf } from './scim-text.js';

export function userResourceOf(record: ScimUserRecord, base: string): Record<string, unknown> {
  const name: Record<string, string> = {};
  if (record.givenName !== null) name['givenName'] = record.givenName;
  if (record.familyName !== null) name['familyName'] = record.familyName;
  const formatted = [record.givenName, record.familyName].filter((p) => p !== null).join(' ');
  if (formatted !== '') name['formatted'] = formatted;
  return {
    schemas: [USER_SCHEMA],
    id: record.id,
    ...(record.externalId !== null ? { externalId: record.externalId } : {}),
    userName: record.userName,
    ...(Object.keys(name).length > 0 ? { name } : {}),
    ...(record.displayName !== null ? { displayName: record.displayName } : {}),
    emails: [{ value: record.email, type: 'work', primary: true }],
    active: record.active,
    groups: record.groups.map((g) => ({
      value: g.id,
      display: g.displayName,
      $ref: `${base}/Groups/${g.id}`,
    })),
    meta: {
      resourceType: 'User',
      created: record.createdAt.toISOString(),
      lastModified: record.updatedAt.toISOString(),
      location: `${base}/Users/${record.id}`,
    },
  };
}

export function assertSchema(body: Record<string, unknown>, schema: string): void {
  const schemas = body['schemas'];
  if (!Array.isArray(schemas) || !schemas.includes(schema))
    throw new ScimError(400, `"schemas" must name ${schema}.`, 'invalidSyntax');
}

/** The address to sign in with: the primary one, else the work one, else the first, else userName. */
function emailOf(emails: unknown, userName: string): string {
  if (emails !== undefined && emails !== null && !Array.isArray(emails))
    throw new ScimError(400, '"emails" must be a list.', 'invalidValue');
  const list = (emails ?? []).filter(isObject);
  const chosen =
    list.find((e) => e['primary'] === true || String(e['primary']).toLowerCase() === 'true') ??
    list.find((e) => e['type'] === 'work') ??
    list[0];
  return chosen === undefined ? userName : textOf(chosen['value'], 'emails.value', 254);
}

/** A full User (POST, PUT, or the result of PATCH operations) as the service takes it. */
export function userAttributesOf(body: unknown): ScimUserAttributes {
  if (!isObject(body)) throw new ScimError(400, 'The body must be a JSON object.', 'invalidSyntax');
  assertSchema(body, USER_SCHEMA);
  const userName = textOf(attributeOf(body, 'userName'), 'userName', 254);
  const rawName = attributeOf(body, 'name');
  const name = isObject(rawName) ? rawName : {};
  const givenName = optionalTextOf(attributeOf(name, 'givenName'), 'name.givenName', 200);
  const familyName = optionalTextOf(attributeOf(name, 'familyName'), 'name.familyName', 200);
  const formatted = optionalTextOf(attributeOf(name, 'formatted'), 'name.formatted', 200);
  const parts = [givenName, familyName].filter((p) => p !== null).join(' ');
  const displayName =
    optionalTextOf(attributeOf(body, 'displayName'), 'displayName', 200) ??
    formatted ??
    (parts === '' ? null : parts);
  return {
    userName,
    externalId: optionalTextOf(attributeOf(body, 'externalId'), 'externalId', 256),
    givenName,
    familyName,
    displayName,
    email: emailOf(attributeOf(body, 'emails'), userName),
    active: booleanOf(attributeOf(body, 'active'), 'active', true),
  };
}
