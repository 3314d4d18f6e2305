import type { AuditActor } from '../audit/index.js';

/** Where a change came from, for the audit trail. */
export interface ScimOrigin {
  ip: string | null;
  userAgent: string | null;
}

/** The tenant's identity provider, acting through one SCIM token. */
export interface ScimActor {
  tokenId: string;
  origin: ScimOrigin;
}

/** An admin managing SCIM in the console (tokens, settings, group roles). */
export interface ScimAdmin {
  userId: string;
  origin: ScimOrigin;
}

/**
 * A directory change is made by no user: the audit row names the system actor as
 * `scim_token:<id>`, so an admin can trace (and filter) every change back to the token that made it.
 */
export function scimAuditOf(actor: ScimActor): {
  actor: AuditActor;
  ip: string | null;
  userAgent: string | null;
  metadata: { via: 'scim'; scimTokenId: string };
} {
  return {
    actor: { type: 'system', id: `scim_token:${actor.tokenId}` },
    ip: actor.origin.ip,
    userAgent: actor.origin.userAgent,
    metadata: { via: 'scim', scimTokenId: actor.tokenId },
  };
}

export function adminAuditOf(admin: ScimAdmin): {
  actor: AuditActor;
  ip: string | null;
  userAgent: string | null;
} {
  return {
    actor: { type: 'user', id: admin.userId },
    ip: admin.origin.ip,
    userAgent: admin.origin.userAgent,
  };
}
