/** The console's side of directory groups: the list with mapped roles, and the mapping itself. */
import { asc, eq, sql } from 'drizzle-orm';
import { scimGroupMembers, scimGroups, type ScimGroupRole, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { adminAuditOf, type ScimAdmin } from './actor.js';
import { recomputeUserRoles } from './roles.js';

export interface ScimGroupSummary {
  id: string;
  displayName: string;
  role: ScimGroupRole | null;
  members: number;
}

/** The console's view: every group with its mapped role and member count. */
export async function listScimGroupSummaries(tx: TenantTx): Promise<ScimGroupSummary[]> {
  const rows = await tx
    .select({
      id: scimGroups.id,
      displayName: scimGroups.displayName,
      role: scimGroups.role,
      members: sql<number>`(SELECT count(*)::int FROM public.scim_group_members m WHERE m.group_id = ${scimGroups.id})`,
    })
    .from(scimGroups)
    .orderBy(asc(scimGroups.displayName))
    .limit(500);
  return rows;
}

/** An admin maps a group to a role (or clears it); the members' roles follow at once. */
export async function setScimGroupRole(
  tx: TenantTx,
  admin: ScimAdmin,
  input: { groupId: string; role: ScimGroupRole | null },
  now: Date,
): Promise<void> {
  const [current] = await tx
    .select({ role: scimGroups.role })
    .from(scimGroups)
    .where(eq(scimGroups.id, input.groupId))
    .for('update');
  if (!current) throw new AuthError('not_found');
  if (current.role === input.role) return;
  await tx
    .update(scimGroups)
    .set({ role: input.role, updatedAt: now })
    .where(eq(scimGroups.id, input.groupId));
  const audit = adminAuditOf(admin);
  await recordAuditEvent(tx, {
    ...audit,
    action: 'scim.group.role.changed',
    target: { type: 'scim_group', id: input.groupId },
    before: { role: current.role },
    after: { role: input.role },
    occurredAt: now,
  });
  // The group's members follow at once; other users when a membership change next touches them.
  const members = await tx
    .select({ id: scimGroupMembers.userId })
    .from(scimGroupMembers)
    .where(eq(scimGroupMembers.groupId, input.groupId));
  await recomputeUserRoles(
    tx,
    audit,
    members.map((m) => m.id),
    now,
  );
}
