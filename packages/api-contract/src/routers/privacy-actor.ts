import type { Keyring } from '@tessera/auth';
import type { PrivacyActor } from '@tessera/auth/privacy';
import type { Context, Principal } from '../context.js';

/** The principal as the privacy service sees it (privacy, compliance and webhook routers). */
export function privacyActorOf(principal: Principal, ctx: Pick<Context, 'meta'>): PrivacyActor {
  const origin = { ip: ctx.meta.ip, userAgent: ctx.meta.userAgent };
  return principal.kind === 'session'
    ? {
        type: 'user',
        id: principal.userId,
        role: principal.role,
        customPermissions: principal.customRole?.permissions,
        ...origin,
      }
    : { type: 'api_key', id: principal.keyId, ...origin };
}

export function privacyDepsOf(ctx: Pick<Context, 'services' | 'now'>): {
  keyring: Keyring;
  now: Date;
} {
  return { keyring: ctx.services.accounts.keyring, now: ctx.now() };
}
