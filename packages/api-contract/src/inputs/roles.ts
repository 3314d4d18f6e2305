import { z } from 'zod';

/** The permission vocabulary (docs/roles.md); routers/roles.ts checks it equals @tessera/auth's. */
export const permission = z.enum([
  'users:read',
  'users:write',
  'audit:read',
  'privacy:read',
  'privacy:write',
  'api_keys:read',
  'api_keys:write',
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
]);

const name = z.string().trim().min(1).max(60);
const description = z.string().trim().max(300).nullable();
const permissions = z.array(permission).max(permission.options.length);

export const createRoleInput = z.strictObject({
  name,
  description: description.optional(),
  permissions,
});
export type CreateRoleInput = z.infer<typeof createRoleInput>;

export const updateRoleInput = z.strictObject({
  id: z.string().uuid(),
  name: name.optional(),
  description: description.optional(),
  permissions: permissions.optional(),
});
export type UpdateRoleInput = z.infer<typeof updateRoleInput>;

export const roleIdInput = z.strictObject({ id: z.string().uuid() });
