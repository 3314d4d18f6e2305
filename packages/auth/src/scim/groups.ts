/**
 * SCIM Groups (RFC 7643 §4.2): directory groups whose members are SCIM users of the same tenant.
 * Membership changes apply the group-to-role mapping (roles.ts) to the users they touch. Every
 * call runs in the token's tenant transaction (RLS); every change is audited in it.
 */
import { and, asc, count, eq, inArray, sql } from 'drizzle-orm';
import { scimGroupMembers, scimGroups, scimUsers, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { scimAuditOf, type ScimActor } from './actor.js';
import { recomputeUserRoles } from './roles.js';
import { uniqueOr } from './unique.js';

export const MAX_GROUP_MEMBERS_PER_REQUEST = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ScimGroupAttributes {
  displayName: string;
  externalId: string | null;
  /** User ids (SCIM `members[].value`). */
  memberIds: readonly string[];
}

export interface ScimGroupRecord {
  id: string;
  displayName: string;
  externalId: string | null;
  members: { id: string; userName: string }[];
  createdAt: Date;
  updatedAt: Date;
}

export type ScimGroupFilter = { attribute: 'displayName' | 'externalId'; value: string };

const groupColumns = {
  id: scimGroups.id,
  displayName: scimGroups.displayName,
  externalId: scimGroups.externalId,
  createdAt: scimGroups.createdAt,
  updatedAt: scimGroups.updatedAt,
};
type GroupRow = Omit<ScimGroupRecord, 'members'>;

async function membersOf(tx: TenantTx, groupId: string): Promise<ScimGroupRecord['members']> {
  return tx
    .select({ id: scimUsers.userId, userName: scimUsers.userName })
    .from(scimGroupMembers)
    .innerJoin(scimUsers, eq(scimUsers.userId, scimGroupMembers.userId))
    .where(eq(scimGroupMembers.groupId, groupId))
    .orderBy(asc(scimUsers.userName));
}

async function recordOf(
  tx: TenantTx,
  row: GroupRow,
  withMembers: boolean,
): Promise<ScimGroupRecord> {
  return { ...row, members: withMembers ? await membersOf(tx, row.id) : [] };
}

export async function findScimGroup(
  tx: TenantTx,
  groupId: string,
): Promise<ScimGroupRecord | null> {
  const [row] = await tx.select(groupColumns).from(scimGroups).where(eq(scimGroups.id, groupId));
  return row ? recordOf(tx, row, true) : null;
}

export async function listScimGroups(
  tx: TenantTx,
  input: {
    filter: ScimGroupFilter | null;
    startIndex: number;
    count: number;
    withMembers: boolean;
  },
): Promise<{ total: number; items: ScimGroupRecord[] }> {
  const where =
    input.filter === null
      ? undefined
      : input.filter.attribute === 'displayName'
        ? sql`lower(${scimGroups.displayName}) = lower(${input.filter.value})`
        : eq(scimGroups.externalId, input.filter.value);
  const [counted] = await tx.select({ n: count() }).from(scimGroups).where(where);
  const rows =
    input.count === 0
      ? []
      : await tx
          .select(groupColumns)
          .from(scimGroups)
          .where(where)
          .orderBy(asc(scimGroups.createdAt), asc(scimGroups.id))
          .limit(input.count)
          .offset(input.startIndex - 1);
  const items: ScimGroupRecord[] = [];
  for (const row of rows) items.push(await recordOf(tx, row, input.withMembers));
  return { total: counted?.n ?? 0, items };
}

/** The ids, each a SCIM user of this tenant; anything else is refused (400 invalidValue). */
async function assertMembers(tx: TenantTx, ids: readonly string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  if (unique.length > MAX_GROUP_MEMBERS_PER_REQUEST)
    throw new AuthError('invalid_input', { detail: 'Too many members in one request.' });
  if (!unique.every((id) => UUID.test(id)))
    throw new AuthError('invalid_input', { detail: 'A member is not a known user.' });
  if (unique.length === 0) return [];
  const found = await tx
    .select({ id: scimUsers.userId })
    .from(scimUsers)
    .where(inArray(scimUsers.userId, unique));
  if (found.length !== unique.length)
    throw new AuthError('invalid_input', { detail: 'A member is not a known user.' });
  return unique.map((id) => id.toLowerCase());
}

/** Makes the group's members exactly `memberIds`; returns the users added and removed. */
async function setMembers(
  tx: TenantTx,
  groupId: string,
  memberIds: readonly string[],
  now: Date,
): Promise<{ added: string[]; removed: string[] }> {
  const wanted = new Set(await assertMembers(tx, memberIds));
  const current = await tx
    .select({ id: scimGroupMembers.userId })
    .from(scimGroupMembers)
    .where(eq(scimGroupMembers.groupId, groupId));
  const had = new Set(current.map((m) => m.id));
  const added = [...wanted].filter((id) => !had.has(id));
  const removed = [...had].filter((id) => !wanted.has(id));
  if (added.length > 0)
    await tx
      .insert(scimGroupMembers)
      .values(added.map((userId) => ({ tenantId: tx.tenantId, groupId, userId, createdAt: now })))
      .onConflictDoNothing();
  if (removed.length > 0)
    await tx
      .delete(scimGroupMembers)
      .where(and(eq(scimGroupMembers.groupId, groupId), inArray(scimGroupMembers.userId, removed)));
  return { added, removed };
}

async function afterMembership(
  tx: TenantTx,
  actor: ScimActor,
  groupId: string,
  change: { added: string[]; removed: string[] },
  now: Date,
): Promise<void> {
  if (change.added.length === 0 && change.removed.length === 0) return;
  const audit = scimAuditOf(actor);
  await recordAuditEvent(tx, {
    ...audit,
    action: 'scim.group.members.changed',
    target: { type: 'scim_group', id: groupId },
    after: { added: change.added.slice(0, 100), removed: change.removed.slice(0, 100) },
    occurredAt: now,
  });
  await recomputeUserRoles(tx, audit, [...change.added, ...change.removed], now);
}

export async function createScimGroup(
  tx: TenantTx,
  actor: ScimActor,
  attributes: ScimGroupAttributes,
  now: Date,
): Promise<ScimGroupRecord> {
  const [row] = await uniqueOr(
    tx
      .insert(scimGroups)
      .values({
        tenantId: tx.tenantId,
        displayName: attributes.displayName,
        externalId: attributes.externalId,
        createdAt: now,
        updatedAt: now,
      })
      .returning(groupColumns),
  );
  if (!row) throw new Error('group insert returned nothing');
  await recordAuditEvent(tx, {
    ...scimAuditOf(actor),
    action: 'scim.group.created',
    target: { type: 'scim_group', id: row.id },
    after: { displayName: row.displayName, externalId: row.externalId },
    occurredAt: now,
  });
  const change = await setMembers(tx, row.id, attributes.memberIds, now);
  await afterMembership(tx, actor, row.id, change, now);
  return recordOf(tx, row, true);
}

/** PUT /Groups/{id}, and PATCH once the operations are applied. */
export async function replaceScimGroup(
  tx: TenantTx,
  actor: ScimActor,
  groupId: string,
  attributes: ScimGroupAttributes,
  now: Date,
): Promise<ScimGroupRecord> {
  const [current] = await tx
    .select(groupColumns)
    .from(scimGroups)
    .where(eq(scimGroups.id, groupId))
    .for('update');
  if (!current) throw new AuthError('not_found');
  let row: GroupRow = current;
  if (
    attributes.displayName !== current.displayName ||
    attributes.externalId !== current.externalId
  ) {
    const [updated] = await uniqueOr(
      tx
        .update(scimGroups)
        .set({
          displayName: attributes.displayName,
          externalId: attributes.externalId,
          updatedAt: now,
        })
        .where(eq(scimGroups.id, groupId))
        .returning(groupColumns),
    );
    if (!updated) throw new AuthError('not_found');
    row = updated;
    await recordAuditEvent(tx, {
      ...scimAuditOf(actor),
      action: 'scim.group.updated',
      target: { type: 'scim_group', id: groupId },
      before: { displayName: current.displayName, externalId: current.externalId },
      after: { displayName: updated.displayName, externalId: updated.externalId },
      occurredAt: now,
    });
  }
  const change = await setMembers(tx, groupId, attributes.memberIds, now);
  await afterMembership(tx, actor, groupId, change, now);
  return recordOf(tx, row, true);
}

export async function deleteScimGroup(
  tx: TenantTx,
  actor: ScimActor,
  groupId: string,
  now: Date,
): Promise<void> {
  const members = await tx
    .select({ id: scimGroupMembers.userId })
    .from(scimGroupMembers)
    .where(eq(scimGroupMembers.groupId, groupId));
  const [deleted] = await tx
    .delete(scimGroups)
    .where(eq(scimGroups.id, groupId))
    .returning({ id: scimGroups.id, displayName: scimGroups.displayName });
  if (!deleted) throw new AuthError('not_found');
  const audit = scimAuditOf(actor);
  await recordAuditEvent(tx, {
    ...audit,
    action: 'scim.group.deleted',
    target: { type: 'scim_group', id: groupId },
    before: { displayName: deleted.displayName, members: members.length },
    occurredAt: now,
  });
  await recomputeUserRoles(
    tx,
    audit,
    members.map((m) => m.id),
    now,
  );
}
