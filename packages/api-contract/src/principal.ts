import type { ResolvedSession } from '@tessera/db';
import type { SessionPrincipal } from './context.js';

/**
 * One principal per cached session. A session the session cache serves keeps one frozen
 * principal for as long as the cache keeps the entry, so what a procedure keeps per principal
 * (`auth.me`'s view of the user and tenant, `keptWithSession`) lives exactly as long as that
 * entry: the cache evicts it on every change announced for that session, user or tenant, and the
 * next request gets a new principal. A session resolved without the cache gets a new principal
 * that keeps nothing.
 */
const principals = new WeakMap<ResolvedSession, SessionPrincipal>();
const cacheBacked = new WeakSet<SessionPrincipal>();

export function sessionPrincipal(session: ResolvedSession, fromCache = false): SessionPrincipal {
  const known = fromCache ? principals.get(session) : undefined;
  if (known) return known;
  const principal: SessionPrincipal = Object.freeze({
    kind: 'session',
    tenantId: session.tenantId,
    userId: session.userId,
    role: session.role,
    sessionId: session.sessionId,
    aal: session.aal,
    mfaVerifiedAt: session.mfaVerifiedAt,
    mfaEnabled: session.mfaEnabled,
    enrollmentOnly: session.enrollmentOnly,
    expiresAt: session.expiresAt,
    ...(session.customRole ? { customRole: session.customRole } : {}),
  });
  if (fromCache) {
    principals.set(session, principal);
    cacheBacked.add(principal);
  }
  return principal;
}

/**
 * `load()` once per cache-backed principal (see above); every time for any other. A failed load
 * is not kept.
 */
export function keptWithSession<T>(
  store: WeakMap<SessionPrincipal, Promise<T>>,
  principal: SessionPrincipal,
  load: () => Promise<T>,
): Promise<T> {
  if (!cacheBacked.has(principal)) return load();
  let kept = store.get(principal);
  if (!kept) {
    kept = load();
    store.set(principal, kept);
    kept.catch(() => store.delete(principal));
  }
  return kept;
}
