import { and, asc, eq, gt, isNull, ne, sql } from 'drizzle-orm';
import { mfaTotp, users, withTenant, type Database, type TenantTx, type UserRole } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { revokeUserSessions } from '../sessions/revoke-sessions.js';
import type { Actor } from './actor.js';
import type { RequestContext } from './deps.js';
import { clearFailures } from './throttle.js';

export interface UserListItem {
  id: string;
  email: string;
  displayName: string | null;
  role: UserRole;
  mfaEnabled: boolean;
  disabled: boolean;
  lastLoginAt: string | null;
}

/** Keyset pagination by id: stable under concurrent inserts. */
export async function listUsers(tx: TenantTx, input: { cursor?: string | undefined; limit?: number | undefined }): Promise<{ items: UserListItem[]; nextCursor: string | null }> {
  const limit = Math.min(input.limit ?? 50, 100);
  const rows = await tx
    .select({ u: users, mfaEnabledAt: mfaTotp.enabledAt, hasPasskey: sql<boolean>`exists (select 1 from public.webauthn_credentials w where w.user_id = ${users.id})` })
    .from(users)
    .leftJoin(mfaTotp, and(eq(mfaTotp.tenantId, users.tenantId), eq(mfaTotp.userId, users.id)))
    .where(input.cursor ? gt(users.id, input.cursor) : undefined)
    .orderBy(asc(users.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return {
    items: page.map(({ u, mfaEnabledAt, hasPasskey }) => ({ id: u.id, email: u.email, displayName: u.displayName, role: u.role, mfaEnabled: mfaEnabledAt !== null || hasPasskey, disabled: u.disabledAt !== null, lastLoginAt: u.lastLoginAt?.toISOString() ?? null })),
    nextCursor: rows.length > limit ? (page.at(-1)?.u.id ?? null) : null,
  };
}

async function targetOf(tx: TenantTx, actor: Actor, userId: string) {
  const [target] = await tx.select().from(users).where(eq(users.id, userId)).for('update');
  if (!target) throw new AuthError('not_found');
  // Only owners change, disable or reset owners (DESIGN "Identity").
  if (target.role === 'owner' && actor.role !== 'owner') throw new AuthError('forbidden', { detail: 'Only owners can change owners.' });
  return target;
}

/** Refuses to leave the tenant without an enabled owner. Locks owner rows so two demotions cannot race. */
async function assertOtherOwner(tx: TenantTx, userId: string): Promise<void> {
  const others = await tx.select({ id: users.id }).from(users).where(and(eq(users.role, 'owner'), isNull(users.disabledAt), ne(users.id, userId))).for('update');
  if (others.length === 0) throw new AuthError('last_owner');
}

function audit(tx: TenantTx, actor: Actor, request: RequestContext, now: Date, action: string, userId: string, before?: Record<string, unknown>, after?: Record<string, unknown>) {
  return recordAuditEvent(tx, { actor: { type: 'user', id: actor.userId }, action, target: { type: 'user', id: userId }, ip: request.ip, userAgent: request.userAgent, before: before ?? null, after: after ?? null, occurredAt: now });
}

export async function setUserRole(db: Database, actor: Actor, input: { userId: string; role: UserRole }, request: RequestContext, now: Date): Promise<void> {
  if (input.role === 'owner' && actor.role !== 'owner') throw new AuthError('forbidden', { detail: 'Only owners can make owners.' });
  await withTenant(db, actor.tenantId, async (tx) => {
    const target = await targetOf(tx, actor, input.userId);
    if (target.role === input.role) return;
    if (target.role === 'owner') await assertOtherOwner(tx, target.id);
    await tx.update(users).set({ role: input.role, updatedAt: now }).where(eq(users.id, target.id));
    // A privilege change gets new sessions: the user signs in again under the new role.
    await revokeUserSessions(tx, target.id, 'role_changed', now);
    await audit(tx, actor, request, now, 'user.role.changed', target.id, { role: target.role }, { role: input.role });
  });
}

export async function disableUser(db: Database, actor: Actor, input: { userId: string }, request: RequestContext, now: Date): Promise<void> {
  if (input.userId === actor.userId) throw new AuthError('forbidden', { detail: 'You cannot disable yourself.' });
  await withTenant(db, actor.tenantId, async (tx) => {
    const target = await targetOf(tx, actor, input.userId);
    if (target.disabledAt) return;
    if (target.role === 'owner') await assertOtherOwner(tx, target.id);
    await tx.update(users).set({ disabledAt: now, updatedAt: now }).where(eq(users.id, target.id));
    const revoked = await revokeUserSessions(tx, target.id, 'user_disabled', now);
    await audit(tx, actor, request, now, 'user.disabled', target.id, undefined, { sessionsRevoked: revoked });
  });
}

export async function unlockUser(db: Database, actor: Actor, input: { userId: string }, request: RequestContext, now: Date): Promise<void> {
  await withTenant(db, actor.tenantId, async (tx) => {
    const target = await targetOf(tx, actor, input.userId);
    await clearFailures(tx, target.email);
    await audit(tx, actor, request, now, 'user.unlocked', target.id);
  });
}

export async function countUsers(tx: TenantTx): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(users);
  return row?.n ?? 0;
}
