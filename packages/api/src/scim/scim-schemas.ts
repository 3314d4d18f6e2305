/**
 * The discovery documents (RFC 7644 §4; RFC 7643 §5-7): what this service provider supports, its
 * two resource types, and the attributes of each, as Okta and Entra ID read them before
 * provisioning. Static: they describe the code, not a tenant.
 */
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

/** Page size when the client names none, and the most one page holds (RFC 7644 §3.4.2.4). */
export const MAX_PAGE_SIZE = 100;

interface Attribute {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'dateTime' | 'reference';
  multiValued: boolean;
  required: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'default' | 'never' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  caseExact: boolean;
  description: string;
  subAttributes?: Attribute[];
  referenceTypes?: string[];
}

function attribute(
  name: string,
  description: string,
  options: Partial<Omit<Attribute, 'name' | 'description'>> = {},
): Attribute {
  return {
    name,
    type: 'string',
    multiValued: false,
    required: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    caseExact: false,
    description,
    ...options,
  };
}

const userAttributes: Attribute[] = [
  attribute('userName', 'The directory login; unique in the tenant, not case-sensitive.', {
    required: true,
    uniqueness: 'server',
  }),
  attribute('name', "The user's name.", {
    type: 'complex',
    subAttributes: [
      attribute('formatted', 'The full name.'),
      attribute('givenName', 'Given name.'),
      attribute('familyName', 'Family name.'),
    ],
  }),
  attribute('displayName', 'The name Tessera shows.'),
  attribute('emails', 'The primary (or work) address is the one the user signs in with.', {
    type: 'complex',
    multiValued: true,
    subAttributes: [
      attribute('value', 'The address.'),
      attribute('type', 'work, home or other.'),
      attribute('primary', 'The address Tessera uses.', { type: 'boolean' }),
    ],
  }),
  attribute('active', 'false disables the user and ends every session at once.', {
    type: 'boolean',
  }),
  attribute('groups', 'Groups the user belongs to; changed through the Group resource.', {
    type: 'complex',
    multiValued: true,
    mutability: 'readOnly',
    subAttributes: [
      attribute('value', 'The group id.', { mutability: 'readOnly' }),
      attribute('display', 'The group name.', { mutability: 'readOnly' }),
    ],
  }),
];

const groupAttributes: Attribute[] = [
  attribute('displayName', 'The group name; unique in the tenant.', {
    required: true,
    uniqueness: 'server',
  }),
  attribute('members', 'Users in the group.', {
    type: 'complex',
    multiValued: true,
    subAttributes: [
      attribute('value', 'The user id.', { mutability: 'immutable' }),
      attribute('display', 'The user name.', { mutability: 'readOnly' }),
      attribute('type', 'Always User: groups do not nest.', { mutability: 'immutable' }),
    ],
  }),
];

function meta(resourceType: string, location: string): Record<string, string> {
  return { resourceType, location };
}

export function schemasOf(base: string): Record<string, unknown>[] {
  return [
    {
      schemas: [SCHEMA_SCHEMA],
      id: USER_SCHEMA,
      name: 'User',
      description: 'User account',
      attributes: userAttributes,
      meta: meta('Schema', `${base}/Schemas/${USER_SCHEMA}`),
    },
    {
      schemas: [SCHEMA_SCHEMA],
      id: GROUP_SCHEMA,
      name: 'Group',
      description: 'Group',
      attributes: groupAttributes,
      meta: meta('Schema', `${base}/Schemas/${GROUP_SCHEMA}`),
    },
  ];
}

export function resourceTypesOf(base: string): Record<string, unknown>[] {
  return [
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User account',
      schema: USER_SCHEMA,
      schemaExtensions: [],
      meta: meta('ResourceType', `${base}/ResourceTypes/User`),
    },
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: GROUP_SCHEMA,
      schemaExtensions: [],
      meta: meta('ResourceType', `${base}/ResourceTypes/Group`),
    },
  ];
}

export function serviceProviderConfigOf(base: string): Record<string, unknown> {
  return {
    schemas: [SPC_SCHEMA],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'A SCIM token created by a tenant admin in the console.',
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        primary: true,
      },
    ],
    meta: meta('ServiceProviderConfig', `${base}/ServiceProviderConfig`),
  };
}

/** RFC 7644 §3.4.2: a list answer. */
export function listResponseOf(
  resources: readonly unknown[],
  total: number,
  startIndex: number,
): Record<string, unknown> {
  return {
    schemas: [LIST_SCHEMA],
    totalResults: total,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
