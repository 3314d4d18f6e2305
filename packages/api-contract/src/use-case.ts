import { API_KEY_SCOPES, type ApiKeyActor } from '@tessera/auth/api-keys';
import { holdsPermission } from '@tessera/auth/roles';
import type { ActorUseCase, UseCase } from '@tessera/auth/context';
import type { Context, Principal, Role, SessionPrincipal } from './context.js';

/** The signed-in user as every use case of @tessera/auth sees them. */
export interface SessionActor {
  tenantId: string;
  userId: string;
  role: Role;
  sessionId: string;
  customPermissions?: readonly string[];
}

/** The one way a router names the signed-in user to the domain. */
export function actorOf(principal: SessionPrincipal): SessionActor {
  return {
    tenantId: principal.tenantId,
    userId: principal.userId,
    role: principal.role,
    sessionId: principal.sessionId,
    ...(principal.customRole ? { customPermissions: principal.customRole.permissions } : {}),
  };
}

/** A use case called before anyone is signed in (sign-in steps): database, services, request, time. */
export function useCaseOf(ctx: Pick<Context, 'db' | 'services' | 'meta' | 'now'>): UseCase {
  return {
    db: ctx.db,
    deps: ctx.services.accounts,
    request: { ip: ctx.meta.ip, userAgent: ctx.meta.userAgent },
    now: ctx.now(),
  };
}

/** A use case called by the signed-in user of a session procedure. */
export function actingUseCaseOf(
  ctx: Pick<Context, 'db' | 'services' | 'meta' | 'now'> & { principal: SessionPrincipal },
): ActorUseCase<SessionActor> {
  return { ...useCaseOf(ctx), actor: actorOf(ctx.principal) };
}

/** Any principal as the audit trail names it: the signed-in user or the secret API key. */
export function auditActorOf(
  principal: Principal,
): { type: 'user'; id: string } | { type: 'api_key'; id: string } {
  return principal.kind === 'session'
    ? { type: 'user', id: principal.userId }
    : { type: 'api_key', id: principal.keyId };
}

/** Any principal as the API-key service sees it: a key also brings its own scopes. */
export function apiKeyActorOf(ctx: Pick<Context, 'meta'> & { principal: Principal }): ApiKeyActor {
  const origin = { ip: ctx.meta.ip, userAgent: ctx.meta.userAgent };
  const p = ctx.principal;
  if (p.kind === 'api_key') return { type: 'api_key', id: p.keyId, scopes: p.scopes, origin };
  // A user hands out only the key scopes among their permissions (docs/roles.md).
  const grantable = API_KEY_SCOPES.filter((scope) =>
    holdsPermission(p.role, p.customRole?.permissions, scope),
  );
  return p.role === 'owner'
    ? { type: 'user', id: p.userId, origin }
    : { type: 'user', id: p.userId, origin, grantable };
}
