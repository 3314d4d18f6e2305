import type { UserRole } from '@tessera/db';
import type { Actor } from '../context/actor.js';
import { AuthError } from '../errors.js';
import { holdsPermission } from './permissions.js';

/**
 * The escalation rule (docs/roles.md): nobody puts into a role, or hands out through one, a
 * permission they do not hold themselves. The owner may grant every permission. Callers check both
 * the permissions a change removes from someone (a role's or a member's current ones: you may only
 * change what you could have granted) and the ones it gives.
 */
export function assertMayGrant(actor: Actor, permissions: readonly string[]): void {
  if (actor.role === 'owner') return;
  const missing = permissions.filter(
    (p) => !holdsPermission(actor.role, actor.customPermissions, p),
  );
  if (missing.length > 0)
    throw new AuthError('forbidden', {
      detail: `You cannot grant permissions you do not hold: ${missing.join(', ')}.`,
      field: 'permissions',
    });
}

/**
 * May `actor` give someone this role? Owners and admins keep the built-in rules (docs/design.md
 * "Identity": only owners make owners; admins assign admin, compliance and member); every custom
 * role, and any assignment by a holder of a custom role, follows the escalation rule.
 */
export function assertMayAssign(
  actor: Actor,
  assignment: { role: UserRole; custom: boolean },
  permissions: readonly string[],
): void {
  if (actor.role === 'admin' && !assignment.custom && assignment.role !== 'owner') return;
  assertMayGrant(actor, permissions);
}

/**
 * May `actor` act on this member at all (change their role, disable, unlock, reset their MFA)?
 * Only owners act on owners; owners and admins on everyone else; anyone else (a custom role with
 * `users:write`) only on members whose permissions they hold themselves.
 */
export function assertMayManage(
  actor: Actor,
  targetRole: UserRole,
  targetPermissions: readonly string[],
): void {
  if (targetRole === 'owner' && actor.role !== 'owner')
    throw new AuthError('forbidden', { detail: 'Only owners can change owners.' });
  if (actor.role === 'owner' || actor.role === 'admin') return;
  assertMayGrant(actor, targetPermissions);
}
