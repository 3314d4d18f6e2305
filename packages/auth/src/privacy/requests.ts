/**
 * Data-subject requests (docs/design.md "Privacy"): subjects ask for themselves, compliance staff on a
 * subject's behalf. One open request per subject and type: a second returns the open one,
 * whatever its format. The subject's user row is locked first, which serialises requests, legal
 * holds and the erasure worker for that subject. Every change is audited in its transaction.
 */
import { and, eq, inArray, ne, isNull } from 'drizzle-orm';
import {
  privacyRequests,
  tenants,
  users,
  type PrivacyExportFormat,
  type PrivacyRequestRow,
  type PrivacyRequestType,
  type TenantTx,
} from '@tessera/db';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import type { Keyring } from '../crypto/keyring.js';
import { AuthError } from '../errors.js';
import { actsForOthers, auditActorOf, requestMeta, type PrivacyActor } from './actor.js';
import { privacyDueDate } from './deadlines.js';
import { hasActiveLegalHold } from './legal-holds.js';
import { enqueuePrivacyEmail } from './notifications.js';
import type { PrivacySubject } from './sources/index.js';

export const OPEN_STATUSES = ['pending', 'processing', 'blocked'] as const;

export interface NewPrivacyRequest {
  userId: string;
  type: PrivacyRequestType;
  format?: PrivacyExportFormat | undefined;
}

export interface PrivacyDeps {
  keyring: Keyring;
  now: Date;
}

export async function tenantNameOf(tx: TenantTx): Promise<string> {
  const [tenant] = await tx.select({ name: tenants.name }).from(tenants);
  return tenant?.name ?? '';
}

/**
 * The subject's user row, locked until the transaction ends; null when there is none. Requests and
 * holds take NO KEY UPDATE (they serialise with each other, not with a running export's KEY
 * SHARE); erasure takes UPDATE first thing, so it waits for a running export before touching
 * anything (no lock-order deadlock with it).
 */
export async function lockSubject(
  tx: TenantTx,
  userId: string,
  strength: 'no key update' | 'update' = 'no key update',
): Promise<{ id: string; email: string; role: string; disabledAt: Date | null } | null> {
  const [user] = await tx
    .select({ id: users.id, email: users.email, role: users.role, disabledAt: users.disabledAt })
    .from(users)
    .where(eq(users.id, userId))
    .for(strength);
  return user ?? null;
}

/** Refuses erasure of the tenant's last enabled owner (ownership must move first). */
async function assertNotLastOwner(tx: TenantTx, user: { id: string; role: string }): Promise<void> {
  if (user.role !== 'owner') return;
  const others = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.role, 'owner'), isNull(users.disabledAt), ne(users.id, user.id)))
    .for('update');
  if (others.length === 0)
    throw new AuthError('last_owner', {
      detail: 'Move ownership to another user before erasing the last owner.',
    });
}

/** Creates a request, or returns the subject's open one of the same type (`created: false`). */
export async function createPrivacyRequest(
  tx: TenantTx,
  actor: PrivacyActor,
  input: NewPrivacyRequest,
  deps: PrivacyDeps,
): Promise<{ request: PrivacyRequestRow; created: boolean }> {
  if ((input.type === 'export') !== (input.format !== undefined))
    throw new AuthError('invalid_input', {
      detail: 'Exports need a format; erasure takes none.',
      field: 'format',
    });
  if (input.userId !== actor.id && !actsForOthers(actor)) throw new AuthError('forbidden');
  const subject = await lockSubject(tx, input.userId);
  if (!subject) throw new AuthError('not_found');
  const [open] = await tx
    .select()
    .from(privacyRequests)
    .where(
      and(
        eq(privacyRequests.userId, subject.id),
        eq(privacyRequests.type, input.type),
        inArray(privacyRequests.status, [...OPEN_STATUSES]),
      ),
    );
  if (open) return { request: open, created: false };
  if (input.type === 'deletion') await assertNotLastOwner(tx, subject);
  const blocked = input.type === 'deletion' && (await hasActiveLegalHold(tx, subject.id));
  const due = privacyDueDate(deps.now);
  const [request] = await tx
    .insert(privacyRequests)
    .values({
      tenantId: tx.tenantId,
      userId: subject.id,
      type: input.type,
      format: input.format ?? null,
      status: blocked ? 'blocked' : 'pending',
      requestedByType: actor.type,
      requestedBy: actor.id,
      requestedAt: deps.now,
      originalDueAt: due,
      dueAt: due,
      contactEmail: input.type === 'deletion' ? subject.email : null,
      updatedAt: deps.now,
    })
    .returning();
  if (!request) throw new Error('privacy request insert returned nothing');
  await enqueuePrivacyEmail(tx, deps, {
    to: { userId: subject.id, address: subject.email },
    tenantName: await tenantNameOf(tx),
    mail: { name: 'privacy_request_received', type: input.type, dueAt: due },
  });
  await recordAuditEvent(tx, {
    actor: auditActorOf(actor),
    action: 'privacy.request.created',
    target: { type: 'user', id: subject.id },
    ...requestMeta(actor),
    after: {
      requestId: request.id,
      type: request.type,
      format: request.format,
      status: request.status,
      dueAt: due.toISOString(),
    },
    occurredAt: deps.now,
  });
  return { request, created: true };
}

/** The subject's own requests, newest first. */
export function listOwnPrivacyRequests(tx: TenantTx, userId: string): Promise<PrivacyRequestRow[]> {
  return tx.query.privacyRequests.findMany({
    where: eq(privacyRequests.userId, userId),
    orderBy: (r, { desc }) => [desc(r.requestedAt), desc(r.id)],
    limit: 200,
  });
}

/** Locks an open request (RLS: another tenant's id is simply not found). */
export async function lockOpenRequest(tx: TenantTx, id: string): Promise<PrivacyRequestRow> {
  const [row] = await tx
    .select()
    .from(privacyRequests)
    .where(eq(privacyRequests.id, id))
    .for('update');
  if (!row) throw new AuthError('not_found');
  if (!(OPEN_STATUSES as readonly string[]).includes(row.status))
    throw new AuthError('conflict', { detail: `The request is already ${row.status}.` });
  return row;
}

/**
 * The subject as the sources take it; null once the user row is gone. The export holds FOR KEY
 * SHARE until it commits: an erasure (which deletes the row) waits for it and then deletes the
 * file, while the subject's ordinary updates (a sign-in) do not wait.
 */
export async function findPrivacySubject(
  tx: TenantTx,
  userId: string,
): Promise<PrivacySubject | null> {
  const [user] = await tx
    .select({ email: users.email })
    .from(users)
    .where(eq(users.id, userId))
    .for('key share');
  return user ? { userId, email: user.email } : null;
}
