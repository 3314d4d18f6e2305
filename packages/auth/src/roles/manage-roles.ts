import { count, eq, sql } from 'drizzle-orm';
import { tenantRoles, userRoles, users, type TenantTx, type UserRole } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import type { TenantUseCase } from '../context/use-case.js';
import { AuthError } from '../errors.js';
import { assertMayGrant } from './grant-rule.js';
import {
  BUILT_IN_ONLY,
  BUILT_IN_ROLE_PERMISSIONS,
  holdsPermission,
  isPermission,
  PERMISSIONS,
  type Permission,
} from './permissions.js';

export interface RoleView {
  /** null for a built-in role: it has no row and no id, so no input can name it to edit or delete it. */
  id: string | null;
  name: string;
  description: string | null;
  builtIn: boolean;
  permissions: Permission[];
  members: number;
}

export interface RoleSpec {
  name: string;
  description?: string | null | undefined;
  permissions: readonly string[];
}

const BUILT_IN_DESCRIPTIONS: Record<UserRole, string> = {
  owner: 'Everything, including other owners and the tenant itself.',
  admin: 'Runs the tenant: members, keys, sign-in settings, apps.',
  compliance: 'Privacy requests, legal holds and the audit log.',
  member: 'Their own account only.',
};

/** Built-in roles first (fixed sets, docs/roles.md), then the tenant's own by name. */
export async function listRoles(tx: TenantTx): Promise<RoleView[]> {
  const counts = await tx
    .select({ role: users.role, customRoleId: users.customRoleId, n: count() })
    .from(users)
    .groupBy(users.role, users.customRoleId);
  const builtIn = userRoles.map((role) => ({
    id: null,
    name: role,
    description: BUILT_IN_DESCRIPTIONS[role],
    builtIn: true,
    permissions: [...BUILT_IN_ROLE_PERMISSIONS[role]],
    members: counts
      .filter((c) => c.role === role && c.customRoleId === null)
      .reduce((n, c) => n + c.n, 0),
  }));
  const rows = await tx
    .select()
    .from(tenantRoles)
    .orderBy(sql`lower(${tenantRoles.name})`);
  const custom = rows.map((row) => ({
    id: row.id,
    name: row.name,
    description: row.description,
    builtIn: false,
    permissions: normalised(row.permissions),
    members: counts.find((c) => c.customRoleId === row.id)?.n ?? 0,
  }));
  return [...builtIn, ...custom];
}

/** Everything a member holds: their built-in role's set and their custom role's. */
export async function memberPermissions(
  tx: TenantTx,
  member: { role: UserRole; customRoleId: string | null },
): Promise<Permission[]> {
  const custom = member.customRoleId ? await customRolePermissions(tx, member.customRoleId) : [];
  return PERMISSIONS.filter((p) => holdsPermission(member.role, custom, p));
}

/** The custom role's permissions, or not_found (RLS: another tenant's role is not found either). */
export async function customRolePermissions(tx: TenantTx, id: string): Promise<Permission[]> {
  const [row] = await tx
    .select({ permissions: tenantRoles.permissions })
    .from(tenantRoles)
    .where(eq(tenantRoles.id, id));
  if (!row) throw new AuthError('not_found', { detail: 'Role not found.', field: 'customRoleId' });
  return normalised(row.permissions);
}

export async function createRole(
  tx: TenantTx,
  uc: TenantUseCase,
  spec: RoleSpec,
): Promise<{ id: string }> {
  const { actor, now } = uc;
  const permissions = validPermissions(spec.permissions);
  assertMayGrant(actor, permissions);
  await assertNameFree(tx, spec.name, null);
  const [row] = await tx
    .insert(tenantRoles)
    .values({
      tenantId: actor.tenantId,
      name: spec.name,
      description: spec.description ?? null,
      permissions,
      createdAt: now,
      updatedAt: now,
    })
    .returning({ id: tenantRoles.id });
  if (!row) throw new Error('role insert returned nothing');
  await audit(tx, uc, 'role.created', row.id, null, {
    name: spec.name,
    description: spec.description ?? null,
    permissions,
  });
  return { id: row.id };
}

/**
 * Edits a custom role. The editor must hold every permission the role has now and every one it
 * will have; the members' cached sessions are evicted on commit (migrations/0034 trigger), so the
 * change applies at their next request.
 */
export async function updateRole(
  tx: TenantTx,
  uc: TenantUseCase,
  input: {
    id: string;
    name?: string | undefined;
    description?: string | null | undefined;
    permissions?: readonly string[] | undefined;
  },
): Promise<void> {
  const { actor, now } = uc;
  const before = await lockRole(tx, input.id);
  assertMayGrant(actor, before.permissions);
  const permissions =
    input.permissions === undefined ? before.permissions : validPermissions(input.permissions);
  assertMayGrant(actor, permissions);
  const name = input.name ?? before.name;
  if (name.toLowerCase() !== before.name.toLowerCase()) await assertNameFree(tx, name, before.id);
  const description = input.description === undefined ? before.description : input.description;
  await tx
    .update(tenantRoles)
    .set({ name, description, permissions, updatedAt: now })
    .where(eq(tenantRoles.id, before.id));
  await audit(
    tx,
    uc,
    'role.updated',
    before.id,
    { name: before.name, description: before.description, permissions: before.permissions },
    { name, description, permissions },
  );
}

/**
 * Deletes a custom role. Its members fall back to plain members (users.role is 'member' and the
 * foreign key clears custom_role_id), which also evicts their cached sessions on commit.
 */
export async function deleteRole(tx: TenantTx, uc: TenantUseCase, id: string): Promise<void> {
  const before = await lockRole(tx, id);
  assertMayGrant(uc.actor, before.permissions);
  const [members] = await tx
    .select({ n: count() })
    .from(users)
    .where(eq(users.customRoleId, before.id));
  await tx.delete(tenantRoles).where(eq(tenantRoles.id, before.id));
  await audit(
    tx,
    uc,
    'role.deleted',
    before.id,
    { name: before.name, description: before.description, permissions: before.permissions },
    { members: members?.n ?? 0, membersNowRole: 'member' },
  );
}

async function lockRole(tx: TenantTx, id: string) {
  const [row] = await tx.select().from(tenantRoles).where(eq(tenantRoles.id, id)).for('update');
  if (!row) throw new AuthError('not_found', { detail: 'Role not found.' });
  return { ...row, permissions: normalised(row.permissions) };
}

async function assertNameFree(tx: TenantTx, name: string, self: string | null): Promise<void> {
  if ((userRoles as readonly string[]).includes(name.toLowerCase()))
    throw new AuthError('conflict', { detail: 'That is a built-in role.', field: 'name' });
  const [taken] = await tx
    .select({ id: tenantRoles.id })
    .from(tenantRoles)
    .where(sql`lower(${tenantRoles.name}) = ${name.toLowerCase()}`);
  if (taken && taken.id !== self)
    throw new AuthError('conflict', { detail: 'A role with this name exists.', field: 'name' });
}

function validPermissions(requested: readonly string[]): Permission[] {
  const unknown = requested.filter((p) => !isPermission(p));
  if (unknown.length > 0)
    throw new AuthError('invalid_input', {
      detail: `Unknown permission: ${unknown.join(', ')}.`,
      field: 'permissions',
    });
  const reserved = requested.filter((p) => BUILT_IN_ONLY.has(p as Permission));
  if (reserved.length > 0)
    throw new AuthError('invalid_input', {
      detail: `Only the built-in owner and admin roles hold: ${reserved.join(', ')}.`,
      field: 'permissions',
    });
  return normalised(requested);
}

/** Known permissions only, once each, in vocabulary order (stable audit diffs). */
function normalised(permissions: readonly string[]): Permission[] {
  return PERMISSIONS.filter((p) => permissions.includes(p));
}

function audit(
  tx: TenantTx,
  uc: TenantUseCase,
  action: string,
  roleId: string,
  before: Record<string, unknown> | null,
  after: Record<string, unknown>,
) {
  return recordAuditEvent(tx, {
    actor: { type: 'user', id: uc.actor.userId },
    action,
    target: { type: 'role', id: roleId },
    ip: uc.request.ip,
    userAgent: uc.request.userAgent,
    before,
    after,
    occurredAt: uc.now,
  });
}
