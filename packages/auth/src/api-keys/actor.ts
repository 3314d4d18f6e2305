import type { AuditActor } from '../audit/index.js';

/** Where a change came from, for the audit trail (never the key itself). */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}

/**
 * Who changes keys: a signed-in user, or a secret key acting for its tenant. A key may create or
 * rotate keys only with a subset of its own scopes (docs/design.md "Secrets").
 */
export type ApiKeyActor =
  | {
      type: 'user';
      id: string;
      origin?: RequestOrigin;
      /**
       * The scopes this user may hand out: the key scopes among their permissions (docs/roles.md).
       * Omitted: not limited (the owner).
       */
      grantable?: readonly string[];
    }
  | { type: 'api_key'; id: string; scopes: readonly string[]; origin?: RequestOrigin };

export function auditActorOf(actor: ApiKeyActor): AuditActor {
  return { type: actor.type, id: actor.id };
}

export function auditOriginOf(actor: ApiKeyActor): { ip: string | null; userAgent: string | null } {
  return { ip: actor.origin?.ip ?? null, userAgent: actor.origin?.userAgent ?? null };
}
