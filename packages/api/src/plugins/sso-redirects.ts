/**
 * What the OIDC (sso.ts) and SAML (saml.ts) sign-in routes share: sending the browser back to the
 * console, refusing a flow (its flow cookie cleared, the reason in the query string), finishing a
 * flow (session cookie, or the second-factor challenge cookie), and the per-IP limit on starting
 * and finishing flows.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SsoSignInResult } from '@tessera/auth/sso';
import type { RateLimiter } from '@tessera/auth/rate-limit';
import { setMfaChallengeCookie, setSessionCookie } from './session-cookie.js';

export interface SsoRoutes {
  /** The console's origin (PUBLIC_URL). */
  origin: string;
  flowCookie: string;
  now: () => Date;
}

type CookieOptions = Parameters<FastifyReply['clearCookie']>[1];

export function toConsole(rig: SsoRoutes, reply: FastifyReply, path: string): FastifyReply {
  return reply.header('cache-control', 'no-store').redirect(`${rig.origin}${path}`, 302);
}

export function refuseFlow(
  rig: SsoRoutes,
  reply: FastifyReply,
  cookieOptions: CookieOptions,
  code: string,
): FastifyReply {
  reply.clearCookie(rig.flowCookie, cookieOptions);
  return toConsole(rig, reply, `/sign-in?sso_error=${code}`);
}

/** true when this address has used up `rule` for `bucket`. */
export async function ipLimited(
  rig: SsoRoutes,
  limiter: RateLimiter,
  request: FastifyRequest,
  bucket: string,
  rule: Parameters<RateLimiter['hit']>[1],
): Promise<boolean> {
  const result = await limiter.hit(`${bucket}:ip:${request.ip}`, rule, rig.now().getTime());
  return !result.allowed;
}

/**
 * The end of a flow: refused (or no outcome), a second factor to ask for (docs/design.md "MFA":
 * the challenge travels in a short-lived httpOnly cookie that auth.verifyMfa reads), or a session.
 */
export function finishFlow(
  rig: SsoRoutes,
  reply: FastifyReply,
  cookieOptions: CookieOptions,
  sessionCookie: string,
  outcome: SsoSignInResult | null,
): FastifyReply {
  if (!outcome) return refuseFlow(rig, reply, cookieOptions, 'sso_failed');
  if (outcome.status === 'refused')
    return refuseFlow(
      rig,
      reply,
      cookieOptions,
      outcome.reason === 'no_account' ? 'sso_no_account' : 'sso_failed',
    );
  reply.clearCookie(rig.flowCookie, cookieOptions);
  if (outcome.status === 'mfa_required') {
    setMfaChallengeCookie(reply, sessionCookie, outcome.challengeToken);
    return toConsole(rig, reply, '/sign-in?sso=mfa_required');
  }
  setSessionCookie(reply, sessionCookie, outcome.session.token, outcome.session.expiresAt);
  return toConsole(rig, reply, '/');
}
