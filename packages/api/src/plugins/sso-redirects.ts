/**
 * What the OIDC (sso.ts) and SAML (saml.ts) sign-in routes share: sending the browser back to the
 * console, refusing a flow (its flow cookie cleared, the reason in the query string), and the
 * per-IP limit on starting and finishing flows.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimiter } from '@tessera/auth/rate-limit';

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
