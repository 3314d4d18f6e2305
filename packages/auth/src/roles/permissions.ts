/**
 * The permission vocabulary and the built-in roles as permission sets (docs/roles.md).
 *
 * Permissions are the API-key scopes (docs/api-keys.md) plus finer ones where a procedure needs
 * one. Every non-public procedure names the permission a session must hold in its
 * `meta({ access })`, or `'self'` for calls on the caller's own account; `authorize` checks it
 * against the principal's built-in role and custom role. The built-in sets below reproduce the
 * fixed roles exactly; changing one changes who may call what, so it is a security change.
 * Pinned by packages/api-contract/src/routers/roles-walk.security.test.ts.
 */
import type { UserRole } from '@tessera/db';
import { API_KEY_SCOPES } from '../api-keys/scopes.js';

export const PERMISSIONS = [
  ...API_KEY_SCOPES,
  'users:import',
  'roles:read',
  'roles:write',
  'security_policy:write',
  'sso:read',
  'sso:write',
  'saml:read',
  'saml:write',
  'saml:manage',
  'domains:read',
  'domains:write',
  'scim:read',
  'scim:write',
  'oidc:read',
  'oidc:write',
  'privacy_webhooks:write',
  'compliance:read',
  'compliance:write',
  'overview:read',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** What each permission lets a member do; the console shows these. */
export const PERMISSION_DESCRIPTIONS: Readonly<Record<Permission, string>> = {
  'users:read': 'List members.',
  'users:write': 'Invite members, change their roles, disable, unlock and reset their MFA.',
  'audit:read': 'Read and verify the audit log.',
  'privacy:read': 'Read privacy webhook endpoints and deliveries.',
  'privacy:write': 'Acknowledge privacy webhook deliveries.',
  'api_keys:read': 'List API keys.',
  'api_keys:write': 'Create, rotate and revoke API keys.',
  'users:import': 'Import users with their legacy password hashes.',
  'roles:read': 'List roles.',
  'roles:write': 'Create, edit and delete custom roles.',
  'security_policy:write': "Change the tenant's security policy.",
  'sso:read': 'Read the OpenID Connect single sign-on settings.',
  'sso:write': 'Change the OpenID Connect single sign-on settings.',
  'saml:read': 'List SAML connections.',
  'saml:write': 'Edit SAML connections.',
  'saml:manage': 'Create and delete SAML connections, change how they sign people in.',
  'domains:read': 'List verified domains.',
  'domains:write': 'Add, verify, change and remove domains.',
  'scim:read': 'Read SCIM tokens, settings and groups.',
  'scim:write': 'Issue and revoke SCIM tokens, change SCIM settings and group roles.',
  'oidc:read': 'List OpenID provider apps and signing keys.',
  'oidc:write': 'Register and revoke apps, rotate the signing key.',
  'privacy_webhooks:write': 'Create, change, delete and re-key privacy webhook endpoints.',
  'compliance:read': 'Read the privacy request queue.',
  'compliance:write': 'Handle privacy requests and legal holds.',
  'overview:read': 'Read the security overview.',
};

const KNOWN: ReadonlySet<string> = new Set(PERMISSIONS);

/**
 * Permissions that decide who signs in as whom or which role a directory hands out: whoever holds
 * one can take over any non-owner account (point single sign-on at an identity provider of their
 * own, claim a domain's users, or issue a SCIM token that adopts accounts and maps groups to
 * admin). A custom role with one would be an admin under another name, so they stay with the
 * built-in owner and admin roles: a custom role cannot carry them, and one that somehow does
 * (a row written before this rule) is not honoured for them (docs/roles.md).
 */
export const BUILT_IN_ONLY: ReadonlySet<Permission> = new Set<Permission>([
  'sso:write',
  'saml:write',
  'saml:manage',
  'domains:write',
  'scim:write',
]);

/** The permissions a custom role may carry, in vocabulary order. */
export const CUSTOM_ROLE_PERMISSIONS: readonly Permission[] = PERMISSIONS.filter(
  (p) => !BUILT_IN_ONLY.has(p),
);

export function isPermission(value: string): value is Permission {
  return KNOWN.has(value);
}

const notAdmin: ReadonlySet<Permission> = new Set([
  'users:import',
  'saml:manage',
  'compliance:read',
  'compliance:write',
]);

/**
 * The built-in roles, in one table. The owner holds every permission but the privacy officer's
 * `compliance:write` (separation of duties: the officer handles requests and holds, the owner
 * oversees the queue), yet may grant every permission (docs/roles.md); the admin holds every one
 * but importing users, creating and deleting SAML connections and the privacy queue; the
 * compliance role holds the privacy work and the audit log; a member none (self-service only).
 */
export const BUILT_IN_ROLE_PERMISSIONS: Readonly<Record<UserRole, readonly Permission[]>> =
  Object.freeze({
    owner: PERMISSIONS.filter((p) => p !== 'compliance:write'),
    admin: PERMISSIONS.filter((p) => !notAdmin.has(p)),
    compliance: [
      'audit:read',
      'privacy:read',
      'privacy:write',
      'compliance:read',
      'compliance:write',
      'overview:read',
    ],
    member: [],
  });

const builtInSets = new Map<UserRole, ReadonlySet<string>>(
  Object.entries(BUILT_IN_ROLE_PERMISSIONS).map(([role, set]) => [role as UserRole, new Set(set)]),
);

/** Does a user with this built-in role (and custom role permissions, if any) hold `permission`? */
export function holdsPermission(
  role: UserRole,
  customPermissions: readonly string[] | undefined,
  permission: string,
): boolean {
  return (
    builtInSets.get(role)?.has(permission) === true ||
    ((customPermissions?.includes(permission) ?? false) &&
      !BUILT_IN_ONLY.has(permission as Permission))
  );
}

/** Every permission a user holds: the built-in role's and the custom role's, in vocabulary order. */
export function permissionsOf(
  role: UserRole,
  customPermissions: readonly string[] | undefined,
): Permission[] {
  return PERMISSIONS.filter((p) => holdsPermission(role, customPermissions, p));
}
