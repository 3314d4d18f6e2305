/**
 * Group-to-role mapping (docs/scim.md "Groups and roles"). Once an admin has given any directory
 * group a role, a SCIM user's role follows their groups whenever a membership or mapping change
 * touches them: the highest mapped role among their groups (admin > compliance > member), or
 * member when none is mapped. Owners are never changed, and no group can grant ownership. A role
 * change revokes the user's sessions, as users.setRole does.
 */
import { and, asc, eq, inArray, isNotNull } from 'drizzle-orm';
import { scimGroupMembers, scimGroups, users, type TenantTx, type UserRole } from '@tessera/db';
import { recordAuditEvent, type AuditActor } from '../audit/index.js';
import { revokeUserSessions } from '../sessions/revoke-sessions.js';

const PRECEDENCE: readonly UserRole[] = ['admin', 'compliance', 'member'];

export async function groupsOfUser(
  tx: TenantTx,
  userId: string,
): Promise<{ id: string; displayName: string }[]> {
  return tx
    .select({ id: scimGroups.id, displayName: scimGroups.displayName })
    .from(scimGroupMembers)
    .innerJoin(scimGroups, eq(scimGroups.id, scimGroupMembers.groupId))
    .where(eq(scimGroupMembers.userId, userId))
    .orderBy(asc(scimGroups.displayName));
}

export interface RoleAudit {
  actor: AuditActor;
  ip: string | null;
  userAgent: string | null;
  metadata?: Record<string, unknown>;
}

/** Applies the mapping to each user; returns how many roles changed. */
export async function recomputeUserRoles(
  tx: TenantTx,
  audit: RoleAudit,
  userIds: readonly string[],
  now: Date,
): Promise<number> {
  if (userIds.length === 0) return 0;
  const [mapped] = await tx
    .select({ id: scimGroups.id })
    .from(scimGroups)
    .where(isNotNull(scimGroups.role))
    .limit(1);
  if (!mapped) return 0; // no mapping: roles stay as the console set them
  const targets = await tx
    .select({ id: users.id, role: users.role })
    .from(users)
    .where(inArray(users.id, [...userIds]))
    .for('update');
  let changed = 0;
  for (const target of targets) {
    if (target.role === 'owner') continue;
    const roles = await tx
      .select({ role: scimGroups.role })
      .from(scimGroupMembers)
      .innerJoin(scimGroups, eq(scimGroups.id, scimGroupMembers.groupId))
      .where(and(eq(scimGroupMembers.userId, target.id), isNotNull(scimGroups.role)));
    const held = new Set(roles.map((r) => r.role));
    const role = PRECEDENCE.find((r) => held.has(r as never)) ?? 'member';
    if (role === target.role) continue;
    // A directory role replaces a custom role (docs/roles.md: a custom role sits on a member).
    await tx
      .update(users)
      .set({ role, customRoleId: null, updatedAt: now })
      .where(eq(users.id, target.id));
    // A privilege change gets new sessions, as with users.setRole.
    await revokeUserSessions(tx, target.id, 'role_changed', now);
    await recordAuditEvent(tx, {
      ...audit,
      action: 'user.role.changed',
      target: { type: 'user', id: target.id },
      before: { role: target.role },
      after: { role },
      metadata: { ...audit.metadata, source: 'scim_group' },
      occurredAt: now,
    });
    changed++;
  }
  return changed;
}
