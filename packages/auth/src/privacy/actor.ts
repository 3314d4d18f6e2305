import type { UserRole } from '@tessera/db';
import type { AuditActor } from '../audit/record-audit-event.js';

/** Who acts on privacy requests: a signed-in user (with their role) or a secret API key. */
export interface PrivacyActor {
  type: 'user' | 'api_key';
  /** User id or API key id (both uuids). */
  id: string;
  /** The user's role; undefined for API keys. */
  role?: UserRole | undefined;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
}

export function auditActorOf(actor: PrivacyActor): AuditActor {
  return { type: actor.type, id: actor.id };
}

/** Compliance staff act for any subject of their tenant: the compliance role, or a scoped key. */
export function actsForOthers(actor: PrivacyActor): boolean {
  return actor.type === 'api_key' || actor.role === 'compliance';
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
