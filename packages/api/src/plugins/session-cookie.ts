/**
 * The session cookie (docs/design.md "Public contract"): `tessera_session` on http://localhost,
 * `__Host-tessera_session` elsewhere; httpOnly, Secure, SameSite=Lax, Path=/. The session is
 * accepted from that cookie only, and its lookup goes through the SECURITY DEFINER resolver.
 */
import { hashSessionToken, isWellFormedSessionToken, SessionCache } from '@tessera/auth/sessions';
import { sessionPrincipal, type DeviceCookieJar, type Principal } from '@tessera/api-contract';
import { resolveSession, type Database } from '@tessera/db';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { defaultSessionCache, type SessionCacheSettings } from '../config.js';

export function sessionCookieName(publicUrl: string): string {
  const url = new URL(publicUrl);
  const local =
    url.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '127.0.0.1');
  return local ? 'tessera_session' : '__Host-tessera_session';
}

export function setSessionCookie(
  reply: FastifyReply,
  name: string,
  token: string,
  expiresAt: Date,
): void {
  reply.setCookie(name, token, {
    httpOnly: true,
    secure: true,
    sameSite: 'lax',
    path: '/',
    expires: expiresAt,
  });
}

export function clearSessionCookie(reply: FastifyReply, name: string): void {
  reply.clearCookie(name, { httpOnly: true, secure: true, sameSite: 'lax', path: '/' });
}

/**
 * The remembered-device cookie (docs/mfa-factors.md): named like the session cookie
 * (`tessera_device` on http://localhost, `__Host-tessera_device` elsewhere), same flags, its own
 * long expiry. Only the server reads it: at password sign-in and to mark the current device.
 */
export function deviceCookieName(sessionCookie: string): string {
  return sessionCookie.replace(/session$/, 'device');
}

/**
 * The SSO second-factor challenge cookie (docs/design.md "MFA"): named like the session cookie
 * (`tessera_mfa_challenge` on http://localhost, `__Host-tessera_mfa_challenge` elsewhere), so on a
 * real domain no sibling subdomain or plain-http page can plant one. Only this name is read.
 */
export function mfaChallengeCookieName(sessionCookie: string): string {
  return sessionCookie.replace(/session$/, 'mfa_challenge');
}

/** Five minutes, httpOnly, SameSite=Strict, Path=/ (the __Host- prefix off localhost requires it). */
export function setMfaChallengeCookie(
  reply: FastifyReply,
  sessionCookie: string,
  challengeToken: string,
): void {
  reply.setCookie(mfaChallengeCookieName(sessionCookie), challengeToken, {
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: '/',
    maxAge: 5 * 60,
  });
}

export function deviceCookieJar(
  request: FastifyRequest,
  reply: FastifyReply,
  sessionCookie: string,
): DeviceCookieJar {
  const name = deviceCookieName(sessionCookie);
  return {
    token: request.cookies[name],
    set: (token, expiresAt) => setSessionCookie(reply, name, token, expiresAt),
    clear: () => clearSessionCookie(reply, name),
  };
}

/** `cache`: the LISTEN/NOTIFY-invalidated SessionCache in front of resolve_session (SESSION_CACHE). */
export function sessionResolver(database: Database, cookieName: string, cache?: SessionCache) {
  return async (request: FastifyRequest): Promise<Principal | null> => {
    const token = request.cookies[cookieName];
    if (!token || !isWellFormedSessionToken(token)) return null;
    const tokenHash = hashSessionToken(token);
    const session = cache
      ? await cache.resolve(tokenHash)
      : await resolveSession(database.pool, tokenHash);
    return session ? sessionPrincipal(session, cache !== undefined) : null;
  };
}

/** The process's session cache, or undefined when SESSION_CACHE=off. The principal plugin starts and closes it. */
export function sessionCacheOf(
  database: Database,
  settings: SessionCacheSettings = defaultSessionCache,
  onError?: (error: unknown) => void,
): SessionCache | undefined {
  if (!settings.enabled) return undefined;
  return new SessionCache(database.pool, {
    maxEntries: settings.maxEntries,
    maxAgeMs: settings.maxAgeSeconds * 1000,
    onError,
  });
}
