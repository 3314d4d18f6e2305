import type { UserRole } from '@tessera/db';
import { holdsPermission } from '../roles/permissions.js';
import type { AuditActor } from '../audit/record-audit-event.js';

/**
 * Who acts on privacy requests: a signed-in user (with their role), a secret API key, or the
 * tenant's directory through a SCIM token (a SCIM DELETE opens an erasure, docs/scim.md).
 */
export interface PrivacyActor {
  type: 'user' | 'api_key' | 'scim_token';
  /** User, API key or SCIM token id (all uuids). */
  id: string;
  /** The user's role; undefined for API keys. */
  role?: UserRole | undefined;
  /** The permissions of the user's custom role, if any (docs/roles.md). */
  customPermissions?: readonly string[] | undefined;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
}

export function auditActorOf(actor: PrivacyActor): AuditActor {
  // The audit log knows no token actors: a directory's change is the system's, naming the token.
  if (actor.type === 'scim_token') return { type: 'system', id: `scim_token:${actor.id}` };
  return { type: actor.type, id: actor.id };
}

/**
 * Compliance staff act for any subject of their tenant: a user holding compliance:write (the
 * compliance role, or a custom role given it), or a scoped key.
 */
export function actsForOthers(actor: PrivacyActor): boolean {
  return (
    actor.type !== 'user' ||
    (actor.role !== undefined &&
      holdsPermission(actor.role, actor.customPermissions, 'compliance:write'))
  );
}

export function requestMeta(actor: PrivacyActor): {
  ip?: string | null;
  userAgent?: string | null;
} {
  return {
    ...(actor.ip !== undefined ? { ip: actor.ip } : {}),
    ...(actor.userAgent !== undefined ? { userAgent: actor.userAgent } : {}),
  };
}
