import type { AuditActor } from '../audit/index.js';

/** Where a change came from, for the audit trail. */
export interface OidcOrigin {
  ip: string | null;
  userAgent: string | null;
}

/** A signed-in user acting in the console (an admin on clients and keys, a user on their apps). */
export interface OidcUserActor {
  userId: string;
  origin: OidcOrigin;
}

export function userAuditOf(actor: OidcUserActor): {
  actor: AuditActor;
  ip: string | null;
  userAgent: string | null;
} {
  return {
    actor: { type: 'user', id: actor.userId },
    ip: actor.origin.ip,
    userAgent: actor.origin.userAgent,
  };
}
