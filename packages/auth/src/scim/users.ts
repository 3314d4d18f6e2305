/**
 * SCIM Users (RFC 7643 §4.1) mapped onto Tessera users (docs/scim.md). The directory's names for a
 * user live in `scim_users`; the account itself (address, display name, role, disabled state) is
 * the ordinary `users` row, changed through the same paths the console uses.
 *
 * Guarantees: every call runs in the token's tenant transaction (RLS), so another tenant's users
 * are "not found"; owners are never changed through SCIM (the console manages ownership);
 * deactivation disables the account and revokes every session and remembered device in the same
 * transaction (the session caches drop them on commit); every change is audited in that
 * transaction. Pinned by packages/api/src/scim/*.test.ts.
 */
import { asc, eq, sql } from 'drizzle-orm';
import { scimUsers, users, type TenantTx, type UserRole } from '@tessera/db';
import { isPlausibleEmail, normalizeEmail } from '../accounts/normalize-email.js';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { scimAuditOf, type ScimActor } from './actor.js';
import { groupsOfUser } from './roles.js';
import { setActive } from './user-status.js';
import { uniqueOr } from './unique.js';

export interface ScimUserAttributes {
  userName: string;
  externalId: string | null;
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
  /** The address the user signs in with. */
  email: string;
  active: boolean;
}

export interface ScimUserRecord extends ScimUserAttributes {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  groups: { id: string; displayName: string }[];
}

export type ScimUserFilter = { attribute: 'userName' | 'externalId'; value: string };

const columns = {
  id: users.id,
  role: users.role,
  email: users.email,
  displayName: users.displayName,
  disabledAt: users.disabledAt,
  userName: scimUsers.userName,
  externalId: scimUsers.externalId,
  givenName: scimUsers.givenName,
  familyName: scimUsers.familyName,
  createdAt: scimUsers.createdAt,
  updatedAt: scimUsers.updatedAt,
};
interface Row {
  id: string;
  role: UserRole;
  email: string;
  displayName: string | null;
  disabledAt: Date | null;
  userName: string;
  externalId: string | null;
  givenName: string | null;
  familyName: string | null;
  createdAt: Date;
  updatedAt: Date;
}

function joined(tx: TenantTx) {
  return tx.select(columns).from(scimUsers).innerJoin(users, eq(users.id, scimUsers.userId));
}

async function recordOf(tx: TenantTx, row: Row): Promise<ScimUserRecord> {
  return {
    id: row.id,
    userName: row.userName,
    externalId: row.externalId,
    givenName: row.givenName,
    familyName: row.familyName,
    displayName: row.displayName,
    email: row.email,
    active: row.disabledAt === null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    groups: await groupsOfUser(tx, row.id),
  };
}

async function findRow(tx: TenantTx, userId: string, lock = false): Promise<Row | null> {
  const query = joined(tx).where(eq(scimUsers.userId, userId));
  const [row] = lock ? await query.for('update') : await query;
  return (row as Row | undefined) ?? null;
}

export async function findScimUser(tx: TenantTx, userId: string): Promise<ScimUserRecord | null> {
  const row = await findRow(tx, userId);
  return row ? recordOf(tx, row) : null;
}

/** One page (1-based `startIndex`, RFC 7644 §3.4.2.4) in creation order, and the total. */
export async function listScimUsers(
  tx: TenantTx,
  input: { filter: ScimUserFilter | null; startIndex: number; count: number },
): Promise<{ total: number; items: ScimUserRecord[] }> {
  const where =
    input.filter === null
      ? undefined
      : input.filter.attribute === 'userName'
        ? sql`lower(${scimUsers.userName}) = lower(${input.filter.value})`
        : eq(scimUsers.externalId, input.filter.value);
  const [counted] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(scimUsers)
    .where(where);
  const rows =
    input.count === 0
      ? []
      : await joined(tx)
          .where(where)
          .orderBy(asc(scimUsers.createdAt), asc(scimUsers.userId))
          .limit(input.count)
          .offset(input.startIndex - 1);
  const items: ScimUserRecord[] = [];
  for (const row of rows) items.push(await recordOf(tx, row));
  return { total: counted?.n ?? 0, items };
}

function addressOf(attributes: ScimUserAttributes): string {
  const email = normalizeEmail(attributes.email);
  if (!isPlausibleEmail(email))
    throw new AuthError('invalid_input', { detail: 'A valid e-mail address is required.' });
  return email;
}

/**
 * POST /Users. A Tessera user with the same address and no SCIM link yet (invited or created in
 * the console) is adopted rather than duplicated; an owner is not (409), nor a user already linked.
 */
export async function createScimUser(
  tx: TenantTx,
  actor: ScimActor,
  attributes: ScimUserAttributes,
  now: Date,
): Promise<ScimUserRecord> {
  const email = addressOf(attributes);
  const [existing] = await tx
    .select({ id: users.id, role: users.role, linked: scimUsers.userId })
    .from(users)
    .leftJoin(scimUsers, eq(scimUsers.userId, users.id))
    .where(eq(users.email, email))
    .for('update', { of: users });
  if (existing && (existing.linked !== null || existing.role === 'owner'))
    throw new AuthError('conflict', { detail: 'A user with this address already exists.' });
  let userId: string;
  if (existing) {
    userId = existing.id;
    await tx
      .update(users)
      .set({ displayName: attributes.displayName, updatedAt: now })
      .where(eq(users.id, userId));
  } else {
    const [inserted] = await uniqueOr(
      tx
        .insert(users)
        .values({
          tenantId: tx.tenantId,
          email,
          displayName: attributes.displayName,
          role: 'member',
          createdAt: now,
          updatedAt: now,
        })
        .returning({ id: users.id }),
    );
    if (!inserted) throw new Error('user insert returned nothing');
    userId = inserted.id;
  }
  await uniqueOr(
    tx.insert(scimUsers).values({
      tenantId: tx.tenantId,
      userId,
      userName: attributes.userName,
      externalId: attributes.externalId,
      givenName: attributes.givenName,
      familyName: attributes.familyName,
      createdAt: now,
      updatedAt: now,
    }),
  );
  await recordAuditEvent(tx, {
    ...scimAuditOf(actor),
    action: 'scim.user.created',
    target: { type: 'user', id: userId },
    after: { externalId: attributes.externalId, adopted: existing !== undefined },
    occurredAt: now,
  });
  if (!attributes.active) await setActive(tx, actor, userId, false, now);
  const row = await findRow(tx, userId);
  if (!row) throw new Error('provisioned user vanished');
  return recordOf(tx, row);
}

/** PUT /Users/{id}, and PATCH once the operations are applied: the new state replaces the old. */
export async function replaceScimUser(
  tx: TenantTx,
  actor: ScimActor,
  userId: string,
  attributes: ScimUserAttributes,
  now: Date,
): Promise<ScimUserRecord> {
  const current = await findRow(tx, userId, true);
  if (!current) throw new AuthError('not_found');
  if (current.role === 'owner')
    throw new AuthError('forbidden', { detail: 'Owners are managed in the console.' });
  const email = addressOf(attributes);
  const changed: string[] = [];
  if (email !== current.email) changed.push('email');
  if (attributes.displayName !== current.displayName) changed.push('displayName');
  for (const key of ['userName', 'externalId', 'givenName', 'familyName'] as const)
    if (attributes[key] !== current[key]) changed.push(key);
  if (changed.length > 0) {
    if (changed.includes('email') || changed.includes('displayName'))
      await uniqueOr(
        tx
          .update(users)
          .set({
            email,
            displayName: attributes.displayName,
            updatedAt: now,
            // A new address starts unverified, as after auth.requestEmailChange.
            ...(email !== current.email ? { emailVerifiedAt: null } : {}),
          })
          .where(eq(users.id, userId)),
      );
    await uniqueOr(
      tx
        .update(scimUsers)
        .set({
          userName: attributes.userName,
          externalId: attributes.externalId,
          givenName: attributes.givenName,
          familyName: attributes.familyName,
          updatedAt: now,
        })
        .where(eq(scimUsers.userId, userId)),
    );
    await recordAuditEvent(tx, {
      ...scimAuditOf(actor),
      action: 'scim.user.updated',
      target: { type: 'user', id: userId },
      after: { changed },
      occurredAt: now,
    });
  }
  if (attributes.active !== (current.disabledAt === null))
    await setActive(tx, actor, userId, attributes.active, now);
  const row = await findRow(tx, userId);
  if (!row) throw new Error('provisioned user vanished');
  return recordOf(tx, row);
}

/**
 * DELETE /Users/{id}: the user stops being a SCIM resource (later GETs answer 404) and is disabled;
 * with the tenant's `erase` choice a GDPR deletion request is opened for them as well, which the
 * erasure worker carries out (legal holds apply). Returns that request's id, if any.
 */
export async function deleteScimUser(
  tx: TenantTx,
  actor: ScimActor,
  userId: string,
  now: Date,
  erase: ((tx: TenantTx, userId: string) => Promise<string>) | null,
): Promise<{ requestId: string | null }> {
  const current = await findRow(tx, userId, true);
  if (!current) throw new AuthError('not_found');
  if (current.role === 'owner')
    throw new AuthError('forbidden', { detail: 'Owners are managed in the console.' });
  if (current.disabledAt === null) await setActive(tx, actor, userId, false, now);
  await tx.delete(scimUsers).where(eq(scimUsers.userId, userId));
  const requestId = erase ? await erase(tx, userId) : null;
  await recordAuditEvent(tx, {
    ...scimAuditOf(actor),
    action: 'scim.user.deleted',
    target: { type: 'user', id: userId },
    after: { action: erase ? 'erase' : 'disable', requestId },
    occurredAt: now,
  });
  return { requestId };
}
