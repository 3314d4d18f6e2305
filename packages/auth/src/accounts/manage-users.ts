import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import { users, type TenantTx, type UserRole } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { revokeUserSessions } from '../sessions/revoke-sessions.js';
import type { Actor } from '../context/actor.js';
import type { RequestContext } from '../context/deps.js';
import { clearFailures } from '../shared/throttle.js';
import { assertMayAssign, assertMayManage } from '../roles/grant-rule.js';
import { customRolePermissions, memberPermissions } from '../roles/manage-roles.js';
import { BUILT_IN_ROLE_PERMISSIONS } from '../roles/permissions.js';
import type { TenantUseCase } from '../context/use-case.js';

export interface UserListItem {
  id: string;
  email: string;
  displayName: string | null;
  role: UserRole;
  /** A custom role on top of `member` (docs/roles.md), or null. */
  customRoleId: string | null;
  mfaEnabled: boolean;
  disabled: boolean;
  lastLoginAt: string | null;
}

/**
 * One page of the tenant's members in id order. Keyset pagination by id: stable under concurrent
 * inserts. The statement text is fixed (two variants) rather than built per call: this is the
 * API-key callers' busiest read, and building it with the query builder cost a fifth of the call.
 * RLS still scopes it to the transaction's tenant.
 */
const LIST_COLUMNS = `u.id, u.email, u.display_name, u.role, u.custom_role_id, u.disabled_at IS NOT NULL AS disabled, u.last_login_at,
  (t.enabled_at IS NOT NULL OR EXISTS (SELECT 1 FROM public.webauthn_credentials w WHERE w.tenant_id = u.tenant_id AND w.user_id = u.id)) AS mfa_enabled
  FROM public.users u LEFT JOIN public.mfa_totp t ON t.tenant_id = u.tenant_id AND t.user_id = u.id`;
const LIST_FIRST_PAGE = `SELECT ${LIST_COLUMNS} ORDER BY u.id LIMIT $1`;
const LIST_AFTER_CURSOR = `SELECT ${LIST_COLUMNS} WHERE u.id > $2::uuid ORDER BY u.id LIMIT $1`;

interface ListRow {
  id: string;
  email: string;
  display_name: string | null;
  role: UserRole;
  custom_role_id: string | null;
  disabled: boolean;
  last_login_at: Date | null;
  mfa_enabled: boolean;
}

export async function listUsers(
  tx: TenantTx,
  input: { cursor?: string | undefined; limit?: number | undefined },
): Promise<{ items: UserListItem[]; nextCursor: string | null }> {
  const limit = Math.min(input.limit ?? 50, 100);
  const { rows } = input.cursor
    ? await tx.client.query<ListRow>(LIST_AFTER_CURSOR, [limit + 1, input.cursor])
    : await tx.client.query<ListRow>(LIST_FIRST_PAGE, [limit + 1]);
  const page = rows.slice(0, limit);
  return {
    items: page.map((row) => ({
      id: row.id,
      email: row.email,
      displayName: row.display_name,
      role: row.role,
      customRoleId: row.custom_role_id,
      mfaEnabled: row.mfa_enabled,
      disabled: row.disabled,
      lastLoginAt: row.last_login_at?.toISOString() ?? null,
    })),
    nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
  };
}

async function targetOf(tx: TenantTx, actor: Actor, userId: string) {
  const [target] = await tx.select().from(users).where(eq(users.id, userId)).for('update');
  if (!target) throw new AuthError('not_found');
  // Only owners change, disable or reset owners (docs/design.md "Identity"); a custom role only
  // members whose permissions it holds (docs/roles.md).
  assertMayManage(actor, target.role, await memberPermissions(tx, target));
  return target;
}

/** Refuses to leave the tenant without an enabled owner. Locks owner rows so two demotions cannot race. */
async function assertOtherOwner(tx: TenantTx, userId: string): Promise<void> {
  const others = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.role, 'owner'), isNull(users.disabledAt), ne(users.id, userId)))
    .for('update');
  if (others.length === 0) throw new AuthError('last_owner');
}

function audit(
  tx: TenantTx,
  actor: Actor,
  request: RequestContext,
  now: Date,
  action: string,
  userId: string,
  before?: Record<string, unknown>,
  after?: Record<string, unknown>,
) {
  return recordAuditEvent(tx, {
    actor: { type: 'user', id: actor.userId },
    action,
    target: { type: 'user', id: userId },
    ip: request.ip,
    userAgent: request.userAgent,
    before: before ?? null,
    after: after ?? null,
    occurredAt: now,
  });
}

export async function setUserRole(
  tx: TenantTx,
  uc: TenantUseCase,
  input: { userId: string; role: UserRole; customRoleId?: string | null | undefined },
): Promise<void> {
  const { actor, request, now } = uc;
  const customRoleId = input.customRoleId ?? null;
  if (input.role === 'owner' && actor.role !== 'owner')
    throw new AuthError('forbidden', { detail: 'Only owners can make owners.' });
  const granted = customRoleId
    ? await customRolePermissions(tx, customRoleId)
    : BUILT_IN_ROLE_PERMISSIONS[input.role];
  assertCustomOnMember(input.role, customRoleId);
  const target = await targetOf(tx, actor, input.userId);
  assertMayAssign(actor, { role: input.role, custom: customRoleId !== null }, granted);
  if (target.role === input.role && target.customRoleId === customRoleId) return;
  if (target.role === 'owner') await assertOtherOwner(tx, target.id);
  await tx
    .update(users)
    .set({ role: input.role, customRoleId, updatedAt: now })
    .where(eq(users.id, target.id));
  // A privilege change gets new sessions: the user signs in again under the new role.
  await revokeUserSessions(tx, target.id, 'role_changed', now);
  await audit(
    tx,
    actor,
    request,
    now,
    'user.role.changed',
    target.id,
    ...roleChange(target, { role: input.role, customRoleId }),
  );
}

/** A custom role sits on a plain member (docs/roles.md): deleting it leaves a member. */
export function assertCustomOnMember(role: UserRole, customRoleId: string | null): void {
  if (customRoleId !== null && role !== 'member')
    throw new AuthError('invalid_input', {
      detail: 'A custom role is given to a member.',
      field: 'customRoleId',
    });
}

type RoleState = { role: UserRole; customRoleId: string | null };

/** Audit before/after of a role change; the custom role appears only where one is involved. */
function roleChange(
  before: RoleState,
  after: RoleState,
): [Record<string, unknown>, Record<string, unknown>] {
  if (before.customRoleId === null && after.customRoleId === null)
    return [{ role: before.role }, { role: after.role }];
  return [
    { role: before.role, customRoleId: before.customRoleId },
    { role: after.role, customRoleId: after.customRoleId },
  ];
}

export async function disableUser(
  tx: TenantTx,
  uc: TenantUseCase,
  input: { userId: string },
): Promise<void> {
  const { actor, request, now } = uc;
  if (input.userId === actor.userId)
    throw new AuthError('forbidden', { detail: 'You cannot disable yourself.' });
  const target = await targetOf(tx, actor, input.userId);
  if (target.disabledAt) return;
  if (target.role === 'owner') await assertOtherOwner(tx, target.id);
  const revoked = await disableUserRow(tx, target.id, now);
  await audit(tx, actor, request, now, 'user.disabled', target.id, undefined, {
    sessionsRevoked: revoked,
  });
}

/**
 * The one way a user is disabled (users.disable, SCIM deactivation): the row is marked and every
 * session revoked in the caller's transaction. Both UPDATEs fire the session-change triggers
 * (migrations/0024), so every API process drops the user's cached sessions on commit. Returns
 * the number of sessions revoked.
 */
export async function disableUserRow(tx: TenantTx, userId: string, now: Date): Promise<number> {
  await tx.update(users).set({ disabledAt: now, updatedAt: now }).where(eq(users.id, userId));
  return revokeUserSessions(tx, userId, 'user_disabled', now);
}

export async function unlockUser(
  tx: TenantTx,
  uc: TenantUseCase,
  input: { userId: string },
): Promise<void> {
  const { actor, request, now } = uc;
  const target = await targetOf(tx, actor, input.userId);
  await clearFailures(tx, target.email);
  await audit(tx, actor, request, now, 'user.unlocked', target.id);
}

export async function countUsers(tx: TenantTx): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(users);
  return row?.n ?? 0;
}
